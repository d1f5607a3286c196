"""The review of the Slack staff channel: each defect it reproduced, asserted fixed.

Through Flask's test client with Slack-signed requests against the fake Slack (``slack_fake``),
or on the ``knowledge`` functions the listeners call.
"""

from __future__ import annotations

import json
import pathlib
import threading
import time
from datetime import datetime, timedelta

import pytest
from slack_fake import (  # noqa: F401  (fixtures)
    ASAHI_CHANNEL,
    MIHARA_CHANNEL,
    PUBLIC_CHANNEL,
    REPORT_CHANNEL,
    STAFF_USER,
    Slack,
    SlackFake,
    base,
    base_path,
    fake,
    slack,
    slack_config,
)

from handlers.slack import modals, render, words
from knowledge import open_db
from knowledge.importers import import_file
from knowledge.lang import clock
from knowledge.staff import events, faqs
from knowledge.staff import sheet as sheet_mod
from knowledge.store import audit

NISHI = "program-c94dfbac4026"  # 西区こどもの居場所等支援事業
TATAI = "program-43baa9e9b776"  # 多胎家庭支援事業, 堺市 (the city of 西区)
CIRCLE = "program-03ab91332f25"  # 子育てサークル支援事業, 堺市
CLUB = "activity-70fd36a7337f"  # 親子で楽しむ趣味 Club, 美原区: 12 dates, imported
EVENTS_FILE = pathlib.Path(__file__).resolve().parents[1] / "knowledge" / "data" / "demo_events.csv"
BLOCKS_MAX = 50  # Slack: blocks of one message


def staff_progress(db) -> list[dict]:
    return list(db.query("SELECT program_id, text FROM progress WHERE origin = 'slack'"))


def app_with(base_path, fake) -> Slack:
    from bot.app import create_app

    return Slack(create_app(slack_config(base_path, fake)).test_client(), fake)


def initial_program(view: dict) -> str | None:
    select = {b.get("block_id"): b for b in view["blocks"]}["program"]["element"]
    return (select.get("initial_option") or {}).get("value")


# --- 1. event rules: only Japanese phrases, with a date within a year; ages read -----------------


@pytest.mark.parametrize(
    "recurrence,code",
    [
        ("FREQ=SECONDLY", "recurrence"),
        ("RRULE:FREQ=WEEKLY;BYDAY=WE", "recurrence"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "recurrence"),
        ("毎年2月30日", "no_dates"),
    ],
)
def test_raw_or_dateless_rules_are_refused(recurrence, code):
    with pytest.raises(audit.Invalid) as e:
        events.check(events.EventInput(title="x", recurrence=recurrence))
    assert e.value.errors == {"recurrence": code}
    assert events.check(events.EventInput(title="x", recurrence="毎週水曜日")) == (None, "FREQ=WEEKLY;BYDAY=WE")


@pytest.mark.parametrize("ages,code", [("3歳から1歳", "ages_reversed"), ("よくわからない人たち", "ages")])
def test_reversed_or_unreadable_ages_are_refused(ages, code):
    with pytest.raises(audit.Invalid) as e:
        events.check(events.EventInput(title="x", day="2026-05-01", ages=ages))
    assert e.value.errors == {"ages": code}


def test_the_event_modal_refuses_a_secondly_rule_in_japanese(slack, fake, base):
    slack.command("event")
    view = fake.wait_for("/views.open")[0]["view"]
    body = slack.submit(view, {"title": "毎秒の会", "recurrence": "FREQ=SECONDLY"}).get_json()
    assert body["response_action"] == "errors" and "毎週水曜日" in body["errors"]["recurrence"]
    assert base.execute("SELECT count(*) FROM activities WHERE source = 'staff'").fetchone()[0] == 0


# --- 2. acks are not starved by index rebuilds --------------------------------------------------


def test_commands_are_acknowledged_while_index_rebuilds_are_blocked(slack, fake, base, monkeypatch):
    import handlers.slack.listeners as hs

    release, entered = threading.Event(), threading.Event()

    def blocked_build(db, wait=False):
        entered.set()
        release.wait()

    monkeypatch.setattr(hs, "index_for", blocked_build)
    writers = 8  # more than Bolt's default pool of 5
    statuses = []
    threads = [
        threading.Thread(
            target=lambda n=n: statuses.append(
                Slack(slack.client.application.test_client(), fake).command(f"progress 居場所 後期 報告{n}").status_code
            )
        )
        for n in range(writers)
    ]
    for t in threads:
        t.start()
    try:
        assert entered.wait(30)
        for t in threads:
            t.join()
        helped = slack.command("help")  # acked while every rebuild is held
        assert helped.status_code == 200 and words.HELP_TITLE in helped.get_json()["text"]
        assert statuses == [200] * writers
        # written at once, in Bolt's listener threads after each ack: wait for the last of them
        deadline = time.monotonic() + 30
        while len(staff_progress(base)) < writers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(staff_progress(base)) == writers
        assert fake.received("/respond") == []  # confirmed only once the index is current
    finally:
        release.set()
    fake.wait_for("/respond", count=writers)


# --- 3. program lookup: certain only within the ward and its city --------------------------------


def test_another_citys_program_is_proposed_not_written(slack, fake, base):
    slack.command("progress 多胎 後期 旭区で多胎の集いを開催", channel=ASAHI_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    assert initial_program(view) == TATAI and "多胎家庭支援事業" in view["blocks"][0]["text"]["text"]
    assert staff_progress(base) == [] and not fake.received("/respond")


def test_a_fuzzy_name_opens_the_modal_and_writes_nothing(slack, fake, base):
    slack.command("progress 子育てサロン 後期 サロンを3回開催")
    view = fake.wait_for("/views.open")[0]["view"]
    assert initial_program(view) in (CIRCLE, None)
    assert staff_progress(base) == []


def test_the_citys_program_is_written_from_a_ward_channel(slack, fake, base):
    slack.command("progress 多胎 後期 多胎の集いを開催")  # 西区's channel: 堺市's program is its city's
    fake.wait_for("/respond")
    assert staff_progress(base) == [{"program_id": TATAI, "text": "多胎の集いを開催"}]


# --- 4. a re-import keeps what staff set ---------------------------------------------------------


def test_a_reimport_keeps_a_cancellation_and_an_edit(base):
    rows = list(base.query("SELECT id FROM activities WHERE source = 'events::demo_events.csv' ORDER BY id LIMIT 2"))
    cancelled, edited = rows[0]["id"], rows[1]["id"]
    events.cancel(base, cancelled, actor="slack:U1")
    inp = events.as_input(base, edited)
    inp.fee = "300円（材料費）"
    events.edit(base, edited, inp, actor="slack:U1")
    dates = events.occurrences(base, edited)
    import_file(base, EVENTS_FILE)
    assert base.execute("SELECT status FROM activities WHERE id = ?", [cancelled]).fetchone()[0] == "cancelled"
    assert base.execute("SELECT fee FROM activities WHERE id = ?", [edited]).fetchone()[0] == "300円（材料費）"
    assert events.occurrences(base, edited) == dates


# --- 5. editing a multi-date event -------------------------------------------------------------


def test_the_edit_modal_says_how_many_dates_a_day_replaces(slack, fake, base):
    slack.command("event edit 親子で楽しむ趣味", channel=MIHARA_CHANNEL)  # two alike: buttons
    buttons = [b["accessory"] for b in fake.wait_for("/respond")[0]["blocks"] if "accessory" in b]
    slack.click(next(b for b in buttons if b["value"] == CLUB), channel=MIHARA_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    assert "12日" in view["blocks"][0]["text"]["text"]
    assert "initial_date" not in {b.get("block_id"): b for b in view["blocks"]}["day"]["element"]


def test_a_day_replaces_the_dates_and_the_audit_keeps_them(base):
    before = [o["date"] for o in events.occurrences(base, CLUB)]
    inp = events.as_input(base, CLUB)
    inp.day = "2026-06-01"
    events.edit(base, CLUB, inp, actor="slack:U1")
    [row] = base.query("SELECT before, after FROM audit")
    assert [o["date"] for o in json.loads(row["before"])["occurrences"]] == before and len(before) == 12
    assert [o["date"] for o in json.loads(row["after"])["occurrences"]] == ["2026-06-01"]


def test_a_time_edit_keeps_the_dates_and_retimes_them(base):
    before = [o["date"] for o in events.occurrences(base, CLUB)]
    inp = events.as_input(base, CLUB)
    inp.start_time, inp.end_time = "10:00", "11:30"
    events.edit(base, CLUB, inp, actor="slack:U1")
    after = events.occurrences(base, CLUB)
    assert [o["date"] for o in after] == before
    assert {(o["start_time"], o["end_time"]) for o in after} == {("10:00", "11:30")}


# --- 6, 7. unanswered: grouped per ward, ids kept server-side, prefills within limits --------------


def test_an_faq_for_one_ward_closes_only_that_wards_questions(base_path, fake, base):
    slack = app_with(base_path, fake)
    base["unanswered"].insert(
        {"text": "粗大ごみの出し方を教えて", "area": "横浜市旭区", "asked_at": "2026-01-01T00:00:00+00:00"}
    )
    base["unanswered"].insert(
        {"text": "粗大ごみの出し方は？", "area": "堺市西区", "asked_at": "2026-01-01T00:00:01+00:00"}
    )
    slack.command("unanswered", channel=PUBLIC_CHANNEL)  # every ward
    buttons = [b for b in fake.wait_for("/respond")[0]["blocks"] if b.get("accessory")]
    assert len(buttons) == 2
    nishi = next(b for b in buttons if json.loads(b["accessory"]["value"])["area"] == "堺市西区")
    slack.click(nishi["accessory"], channel=PUBLIC_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    slack.submit(view, {"question": "粗大ごみの出し方", "answer": "西区の受付センターへ", "words": ""})
    fake.wait_for("/respond", count=2)
    closed = [r["area"] for r in base.query("SELECT area FROM unanswered WHERE resolved_faq IS NOT NULL")]
    assert closed == ["堺市西区"]


def test_a_large_group_is_closed_whole_and_its_modal_keeps_slacks_limits(slack, fake, base):
    for i in range(150):
        base["unanswered"].insert(
            {
                "text": f"夜間に子どもを預けられる場所はありますか（{i}番目の聞き方です）",
                "area": "堺市西区",
                "asked_at": "2026-01-01T00:00:00+00:00",
            }
        )
    slack.command("unanswered")
    button = [b for b in fake.wait_for("/respond")[0]["blocks"] if b.get("accessory")][0]
    assert "ids" not in json.loads(button["accessory"]["value"]) and len(button["accessory"]["value"]) < 2000
    slack.click(button["accessory"])
    view = fake.wait_for("/views.open")[0]["view"]
    fields = {b["block_id"]: b["element"] for b in view["blocks"] if b.get("type") == "input"}
    assert len(fields["words"].get("initial_value", "")) <= faqs.MAX_WORDS == fields["words"]["max_length"]
    assert fields["question"]["max_length"] == faqs.MAX_QUESTION and fields["answer"]["max_length"] <= 3000
    assert len(view["private_metadata"]) <= 3000
    slack.submit(view, {"question": "夜間の預け先", "answer": "西区の子育て支援課へ", "words": ""})
    fake.wait_for("/respond", count=2)
    assert base.execute("SELECT count(*) FROM unanswered WHERE resolved_faq IS NULL").fetchone()[0] == 0


def test_a_modal_slack_refuses_to_open_from_a_button_is_told(base_path, httpserver, base):
    httpserver.expect_request("/views.open").respond_with_json({"ok": False, "error": "invalid_arguments"})
    fake = SlackFake(httpserver)
    slack = app_with(base_path, fake)
    base["unanswered"].insert({"text": "夜間保育は？", "area": "堺市西区", "asked_at": "2026-01-01T00:00:00+00:00"})
    slack.command("unanswered")
    button = [b for b in fake.wait_for("/respond")[0]["blocks"] if b.get("accessory")][0]
    slack.click(button["accessory"])
    told = fake.wait_for("/respond", count=2)[1]
    assert told["text"] == words.MODAL_FAILED and told["response_type"] == "ephemeral"


def test_the_program_select_holds_its_initial_option():
    programs = [{"id": f"program-{i:03d}", "title": f"事業{i:03d}", "area": "堺市"} for i in range(150)]
    select = modals.progress_view(programs, {}, program_id="program-120")["blocks"][0]["element"]
    assert len(select["options"]) == 100 and select["initial_option"] in select["options"]


# --- 8. long lists: split into sections, newest first, what is left out counted ------------------


def fill_progress(db, n=200, padding=""):
    for i in range(n):
        db["progress"].insert(
            {
                "id": f"p{i}",
                "program_id": NISHI,
                "period": "後期",
                "text": f"第{i}回 居場所の運営会議を開催し、参加団体と課題を共有した{padding}",
                "posted_by": "職員",
                "posted_at": f"2025-10-01T00:{i // 60:02d}:{i % 60:02d}+00:00",
                "origin": "import",
            }
        )


def test_the_progress_reply_shows_the_new_entry_and_counts_the_rest(slack, fake, base):
    fill_progress(base)
    slack.command("progress 居場所 後期 これが新しい報告です")
    reply = fake.wait_for("/respond")[0]
    texts = [b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in reply["blocks"]]
    entries = "\n".join(texts)
    assert len(reply["blocks"]) <= BLOCKS_MAX and all(len(t) <= 3000 for t in texts)
    assert entries.index("これが新しい報告です") < entries.index("第199回")  # new first, then newest
    shown = entries.count("運営会議")
    assert shown == 200 or f"ほかに{200 - shown}件" in entries


def test_the_sheet_counts_what_it_cannot_show(base):
    fill_progress(base, 400, padding="。" + "詳しい報告" * 80)  # far more than 50 blocks hold
    message = render.sheet_message(sheet_mod.load(base, NISHI))
    texts = [b["text"]["text"] if b["type"] == "section" else b["elements"][0]["text"] for b in message["blocks"]]
    assert len(message["blocks"]) <= BLOCKS_MAX and all(len(t) <= 3000 for t in texts)
    shown = "\n".join(texts).count("運営会議")
    assert shown > 62 and f"ほかに{400 - shown}件" in texts[-1]


# --- 9. confirmations reach staff in channels the bot has not joined ----------------------------


def test_a_modal_write_is_confirmed_at_the_commands_response_url(base_path, httpserver, base):
    httpserver.expect_request("/chat.postEphemeral").respond_with_json({"ok": False, "error": "channel_not_found"})
    fake = SlackFake(httpserver)
    slack = app_with(base_path, fake)
    slack.command("progress", channel=PUBLIC_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    slack.submit(view, {"program": NISHI, "period": "後期", "text": "報告"})
    assert "後期の進捗を登録しました" in fake.wait_for("/respond")[0]["text"]
    assert fake.received("/chat.postEphemeral") == [] and len(staff_progress(base)) == 1


def test_without_a_response_url_or_channel_a_direct_message_tells(base_path, httpserver, base):
    httpserver.expect_request("/chat.postEphemeral").respond_with_json({"ok": False, "error": "channel_not_found"})
    fake = SlackFake(httpserver)
    slack = app_with(base_path, fake)
    slack.command("progress", channel=PUBLIC_CHANNEL)
    view = fake.wait_for("/views.open")[0]["view"]
    meta = json.loads(view["private_metadata"]) | {"response_url": ""}
    slack.submit(view | {"private_metadata": json.dumps(meta)}, {"program": NISHI, "period": "後期", "text": "報告"})
    dm = next(m for m in fake.wait_for("/chat.postMessage", count=2) if m["channel"] == STAFF_USER)
    assert "後期の進捗を登録しました" in dm["text"]


# --- 10, 11. a missing base; a bad slash-command entry ------------------------------------------


def test_a_missing_base_is_answered_in_japanese(tmp_path, fake):
    slack = app_with(tmp_path / "none.db", fake)
    response = slack.command("help")
    assert response.status_code == 200 and response.get_json()["text"] == words.NO_BASE


def test_an_over_long_progress_text_is_said_and_nothing_saved(slack, fake, base):
    slack.command("progress 居場所 後期 " + "あ" * 2001)
    text = fake.wait_for("/respond")[0]["text"]
    assert "保存できませんでした" in text and "2,000文字まで" in text and "記録は残っています" not in text
    assert staff_progress(base) == [] and "入力内容は保存されていません" in words.FAILED


# --- 12. the rest -------------------------------------------------------------------------------


def test_the_report_channel_gets_slack_control_characters_escaped(slack, fake):
    slack.command("progress 居場所 後期 <!channel> 研究会 & 報告")
    fake.wait_for("/respond")
    report = fake.wait_for("/chat.postMessage")[0]
    assert report["channel"] == REPORT_CHANNEL
    assert "<!channel>" not in report["text"] and "&lt;!channel&gt; 研究会 &amp; 報告" in report["text"]


def test_a_past_event_date_is_accepted_with_a_warning(slack, fake, base):
    slack.command("event")
    view = fake.wait_for("/views.open")[0]["view"]
    past = (clock.today() - timedelta(days=3)).isoformat()
    slack.submit(view, {"title": "済んだ会", "day": past})
    assert "過ぎた日付" in fake.wait_for("/respond")[0]["text"]
    assert base.execute("SELECT count(*) FROM activities WHERE title = '済んだ会'").fetchone()[0] == 1


def test_the_audit_shows_japan_time_japanese_labels_and_the_citys_programs(slack, fake, base):
    slack.command("progress 多胎 後期 多胎の集いを開催")  # 堺市's program, from 西区's channel
    fake.wait_for("/respond")
    slack.command("audit")
    reply = fake.wait_for("/respond", count=2)[1]
    text = json.dumps(reply["blocks"], ensure_ascii=False)
    [row] = base.query("SELECT at FROM audit")
    local = datetime.fromisoformat(row["at"]).astimezone(clock.now().tzinfo).strftime("%Y-%m-%d %H:%M")
    assert local in text and row["at"] not in text
    assert "多胎家庭支援事業" in text and "内容：多胎の集いを開催" in text and "program_id" not in text


def test_the_cancel_modal_closes_with_a_plain_word(slack, fake):
    slack.command("event cancel 放課後の学びの場")
    view = fake.wait_for("/views.open")[0]["view"]
    assert view["close"]["text"] == "閉じる" and view["submit"]["text"] == "中止にする"


def _build_now(cache, path) -> None:
    db = open_db(path)
    try:
        cache.get(db, wait=True)
    finally:
        db.close()


def test_a_question_during_a_rebuild_is_answered_from_the_old_index(base_path, monkeypatch):
    """Why staff are told only once the index is built: ``IndexCache`` does not make a parent's
    question wait for a build under way when it has an older index to answer from."""
    import knowledge.search.index as index_mod
    from knowledge.store.db import bump_version, writing

    cache = index_mod.IndexCache()
    reader, writer = open_db(base_path), open_db(base_path)
    building, release = threading.Event(), threading.Event()
    real_build = index_mod.build_for

    def held_build(db, version):
        building.set()
        release.wait()
        return real_build(db, version)

    try:
        old = cache.get(reader)
        with writing(writer):
            bump_version(writer)
        monkeypatch.setattr(index_mod, "build_for", held_build)
        builder = threading.Thread(target=lambda: _build_now(cache, base_path))  # as after_write does
        builder.start()
        assert building.wait(30)
        assert cache.get(reader) is old  # the build is under way: the question did not wait for it
        release.set()
        builder.join()
        assert cache.wait_idle(30) and cache.get(reader).version == old.version + 1
    finally:
        release.set()
        reader.close()
        writer.close()
