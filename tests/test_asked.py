"""Answer what was asked (issue 26): the detail a question asks for (料金, 申し込み, 持ち物,
問い合わせ …) is read from it, the reply leads with it when the record holds it, and says plainly
that it does not hold it (and whom to ask) when not. Events keep what the standard layout says
about applying, show it, export it and keep it through staff edits."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from handlers.line import render as line_render
from handlers.slack import render as slack_render
from knowledge import ask, open_db
from knowledge.answers.ask import understand
from knowledge.importers import import_file
from knowledge.importers.export import export_events
from knowledge.importers.opendata_common import EVENTS_NEW_COLUMNS, EVENTS_OLD_COLUMNS
from knowledge.staff import events
from knowledge.store.db import bump_version

TODAY = date(2026, 12, 7)
LEAD = 120  # as ../shared/eval/score.py reads a reply's lead


def lead(text: str) -> str:
    return "".join(text.split())[:LEAD]


def body_after_title(text: str) -> str:
    return text.split("\n", 1)[1]


# --- the asked detail, read from the question ------------------------------------------------


@pytest.mark.parametrize(
    "question, intent",
    [
        ("赤ちゃんサロンの料金はいくら？", "fee"),
        ("パパとあそぼうって無料？", "fee"),
        ("ばあばの会は有料ですか", "fee"),
        ("お金はかかる？参加費は？", "fee"),
        ("沐浴体験の費用", "fee"),
        ("リサイクルマーケットは申し込みが必要ですか", "apply"),
        ("沐浴体験は予約がいる？", "apply"),
        ("申込の方法を教えて", "apply"),
        ("事前登録はありますか", "apply"),
        ("ぷれパパぷれママ講座にはどうやって参加するの", "apply"),
        ("応募したい", "apply"),
        ("申し込みはいつから？", "apply"),  # when applications open, not when it is held
        ("持ち物は？", "bring"),
        ("何を持っていけばいい？", "bring"),
        ("はんどめいどくらぶの問い合わせ先", "contact"),
        ("電話番号を教えて", "contact"),
        ("連絡先はどこ？", "contact"),  # whom to ask, not where it is held
        ("赤ちゃんサロンはいつ？", "when"),
        ("赤ちゃんサロンはどこ？", "where"),
        ("どこで開かれますか", "where"),
        ("何歳から参加できる？", "audience"),
        ("居場所づくりの進捗は", "progress"),
        ("どこが運営していますか", "operator"),
        ("赤ちゃんサロン", None),
        ("拠点の数はいくつ", "count"),  # いくつ is a count, いくら a fee
    ],
)
def test_the_asked_detail_is_read_from_varied_phrasings(demo_db, question, intent):
    assert understand(demo_db, question, "横浜市旭区", TODAY).intent == intent


# --- what the events importer keeps ----------------------------------------------------------


def test_the_demo_events_keep_how_to_apply(demo_db):
    rows = {
        r["title"]: r
        for r in demo_db.query("SELECT title, how_to_apply, fee FROM activities WHERE source LIKE 'events:%'")
    }
    assert rows["赤ちゃんサロン"]["how_to_apply"] == "申込不要（直接お越しください）"
    assert rows["パパとあそぼう"]["how_to_apply"] == "電話または窓口で予約"
    assert rows["ピアサポート交流会"]["how_to_apply"] == "申込不要（直接お越しください）"  # weekly_events.csv
    assert all(r["how_to_apply"] for r in rows.values())


def standard_csv(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


APPLYING_ROW = {
    "全国地方公共団体コード": "271446",
    "ID": "271446EV0001",
    "地方公共団体名": "大阪府堺市西区",
    "イベント名": "親子クッキング教室",
    "開始日": "2026/12/20",
    "開始時間": "10:00",
    "終了時間": "12:00",
    "説明": "親子でクッキーを作ります。エプロンと三角巾をお持ちください。",
    "料金(基本)": "300円",
    "料金(詳細)": "材料費",
    "連絡先名称": "西区子育て支援課",
    "連絡先電話番号": "072-275-0000",
    "対象者": "4歳から6歳の親子",
    "場所名称": "西区役所 2階 調理室",
    "定員": "10組",
    "定員備考": "先着順",
    "参加申込方法": "電話で西区子育て支援課へ",
    "申込開始日": "2026/12/1",
    "申込開始時刻": "9:00",
    "参加申込終了日": "2026/12/15",
    "参加申込終了時間": "17:00",
    "申込URL": "https://example.jp/apply/cooking",
}


@pytest.fixture
def cooking(tmp_path):
    """A base holding one event in the newer standard layout that states how to apply."""
    db = open_db(tmp_path / "cooking.db")
    path = tmp_path / "271446_event.csv"
    path.write_text(standard_csv(EVENTS_NEW_COLUMNS, [APPLYING_ROW]), encoding="utf-8")
    assert not import_file(db, path).errors
    yield db
    db.close()


def cooking_row(db) -> dict:
    [row] = db.query("SELECT * FROM activities WHERE title = '親子クッキング教室'")
    return row


def test_the_newer_layout_keeps_what_it_says_about_applying(cooking):
    row = cooking_row(cooking)
    assert row["how_to_apply"] == "電話で西区子育て支援課へ"
    assert (row["apply_start"], row["apply_start_time"]) == ("2026-12-01", "09:00")
    assert (row["apply_end"], row["apply_end_time"]) == ("2026-12-15", "17:00")
    assert row["apply_url"] == "https://example.jp/apply/cooking"
    assert row["capacity"] == "10組 / 先着順"
    assert row["fee"] == "300円 / 材料費"


def test_the_older_layout_keeps_its_applying_columns_and_a_deadline_in_words(tmp_path):
    db = open_db(tmp_path / "old.db")
    row = {
        "都道府県コード又は市区町村コード": "271446",
        "NO": "1",
        "都道府県名": "大阪府",
        "市区町村名": "堺市西区",
        "イベント名": "赤ちゃん広場",
        "開始日": "2026/12/10",
        "定員": "15組",
        "参加申込終了日": "定員になり次第締切",
        "参加申込方法": "窓口で受付",
    }
    path = tmp_path / "271446_event_old.csv"
    path.write_text(standard_csv(EVENTS_OLD_COLUMNS, [row]), encoding="utf-8")
    report = import_file(db, path)
    assert not report.errors, report.errors
    [kept] = db.query("SELECT how_to_apply, capacity, apply_end FROM activities")
    assert kept == {"how_to_apply": "窓口で受付", "capacity": "15組", "apply_end": "定員になり次第締切"}
    answer = ask(db, "赤ちゃん広場の申し込み方法", area="堺市西区", today=TODAY, log=False)
    assert "申し込み：窓口で受付（定員になり次第締切まで）" in answer.text


def test_the_export_writes_applying_back_and_the_round_trip_keeps_it(cooking, tmp_path):
    out = tmp_path / "export.csv"
    export_events(cooking, out)
    with open(out, encoding="utf-8-sig", newline="") as f:
        [written] = list(csv.DictReader(f))
    assert written["参加申込方法"] == "電話で西区子育て支援課へ"
    assert (written["申込開始日"], written["申込開始時刻"]) == ("2026/12/01", "09:00")
    assert (written["参加申込終了日"], written["参加申込終了時間"]) == ("2026/12/15", "17:00")
    assert (written["申込URL"], written["定員"]) == ("https://example.jp/apply/cooking", "10組 / 先着順")
    again = open_db(tmp_path / "again.db")
    assert not import_file(again, out).errors
    keys = ("how_to_apply", "apply_start", "apply_start_time", "apply_end", "apply_end_time", "apply_url", "capacity")
    first, second = cooking_row(cooking), cooking_row(again)
    assert {k: second[k] for k in keys} == {k: first[k] for k in keys}


def test_a_staff_edit_keeps_what_an_import_said_about_applying(cooking):
    event_id = cooking_row(cooking)["id"]
    inp = events.as_input(cooking, event_id)
    inp.fee = "500円"
    inp.how_to_apply = "電話またはメールで"
    row = events.edit(cooking, event_id, inp, actor="slack:U1", today=TODAY)
    assert (row["fee"], row["how_to_apply"], row["capacity"]) == ("500円", "電話またはメールで", "10組 / 先着順")
    assert (row["apply_start"], row["apply_end"], row["apply_url"]) == (
        "2026-12-01",
        "2026-12-15",
        "https://example.jp/apply/cooking",
    )
    assert "定員" not in (row["description"] or "")  # the fields are shown as fields, not repeated


# --- the reply leads with it -----------------------------------------------------------------


@pytest.mark.parametrize(
    "question, first",
    [
        ("親子クッキング教室の参加費はいくら？", "参加費：300円 / 材料費"),
        (
            "親子クッキング教室はどうやって申し込むの",
            "申し込み：電話で西区子育て支援課へ（2026年12月1日 09:00から2026年12月15日 17:00まで）",
        ),
        ("親子クッキング教室の問い合わせ先", "問い合わせ：西区子育て支援課 072-275-0000"),
        ("親子クッキング教室の持ち物", "エプロンと三角巾をお持ちください。"),
        ("親子クッキング教室はどこでやるの", "場所：西区役所 2階 調理室"),
        ("親子クッキング教室は何歳から", "対象：4歳から6歳の親子"),
    ],
)
def test_the_reply_leads_with_the_asked_field_the_record_holds(cooking, question, first):
    answer = ask(cooking, question, area="堺市西区", today=TODAY, log=False)
    assert answer.answered and answer.items[0].title == "親子クッキング教室"
    assert answer.text.splitlines()[1] == first
    assert answer.items[0].lines[0] == first  # a card of it leads the same way


def test_applying_shows_in_every_reply_about_the_event(cooking):
    answer = ask(cooking, "親子クッキング教室", area="堺市西区", today=TODAY, log=False)
    assert "申し込み：電話で西区子育て支援課へ" in answer.text
    assert "定員：10組 / 先着順" in answer.text and "申し込みページ：https://example.jp/apply/cooking" in answer.text


@pytest.mark.parametrize(
    "question, detail, lead_words",
    [
        ("リサイクルマーケットは申し込みが必要ですか", "申し込み", "申込不要"),
        ("パパとあそぼうの予約はどうやるの", "申し込み", "電話または窓口で予約"),
        ("外国人の親子あつまれは無料？", "参加費", "無料"),
        ("ぷれパパぷれママ講座の問い合わせ先", "問い合わせ", "旭区地域子育て支援拠点"),
    ],
)
def test_the_demo_events_lead_with_fee_apply_and_contact(demo_db, question, detail, lead_words):
    answer = ask(demo_db, question, area="横浜市旭区", today=TODAY, log=False)
    assert answer.answered
    second = answer.text.splitlines()[1]
    assert second.startswith(detail) and lead_words in second


def test_a_detail_not_held_is_said_with_whom_to_ask_and_no_sentence_of_the_body(demo_db):
    answer = ask(demo_db, "ばあばの会の持ち物は？", area="横浜市旭区", today=TODAY, log=False)
    assert answer.answered and answer.items[0].title == "ばあばの会"
    second = answer.text.splitlines()[1]
    assert "持ち物" in second and "載っていません" in second
    assert "旭区地域子育て支援拠点にお問い合わせください" in second  # the event's own contact
    description = demo_db["activities"].get(answer.items[0].id)["description"]
    assert description.split("。")[0] not in answer.text


def test_a_fee_a_program_does_not_state_gets_the_wards_contact_not_an_evaluation(demo_db):
    """ファミサポの料金はいくら？ once answered with a sentence evaluating the program."""
    answer = ask(demo_db, "子育てサポートシステムの料金はいくら？", area="横浜市旭区", today=TODAY, log=False)
    assert answer.answered
    best = answer.items[0]
    second = answer.text.splitlines()[1]
    assert second.startswith("料金は") and "載っていません" in second
    assert "旭区役所こども家庭支援課" in lead(body_after_title(answer.text))
    table = {"activity": "activities", "event": "activities", "program": "programs", "base": "bases"}[best.kind]
    row = demo_db[table].get(best.id)
    for key in ("description", "situation", "purpose", "content"):
        for sentence in (row.get(key) or "").split("。"):
            if len(sentence) > 10:  # no sentence of its text stands in for the fee
                assert sentence not in answer.text, sentence


def test_a_contact_not_held_leads_with_the_wards(demo_db):
    answer = ask(demo_db, "旭区地域子育て支援拠点の電話番号", area="横浜市旭区", today=TODAY, log=False)
    assert answer.answered and answer.items[0].kind == "base"
    assert "載っていません" in answer.text.splitlines()[1]
    assert "旭区役所こども家庭支援課" in lead(answer.text)


def test_a_held_phone_leads_a_bases_reply(demo_db):
    with demo_db.conn:
        demo_db["bases"].update("base-f493b019798e", {"phone": "045-000-0000"})
        bump_version(demo_db)
    answer = ask(demo_db, "旭区地域子育て支援拠点の電話番号", area="横浜市旭区", today=TODAY, log=False)
    assert answer.items[0].id == "base-f493b019798e"
    assert answer.text.splitlines()[1] == "電話：045-000-0000"


# --- channels show the lead ------------------------------------------------------------------


def test_line_and_slack_show_the_lead(demo_db):
    answer = ask(demo_db, "パパとあそぼうの申し込みはどうやるの？", area="横浜市旭区", today=TODAY, log=False)
    [message] = line_render.answer_messages(answer)[:1]
    assert message.text.splitlines()[1].startswith("申し込み：電話または窓口で予約")
    slack = json.dumps(slack_render.answer_message(answer, "q", "横浜市旭区"), ensure_ascii=False)
    assert "申し込み：電話または窓口で予約" in slack


def test_a_line_card_shows_the_fee_and_how_to_apply(demo_db):
    """Events asked about in general are answered in text; activities and bases get cards, whose
    lines are the answer's: what an activity states about its fee and applying is on its card."""
    answer = ask(demo_db, "子育てサポートシステム事業", area="横浜市旭区", today=TODAY, log=False)
    best = answer.items[0]
    assert best.kind == "activity"
    with demo_db.conn:
        demo_db["activities"].update(best.id, {"fee": "1時間800円", "how_to_apply": "事前に会員登録"})
        bump_version(demo_db)
    answer = ask(demo_db, "子育てサポートシステム事業", area="横浜市旭区", today=TODAY, log=False)
    [flex] = line_render.answer_messages(answer)[:1]
    bubble = flex.contents.contents[0].to_dict()
    lines = [line["text"] for line in bubble["body"]["contents"]]
    assert "料金：1時間800円" in lines and "申し込み：事前に会員登録" in lines


def test_older_staff_events_lose_the_lines_that_repeated_their_fields(tmp_path):
    """Staff events once wrote 定員：/申込： into their description; m013 takes those lines out
    where the row holds the fields themselves (replies show them as fields now)."""
    from knowledge.store.schema import m013_applying

    db = open_db(tmp_path / "old_staff.db")
    with db.conn:
        db["activities"].insert(
            {
                "id": "event-staff-000000000001",
                "title": "クリスマス会",
                "kind": "event",
                "area": "堺市西区",
                "description": "歌と手あそびの会です。\n定員：15組\n申込：電話で西区役所へ",
                "capacity": "15組",
                "how_to_apply": "電話で西区役所へ",
                "source": "staff",
            }
        )
        m013_applying(db)  # applied again: it only takes out lines, and keeps its columns
    assert db["activities"].get("event-staff-000000000001")["description"] == "歌と手あそびの会です。"
