"""Every Japanese word a parent reads on LINE, besides the answers themselves.

Answers are worded by ``knowledge.answers.wording`` (the same for every channel); what is said here is
LINE's own: the welcome, the setup questions, commands, and the labels of buttons. A ward can
reword them in this one place. Labels of quick replies and buttons stay within LINE's 20
characters; ``handlers.line.render`` cuts anything longer that comes from the base. What a parent
types is looked up among the commands below through ``typed_key``.
"""

from knowledge.lang.text import nfkc

WELCOME = (
    "友だち追加ありがとうございます。\n"
    "子育てのイベントや支援拠点、手続きのことを、いつでもLINEでお答えします。"
    "「今週のイベント」「赤ちゃんサロンはいつ？」のように送ってください。"
)
ASK_CITY = "はじめに、お住まいの市を選んでください。"
ASK_AREA = "お住まいの区(または市)を選んでください。その地域の情報を優先してお答えします。"
ASK_AREA_OF_CITY = "{city}のどの区にお住まいですか？"
AREA_SET = "お住まいの地域を「{area}」にしました。"
ASK_CHILD = (
    "よろしければ、お子さんの生年月日(または出産予定日)を教えてください。"
    "年齢に合うイベントをお知らせします。保存するのは年と月だけです。"
)
CHILD_SET_BIRTH = "お子さんの生まれ月を{year}年{month}月にしました。"
CHILD_SET_DUE = "出産予定月を{year}年{month}月にしました。"
CHILD_BAD_DATE = "その日付は受け付けられませんでした。もう一度選ぶか、「スキップ」を押してください。"
CHILD_SKIPPED = "お子さんの年齢の登録はスキップしました。あとで「設定」と送れば登録できます。"
SETUP_DONE = "設定は以上です。知りたいことを送ってください。変更は「設定」と送るといつでもできます。"
SETUP_NOW = "いまの設定：地域 {area}／お子さん {child}／週1回のお知らせ {digest}"
CHILD_NONE = "未登録"
CHILD_BIRTH = "{year}年{month}月生まれ"
CHILD_DUE = "{year}年{month}月出産予定"
DIGEST_ON_WORD = "受け取る"
DIGEST_OFF_WORD = "停止中"
AREA_UNSET = "未設定"
NO_AREAS = "地域の情報がまだ登録されていません。区役所の子育て支援の窓口にお問い合わせください。"
SUGGEST_SETUP = "お住まいの区を選ぶと、その区の情報でお答えします。"

DIGEST_STOPPED = "週1回のイベントのお知らせを停止しました。再開するときは「配信再開」と送ってください。"
DIGEST_RESUMED = "週1回のイベントのお知らせを再開しました。停止するときは「配信停止」と送ってください。"
DIGEST_NEEDS_AREA = "お知らせには地域の設定が必要です。お住まいの区を選んでください。"

HELP = (
    "このアカウントでは、子育てに関する情報をお答えします。\n"
    "・イベント：「今週のイベント」「来週の土曜に行ける催しは？」\n"
    "・場所：「近くの拠点」と送って位置情報を送ると、近くの子育て支援拠点をご案内します\n"
    "・手続きや制度：「児童手当の申請方法は？」\n"
    "・設定：「設定」でお住まいの区やお子さんの生まれ月を変更できます\n"
    "・お知らせ：毎週のイベント情報は「配信停止」「配信再開」で切り替えられます\n"
    "お答えできないときは、区役所の窓口をご案内します。"
)
GROUP_HINT = (
    "招待ありがとうございます。このアカウントは1対1のトークで、子育てのイベントや手続きのご質問にお答えします。"
    "友だち追加して、個別にメッセージを送ってください。"
)
UNSUPPORTED = (
    "ありがとうございます。画像やスタンプには、まだお答えできません。"
    "知りたいことを文字で送ってください(例：「今週のイベント」)。「ヘルプ」で使い方をご案内します。"
)
ASK_LOCATION = "下の「位置情報を送る」から現在地を送ると、近くの子育て支援拠点をご案内します。"
NEAREST_HEAD = "近くの子育て支援拠点です(直線距離)。"
NO_NEAR_BASE = "近く(30km以内)に登録された拠点は見つかりませんでした。"
NO_COORDINATES = "拠点の位置情報がまだ登録されていないため、距離ではご案内できません。"
AREA_BASES = "{area}の拠点です。"
NO_BASES = "拠点の情報がまだ登録されていません。"
FAQ_HEAD = "よくある質問の分野です。知りたい分野を選ぶか、知りたいことをそのまま送ってください。"
FAQ_NONE = "知りたいことをそのまま送ってください。例：「予防接種の受け方」「保育園の申し込み」"
BAD_LOCATION = "位置情報を読み取れませんでした。もう一度送ってください。"

# commands a parent can type (the rich menu sends the same words)
CMD_SETUP = ("設定", "せってい", "設定変更")
CMD_HELP = ("ヘルプ", "へるぷ", "使い方", "help", "使いかた")
CMD_STOP = ("配信停止", "お知らせ停止", "通知停止")
CMD_RESUME = ("配信再開", "お知らせ再開", "通知再開")
CMD_NEAR = ("近くの拠点", "近くの子育て支援拠点", "近くの施設")
CMD_FAQ = ("よくある質問", "FAQ", "faq")
SKIP_WORDS = ("スキップ", "すきっぷ", "skip", "あとで", "後で")  # at the child step: as スキップ is tapped

# quick replies and buttons (≤ 20 characters each)
QR_THIS_WEEK = "今週のイベント"
QR_NEXT_WEEK = "来週のイベント"
QR_NEAR = "近くの拠点"
QR_SETUP = "設定"
QR_SEND_LOCATION = "位置情報を送る"
QR_BIRTH = "生年月日を選ぶ"
QR_DUE = "出産予定日を選ぶ"
QR_SKIP = "スキップ"
QR_MORE_AREAS = "次の候補"
QR_OTHER_CITY = "ほかの市"
BTN_DETAILS = "くわしく"
BTN_MAP = "地図を見る"
BTN_CALL = "電話する"
MORE_EVENTS = "ほかに{count}件あります"
MORE_EVENTS_HINT = "下のボタンで、すべての予定を文字の一覧で見られます。"
BTN_ALL_EVENTS = "すべて見る"
DEMO_NOTE = "デモ用のサンプルです"
KM = "約{km}km"
M = "約{m}m"
WHEN = "日時"
PLACE = "場所"
WHO = "対象"
ADDRESS = "住所"
HOURS = "時間"
PHONE = "電話"


def typed_key(text: str) -> str:
    """A typed text as the commands and ``SKIP_WORDS`` are looked up by it: width, spaces, case
    and a closing 。 or ！ make no difference, so 「設定。」 is 設定 and 「Ｓｋｉｐ」 is skip."""
    return "".join(nfkc(text).split()).lower().rstrip("。.!！")
