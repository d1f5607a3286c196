"""/kosodate event: add, edit and cancel through modals; field errors; a cancelled event is 中止."""

from __future__ import annotations

import json
import pathlib
from datetime import timedelta

import pytest
from slack_fake import ASAHI_CHANNEL, MIHARA_CHANNEL, PUBLIC_CHANNEL, REPORT_CHANNEL

from knowledge import ask, open_db
from knowledge.answers import listings
from knowledge.importers import import_file
from knowledge.lang import clock
from knowledge.staff import events
from knowledge.store import audit

WEEKLY = "event-8d9fa7bb4047"  # 放課後の学びの場, 西区, every Wednesday (demo)
CLUB = "activity-70fd36a7337f"  # 親子で楽しむ趣味 Club, 美原区: 12 dates, imported
EVENTS_FILE = pathlib.Path(__file__).resolve().parents[1] / "knowledge" / "data" / "demo_events.csv"


def day(offset: int) -> str:
    return (clock.today() + timedelta(days=offset)).isoformat()


def event_view(slack, fake, text="event", count=1, **kwargs):
    slack.command(text, **kwargs)
    return fake.wait_for("/views.open", count=count)[count - 1]["view"]


def staff_events(db) -> list[dict]:
    return list(db.query("SELECT * FROM activities WHERE source = 'staff' ORDER BY rowid"))


def add_party(slack, fake, **extra) -> dict:
    view = event_view(slack, fake)
    values = {
        "title": "クリスマス会",
        "day": day(10),
        "start_time": "10:00",
        "end_time": "11:30",
        "place": "西区役所 3階",
        "ages": "1歳から3歳の親子",
        "capacity": "15組",
        "fee": "無料",
        "how_to_apply": "電話で西区役所へ",
        "description": "歌と手あそびのクリスマス会です。",
    } | extra
    response = slack.submit(view, values)
    assert response.status_code == 200 and not response.get_data(), response.get_data()
    return fake.wait_for("/respond")[0]


def test_an_added_event_is_written_audited_listed_and_answered(slack, fake, base, base_path):
    told = add_party(slack, fake)
    assert told["response_type"] == "ephemeral" and "クリスマス会" in told["text"] and "追加しました" in told["text"]
    [row] = staff_events(base)
    assert (row["area"], row["kind"], row["age_min_months"], row["age_max_months"]) == ("堺市西区", "event", 12, 47)
    assert (row["capacity"], row["how_to_apply"], row["fee"]) == ("15組", "電話で西区役所へ", "無料")
    [occ] = base.query("SELECT * FROM occurrences WHERE activity_id = ?", [row["id"]])
    assert (occ["date"], occ["start_time"], occ["end_time"]) == (day(10), "10:00", "11:30")
    [entry] = base["audit"].rows
    assert entry["action"] == "event.add" and entry["area"] == "堺市西区" and "クリスマス会" in entry["after"]
    assert fake.wait_for("/chat.postMessage")[0]["channel"] == REPORT_CHANNEL
    listed = listings.events_between(base, "堺市西区", clock.today(), clock.today() + timedelta(days=20), age_months=24)
    assert "クリスマス会" in [e.title for e in listed]
    parent = open_db(base_path)
    try:
        answer = ask(parent, "クリスマス会はいつ？", area="堺市西区")
    finally:
        parent.close()
    assert answer.answered and "クリスマス会" in answer.text and "定員：15組" in answer.text


def test_a_recurring_event_is_a_rule_listed_on_its_days(slack, fake, base):
    add_party(slack, fake, title="ベビーヨガ", day="", recurrence="毎週金曜日")
    [row] = staff_events(base)
    assert "FREQ=WEEKLY" in row["recurrence"] and "BYDAY=FR" in row["recurrence"]
    assert base.execute("SELECT count(*) FROM occurrences WHERE activity_id = ?", [row["id"]]).fetchone()[0] == 0
    days = [
        e.day.weekday()
        for e in listings.events_between(base, "堺市西区", clock.today(), clock.today() + timedelta(days=13))
        if e.title == "ベビーヨガ"
    ]
    assert days and set(days) == {4}


@pytest.mark.parametrize(
    "values,block,message",
    [
        ({"title": ""}, "title", "入力してください"),
        ({"title": "あ" * 101}, "title", "長すぎます"),
        ({"day": "", "recurrence": ""}, "day", "開催日か、くり返し"),
        ({"day": "2026-13-01"}, "day", "正しい日付"),
        ({"day": "", "recurrence": "ときどき"}, "recurrence", "くり返しが読み取れません"),
        ({"start_time": "25:00"}, "start_time", "時刻は"),
        ({"start_time": "11:00", "end_time": "10:00"}, "end_time", "終了時刻は開始時刻より後"),
        ({"description": "あ" * 1001}, "description", "長すぎます"),
    ],
)
def test_an_invalid_event_modal_answers_field_errors_and_writes_nothing(slack, fake, base, values, block, message):
    view = event_view(slack, fake)
    body = slack.submit(view, {"title": "クリスマス会", "day": day(10)} | values).get_json()
    assert body["response_action"] == "errors"
    assert message in body["errors"][block]
    assert staff_events(base) == [] and base["audit"].count == 0
    assert base.execute("SELECT count(*) FROM occurrences WHERE source = 'staff'").fetchone()[0] == 0


def test_cancelled_event_leaves_listings_and_says_chuushi_by_name(slack, fake, base, base_path):
    add_party(slack, fake)
    view = event_view(slack, fake, "event cancel クリスマス会", count=2)
    assert view["callback_id"] == "kb_event_cancel" and "クリスマス会" in view["blocks"][0]["text"]["text"]
    assert slack.submit(view, {}).status_code == 200
    told = fake.wait_for("/respond", count=2)[1]
    assert "中止にしました" in told["text"]
    [row] = staff_events(base)
    assert row["status"] == "cancelled"
    listed = listings.events_between(base, "堺市西区", clock.today(), clock.today() + timedelta(days=20))
    assert "クリスマス会" not in [e.title for e in listed]
    parent = open_db(base_path)
    try:
        answer = ask(parent, "クリスマス会は？", area="堺市西区")
    finally:
        parent.close()
    assert "中止" in answer.text
    assert [r["action"] for r in base.query("SELECT action FROM audit ORDER BY id")] == ["event.add", "event.cancel"]
    cancel = list(base.query("SELECT * FROM audit WHERE action = 'event.cancel'"))[0]
    assert json.loads(cancel["before"])["status"] is None and json.loads(cancel["after"])["status"] == "cancelled"


def test_an_imported_weekly_event_can_be_cancelled_too(slack, fake, base):
    view = event_view(slack, fake, "event cancel 放課後の学びの場")
    assert json.loads(view["private_metadata"])["activity_id"] == WEEKLY
    slack.submit(view, {})
    fake.wait_for("/respond")
    week = listings.events_between(base, "堺市西区", clock.today(), clock.today() + timedelta(days=13))
    assert WEEKLY not in [e.activity_id for e in week]


def test_edit_opens_the_event_filled_in_and_keeps_before_and_after(slack, fake, base):
    add_party(slack, fake)
    view = event_view(slack, fake, "event edit クリスマス", count=2)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["title"]["element"]["initial_value"] == "クリスマス会"
    assert blocks["day"]["element"]["initial_date"] == day(10)
    assert blocks["capacity"]["element"]["initial_value"] == "15組"
    assert blocks["description"]["element"]["initial_value"] == "歌と手あそびのクリスマス会です。"
    values = {
        "title": "クリスマス会（午後）",
        "day": day(11),
        "start_time": "14:00",
        "end_time": "15:00",
        "capacity": "20組",
        "description": "歌と手あそびのクリスマス会です。",
    }
    assert slack.submit(view, values).status_code == 200
    assert "修正しました" in fake.wait_for("/respond", count=2)[1]["text"]
    [row] = staff_events(base)
    assert (row["title"], row["capacity"], row["start_time"]) == ("クリスマス会（午後）", "20組", "14:00")
    assert [r["date"] for r in base.query("SELECT date FROM occurrences WHERE activity_id = ?", [row["id"]])] == [
        day(11)
    ]
    edit = list(base.query("SELECT * FROM audit WHERE action = 'event.edit'"))[0]
    assert (
        json.loads(edit["before"])["title"] == "クリスマス会"
        and json.loads(edit["after"])["title"] == "クリスマス会（午後）"
    )


def test_an_ambiguous_name_offers_buttons_that_open_the_modal(slack, fake, base):
    add_party(slack, fake)
    add_party_again = event_view(slack, fake, count=2)
    slack.submit(add_party_again, {"title": "クリスマス会ミニ", "day": day(12)})
    fake.wait_for("/respond", count=2)
    slack.command("event cancel クリスマス")
    reply = fake.wait_for("/respond", count=3)[2]
    buttons = [b["accessory"] for b in reply["blocks"] if "accessory" in b]
    assert len(buttons) == 2 and {b["action_id"] for b in buttons} == {"kb_event_cancel"}
    slack.click(buttons[1])
    view = fake.wait_for("/views.open", count=3)[2]["view"]
    assert view["callback_id"] == "kb_event_cancel"
    assert base.execute("SELECT count(*) FROM activities WHERE status = 'cancelled'").fetchone()[0] == 0


@pytest.mark.parametrize(
    "text,expected",
    [
        ("event cancel 存在しない催し", "見つかりませんでした"),
        ("event cancel", "催しの名前を入れてください"),
    ],
)
def test_event_names_that_find_nothing_are_said(slack, fake, text, expected):
    slack.command(text)
    assert expected in fake.wait_for("/respond")[0]["text"]


def test_events_need_a_ward_channel(slack, fake, base):
    slack.command("event", channel=PUBLIC_CHANNEL)  # a staff user, in a channel with no ward
    assert "区が設定されていません" in fake.wait_for("/respond")[0]["text"]
    assert not fake.received("/views.open")


def test_a_ward_with_bases_offers_them(slack, fake, base):
    view = event_view(slack, fake, channel=ASAHI_CHANNEL)
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    names = [o["text"]["text"] for o in blocks["base"]["element"]["options"]]
    assert "旭区地域子育て支援拠点" in names and not any("鶴見" in n for n in names)
    slack.submit(view, {"title": "ふれあい遊び", "day": day(5), "base": "base-f493b019798e"})
    fake.wait_for("/respond")
    [row] = staff_events(base)
    assert (row["area"], row["base_id"], row["place"]) == ("横浜市旭区", "base-f493b019798e", "旭区地域子育て支援拠点")


# --- rules: only Japanese phrases, with a date within a year; ages read -------------------------


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


def test_a_past_event_date_is_accepted_with_a_warning(slack, fake, base):
    slack.command("event")
    view = fake.wait_for("/views.open")[0]["view"]
    past = (clock.today() - timedelta(days=3)).isoformat()
    slack.submit(view, {"title": "済んだ会", "day": past})
    assert "過ぎた日付" in fake.wait_for("/respond")[0]["text"]
    assert base.execute("SELECT count(*) FROM activities WHERE title = '済んだ会'").fetchone()[0] == 1


def test_the_cancel_modal_closes_with_a_plain_word(slack, fake):
    slack.command("event cancel 放課後の学びの場")
    view = fake.wait_for("/views.open")[0]["view"]
    assert view["close"]["text"] == "閉じる" and view["submit"]["text"] == "中止にする"


# --- a re-import keeps what staff set --------------------------------------------------------------


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


# --- editing a multi-date event ---------------------------------------------------------------------


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
