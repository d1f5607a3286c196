"""Every Japanese word staff read in Slack, in one place, so a ward can change them without
hunting through the listeners.

Field error codes come from ``knowledge.store.audit.Invalid`` (``empty``, ``date`` …); ``FIELD_ERRORS``
words them per field, ``ERRORS`` is the fallback per code.
"""

from __future__ import annotations

from knowledge.staff.progress import MAX_TEXT as PROGRESS_MAX_TEXT

COMMAND = "/kosodate"

REFUSED = "このコマンドは子育て支援の担当職員だけが使えます。担当の方は管理者に登録を依頼してください。"
NO_WARD = "このチャンネルには担当の区が設定されていません。区のスタッフ用チャンネルでお使いください。"
FAILED = "処理中にエラーが起きました。入力内容は保存されていません。少し時間をおいてもう一度お試しください。"
NO_BASE = "ボットのデータがまだ用意されていないため、いまは使えません。管理者にデータの取り込みを依頼してください。"
MODAL_FAILED = "入力画面を開けませんでした。もう一度コマンドを実行してください。"
UNKNOWN_SUBCOMMAND = "「{sub}」という使い方はありません。できることは次のとおりです。"
ASK_EMPTY = "質問を入れてください。例：`/kosodate ask 赤ちゃんサロンはいつ？`"
ANSWER_HEADER = "保護者が「{question}」と聞くと、次のように答えます（{ward}）："
ANSWER_NOT_ANSWERED = "（回答できない質問として扱われます）"
LISTING_MORE = "ほかに{n}件あります。"

HELP_TITLE = "`/kosodate` の使い方"
HELP = [
    (
        "progress <事業名> <前期|中期|後期> <内容>",
        "事業の進捗を登録します。事業名は略称でも構いません。引数がないときや事業が絞れないときは入力画面が開きます。",
        "/kosodate progress 居場所 後期 第3回研究会を2月に開催、12団体が参加",
    ),
    (
        "event [add | edit <催し名> | cancel <催し名>]",
        "催しを追加・修正・中止します（入力画面が開きます）。中止した催しは一覧に出なくなり、名前で聞かれると「中止」と答えます。",
        "/kosodate event cancel クリスマス会",
    ),
    (
        "sheet <事業名> [export [csv]]",
        "事業の重要取組シート（期ごとのスケジュールと進捗）を表示します。export を付けるとファイル（Markdown または CSV）でチャンネルに共有します。",
        "/kosodate sheet 居場所 export csv",
    ),
    (
        "ask <質問>",
        "このチャンネルの区の保護者が受け取る答えと同じものを表示します。",
        "/kosodate ask 今週のイベントは？",
    ),
    (
        "unanswered",
        "答えられなかった保護者の質問を似たものごとにまとめて表示します。ボタンから回答を書くと、すぐにFAQとして使われます。",
        "/kosodate unanswered",
    ),
    (
        "digest [<月齢>|妊娠中] [YYYY-MM-DD]",
        "このチャンネルの区の保護者に届く週1回のお知らせ（次の月曜から7日間）を、送る前に確かめられます。月齢は数字で（例：4）。",
        "/kosodate digest 4",
    ),
    ("audit", "最近の変更記録（だれが・いつ・何を・変更前後）を表示します。", "/kosodate audit"),
    ("help", "この説明を表示します。", "/kosodate help"),
]

# digest preview
DIGEST_USAGE = (
    "使い方：`/kosodate digest [月齢|妊娠中] [週の初めの月曜日 YYYY-MM-DD]`（例：`/kosodate digest 4 2026-12-07`）"
)
DIGEST_NO_WARD = "このチャンネルには区が設定されていません（SLACK_STAFF_CHANNELS）。"
DIGEST_HEADER = "{who}保護者に届く週1回のお知らせ："
DIGEST_WHO_ANY = "お子さんの月齢を登録していない"
DIGEST_WHO_MONTHS = "生後{months}か月のお子さんの"
DIGEST_WHO_EXPECTING = "出産を控えた"
DIGEST_EMPTY = "（この週は対象のイベントがないため、お知らせは送りません）"

# progress
PROGRESS_MODAL_TITLE = "進捗の登録"
PROGRESS_PROGRAM = "事業"
PROGRESS_PERIOD = "期"
PROGRESS_TEXT = "進捗の内容"
PROGRESS_AMBIGUOUS = "「{name}」に当てはまる事業が複数あります。選んでください。"
PROGRESS_NOT_FOUND = "「{name}」という事業は見つかりませんでした。一覧から選んでください。"
PROGRESS_GUESS = "「{name}」は「{title}」のことでしょうか。選んでおきましたので、確かめてから登録してください。"
PROGRESS_LABELS = {"program": "事業", "period": "期", "text": "進捗の内容"}
PROGRESS_MORE = "ほかに{n}件の進捗があります（新しい順に表示しています）。すべては `/kosodate sheet` で見られます。"
PROGRESS_NO_PROGRAMS = "登録されている事業がありません。先に重要取組シートを取り込んでください。"
PROGRESS_SAVED = "「{program}」の{period}の進捗を登録しました。"
PROGRESS_SCHEDULE = "*{period}のスケジュール*"
PROGRESS_ENTRIES = "*{period}の進捗*"
PROGRESS_NO_SCHEDULE = "（この期のスケジュールはありません）"
REPORT_PROGRESS = "<@{user}> さんが「{program}」の{period}の進捗を登録しました：{text}"

# sheet
SHEET_EMPTY_NAME = "事業名を入れてください。例：`/kosodate sheet 居場所`"
SHEET_AMBIGUOUS = "「{name}」に当てはまる事業が複数あります。正式な名前で指定してください："
SHEET_NOT_FOUND = "「{name}」という事業は見つかりませんでした。"
SHEET_TITLE = "重要取組シート：{title}"
SHEET_SCHEDULE = "スケジュール"
SHEET_PROGRESS = "進捗の状況"
SHEET_NONE = "（なし）"
SHEET_NO_PROGRESS = "（まだ報告はありません）"
SHEET_MORE = (
    "ほかに{n}件あります（表示しきれません）。すべては `/kosodate sheet {program} export` のファイルで見られます。"
)
SHEET_NEWEST_FIRST = "（新しい順）"
SHEET_EXPORTED = "「{title}」のシートをファイルでこのチャンネルに共有しました。"
SHEET_EXPORT_COMMENT = "重要取組シート：{title}（{when}時点）"
STATUS = {"done": "実施済", "planned": "予定"}

# unanswered
UNANSWERED_NONE = "答えられなかった質問は今のところありません。"
UNANSWERED_HEADER = "答えられなかった保護者の質問（{ward}・似たものをまとめています）："
UNANSWERED_GROUP = "*{text}*（{count}件）"
UNANSWERED_ALSO = "ほかの言い方：{texts}"
UNANSWERED_BUTTON = "回答を書く"
FAQ_MODAL_TITLE = "FAQの追加"
FAQ_QUESTION = "質問"
FAQ_ANSWER = "回答"
FAQ_WORDS = "保護者が使った言葉（任意）"
FAQ_WORDS_HINT = "保護者が使いそうな言い方を「、」で区切って書くと、その言葉でも見つかるようになります。"
FAQ_SAVED = "FAQ「{question}」を{ward}に追加しました。次に保護者が聞いたときから、この回答が使われます。"
REPORT_FAQ = "<@{user}> さんが{ward}のFAQ「{question}」を追加しました。"

# events
EVENT_MODAL_ADD = "催しの追加"
EVENT_MODAL_EDIT = "催しの修正"
EVENT_MODAL_CANCEL = "催しの中止"
EVENT_FIELDS = {
    "title": "催しの名前",
    "day": "開催日",
    "start_time": "開始時刻",
    "end_time": "終了時刻",
    "recurrence": "くり返し（例：毎週水曜日、毎月第2火曜日）",
    "base": "拠点",
    "place": "場所",
    "ages": "対象（例：1歳から3歳の親子、妊娠中の方）",
    "capacity": "定員",
    "fee": "料金",
    "how_to_apply": "申込方法",
    "description": "内容",
}
EVENT_WHEN_HINT = "開催日か、くり返しのどちらかを入れてください。"
EVENT_EMPTY_NAME = "催しの名前を入れてください。例：`/kosodate event cancel クリスマス会`"
EVENT_CHOOSE = "「{name}」に当てはまる催しです。選んでください："
EVENT_NOT_FOUND = "「{name}」という催しは{ward}に見つかりませんでした。"
EVENT_EDIT_BUTTON = "修正する"
EVENT_CANCEL_BUTTON = "中止にする"
EVENT_CANCEL_CONFIRM = "「{title}」を中止にします。保護者向けの一覧から外れ、名前で聞かれると「中止になりました」と答えます。よろしいですか？"
EVENT_PAST = "\n※ 開催日が過ぎた日付になっています。まちがいでなければそのままで構いません。"
EVENT_DATES_NOTE = (
    "この催しには開催日が{n}日あります。開催日を空けたままにすると、今の{n}日がそのまま残ります"
    "（時刻を変えると、すべての日の時刻が変わります）。開催日を選ぶと、{n}日すべてがその1日に置き換わります。"
)
EVENT_SAVED = {
    "add": "催し「{title}」を追加しました。",
    "edit": "催し「{title}」を修正しました。",
    "cancel": "催し「{title}」を中止にしました。",
}
REPORT_EVENT = {
    "add": "<@{user}> さんが{ward}の催し「{title}」を追加しました。",
    "edit": "<@{user}> さんが{ward}の催し「{title}」を修正しました。",
    "cancel": "<@{user}> さんが{ward}の催し「{title}」を中止にしました。",
}

# modal buttons
SUBMIT = "登録する"
CLOSE = "閉じる"

# audit
AUDIT_NONE = "変更の記録はまだありません。"
AUDIT_HEADER = "最近の変更（{ward}）："
AUDIT_LINE = "{at}　<@{user}>　{action}　{target}"
AUDIT_FIELDS = {
    "title": "名前",
    "question": "質問",
    "answer": "回答",
    "service_name": "保護者の言葉",
    "text": "内容",
    "period": "期",
    "status": "状態",
    "place": "場所",
    "ages": "対象",
    "fee": "料金",
    "capacity": "定員",
    "how_to_apply": "申込方法",
    "description": "説明",
    "start_time": "開始",
    "end_time": "終了",
    "frequency": "くり返し",
    "occurrences": "開催日",
    "day": "開催日",
    "posted_by": "登録者",
    "unanswered_ids": "答えた質問",
}
AUDIT_STATUS = {"cancelled": "中止"}
AUDIT_DATES = "{first}ほか{n}日"
AUDIT_QUESTIONS = "{n}件"
AUDIT_CHANGE = "変更前：{before}\n変更後：{after}"
ACTIONS = {
    "progress.add": "進捗の登録",
    "faq.add": "FAQの追加",
    "event.add": "催しの追加",
    "event.edit": "催しの修正",
    "event.cancel": "催しの中止",
}
ALL_WARDS = "すべての区"

# a write outside the staff member's wards (checked when it is applied)
OUT_OF_WARD = "{area}の内容は、このチャンネルからは登録・変更できません。担当の区のチャンネルから操作してください。"
OUT_OF_WARD_EVERY = "すべての区に向けた内容は、全区の担当として登録された職員だけが登録・変更できます。"
NOTHING_CHANGED = "何も変更していません。"

# field errors (modal response_action: errors)
ERRORS = {
    "empty": "入力してください。",
    "too_long": "長すぎます。短くしてください。",
    "date": "正しい日付を選んでください。",
    "time": "時刻は 10:30 のように入れてください。",
    "end_before_start": "終了時刻は開始時刻より後にしてください。",
    "recurrence": "くり返しが読み取れません。「毎週水曜日」「毎月第2火曜日」のように書いてください。",
    "when": "開催日か、くり返しのどちらかを入れてください。",
    "period": "前期・中期・後期から選んでください。",
    "unknown": "見つかりません。選び直してください。",
    "refused": "この操作は担当職員だけができます。",
    "no_dates": "このくり返しでは、これから1年のあいだに開催日がありません。書き方を確かめてください。",
    "ages": "対象が読み取れません。「1歳から3歳の親子」「妊娠中の方」「どなたでも」のように書いてください。",
    "ages_reversed": "対象の年齢が逆になっています。「1歳から3歳」のように小さい方から書いてください。",
}
FIELD_ERRORS = {
    ("program", "empty"): "事業を選んでください。",
    ("period", "period"): "期を選んでください。",
    ("text", "too_long"): f"進捗の内容は{PROGRESS_MAX_TEXT:,}文字までです。短くしてください。",
}


def field_error(field: str, code: str) -> str:
    return FIELD_ERRORS.get((field, code)) or ERRORS.get(code) or ERRORS["empty"]


def out_of_ward(area: str | None) -> str:
    """Why a write was refused: ``area`` is the ward (or city) it would have touched, None for
    every ward at once."""
    return OUT_OF_WARD.format(area=area) if area else OUT_OF_WARD_EVERY


def invalid_text(errors: dict[str, str], labels: dict[str, str]) -> str:
    """Field errors as one message for a slash command's reply (nothing was saved)."""
    lines = [f"・{labels.get(f, f)}：{field_error(f, code)}" for f, code in errors.items()]
    return "保存できませんでした。次の点を直してください。\n" + "\n".join(lines)
