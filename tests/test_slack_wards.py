"""Wards checked at every write: a modal submission or a button is checked, when it is applied,
against the acting staff member's wards (the staff channel's ward, or every ward for a listed
staff user), with the record's ward read from the base, never from the payload."""

from __future__ import annotations

import json
import logging

import pytest
from slack_fake import STAFF_CHANNEL, STAFF_USER

from handlers.slack import words
from knowledge.staff import progress, wards
from knowledge.staff.wards import OutOfWard, Reach

CHANNEL_STAFF = "UNISHI02"  # not listed: staff only through 西区's channel
NISHI = "堺市西区"
ASAHI = "横浜市旭区"
WEEKLY = "event-8d9fa7bb4047"  # 放課後の学びの場, 西区 (demo)
NISHI_PROGRAM = "program-c94dfbac4026"  # 西区こどもの居場所等支援事業
TATAI = "program-43baa9e9b776"  # 多胎家庭支援事業, 堺市 (the city of 西区)
WRITTEN = ("activities", "occurrences", "progress", "faqs", "unanswered", "audit")


def snapshot(db) -> dict[str, list]:
    """Every row a staff write could touch, to show that a refusal wrote nothing."""
    return {table: [tuple(r) for r in db.execute(f"SELECT * FROM {table} ORDER BY rowid")] for table in WRITTEN}


def asahi_event(db) -> str:
    return db.execute("SELECT id FROM activities WHERE area = ? AND kind = 'event' ORDER BY id", [ASAHI]).fetchone()[0]


def asahi_program(db) -> str:
    return db.execute("SELECT id FROM programs WHERE area = ?", [ASAHI]).fetchone()[0]


def forged(view: dict, **meta) -> dict:
    """``view`` as submitted with its ``private_metadata`` changed."""
    return view | {"private_metadata": json.dumps(json.loads(view["private_metadata"]) | meta, ensure_ascii=False)}


def opened(slack, fake, text: str, *, user: str = CHANNEL_STAFF, channel: str = STAFF_CHANNEL) -> dict:
    count = len(fake.received("/views.open")) + 1
    slack.command(text, user=user, channel=channel)
    return fake.wait_for("/views.open", count=count)[-1]["view"]


def refused_logged(caplog, user: str, ward: str, record: str) -> bool:
    return any(
        r.levelno == logging.WARNING
        and "refused" in r.getMessage()
        and user in r.getMessage()
        and ward in r.getMessage()
        and record in r.getMessage()
        for r in caplog.records
    )


# --- the domain check -------------------------------------------------------------------------------


def test_a_ward_holds_its_own_records_and_its_citys_not_another_wards(base):
    nishi = Reach(ward=NISHI)
    wards.check(base, nishi, wards=[NISHI], records={wards.EVENT: WEEKLY, wards.PROGRAM: TATAI})
    with pytest.raises(OutOfWard) as e:
        wards.check(base, nishi, records={wards.EVENT: asahi_event(base)})
    assert (e.value.field, e.value.area) == (wards.EVENT, ASAHI)
    for named in (ASAHI, "堺市", None):  # another ward, the whole city, every ward
        with pytest.raises(OutOfWard):
            wards.check(base, nishi, wards=[named])
    wards.check(base, nishi, records={wards.EVENT: "event-not-in-the-base"})  # validation says unknown
    wards.check(base, Reach(every=True), wards=[None, ASAHI], records={wards.EVENT: asahi_event(base)})
    with pytest.raises(OutOfWard):
        wards.check(base, Reach(), records={wards.EVENT: WEEKLY})  # no ward: nothing


# --- event modals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("named", [ASAHI, NISHI], ids=["names-the-other-ward", "under-the-right-ward"])
def test_a_forged_event_edit_of_another_wards_event_is_refused_and_nothing_written(slack, fake, base, caplog, named):
    view = opened(slack, fake, "event edit 放課後の学びの場")
    target = asahi_event(base)
    before = snapshot(base)
    body = slack.submit(
        forged(view, ward=named, activity_id=target),
        {"title": "乗っ取られた会", "day": "2030-01-01"},
        user=CHANNEL_STAFF,
    ).get_json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {"title": words.out_of_ward(ASAHI)}
    assert "このチャンネルからは登録・変更できません" in body["errors"]["title"]
    assert snapshot(base) == before
    assert refused_logged(caplog, CHANNEL_STAFF, ASAHI, target)
    assert not fake.received("/respond")


def test_a_forged_event_add_for_another_ward_is_refused(slack, fake, base):
    view = opened(slack, fake, "event")
    before = snapshot(base)
    body = slack.submit(forged(view, ward=ASAHI), {"title": "よその区の会", "day": "2030-01-01"}, user=CHANNEL_STAFF)
    assert body.get_json()["errors"] == {"title": words.out_of_ward(ASAHI)}
    assert snapshot(base) == before


def test_a_base_of_another_ward_is_refused_on_its_field(slack, fake, base):
    view = opened(slack, fake, "event")
    asahi_base = base.execute("SELECT id FROM bases WHERE area = ?", [ASAHI]).fetchone()[0]
    base_block = {
        "type": "input",
        "block_id": "base",
        "label": {"type": "plain_text", "text": "拠点"},
        "element": {"type": "static_select", "action_id": "value", "options": []},
    }
    view = view | {"blocks": view["blocks"] + [base_block]}  # 西区 has no bases: the field is forged too
    before = snapshot(base)
    body = slack.submit(view, {"title": "会", "day": "2030-01-01", "base": asahi_base}, user=CHANNEL_STAFF)
    assert body.get_json()["errors"] == {"base": words.out_of_ward(ASAHI)}
    assert snapshot(base) == before


def test_the_legitimate_edit_and_cancel_still_work(slack, fake, base):
    view = opened(slack, fake, "event edit 放課後の学びの場")
    response = slack.submit(view, {"title": "放課後の学びの場（拡大版）"}, user=CHANNEL_STAFF)
    assert response.status_code == 200 and not response.get_data()
    assert "修正しました" in fake.wait_for("/respond")[0]["text"]
    assert (
        base.execute("SELECT title FROM activities WHERE id = ?", [WEEKLY]).fetchone()[0]
        == "放課後の学びの場（拡大版）"
    )
    cancel = opened(slack, fake, "event cancel 放課後の学びの場")
    assert slack.submit(cancel, {}, user=CHANNEL_STAFF).status_code == 200
    assert "中止にしました" in fake.wait_for("/respond", count=2)[1]["text"]
    assert base.execute("SELECT status FROM activities WHERE id = ?", [WEEKLY]).fetchone()[0] == "cancelled"


def test_a_forged_cancel_closes_the_modal_and_tells_the_staff_member(slack, fake, base, caplog):
    view = opened(slack, fake, "event cancel 放課後の学びの場")
    target = asahi_event(base)
    before = snapshot(base)
    response = slack.submit(forged(view, activity_id=target), {}, user=CHANNEL_STAFF)
    assert response.status_code == 200 and not response.get_data()  # no fields to show an error on
    told = fake.wait_for("/chat.postEphemeral")[0]
    assert (told["channel"], told["user"]) == (STAFF_CHANNEL, CHANNEL_STAFF)
    assert told["text"] == words.out_of_ward(ASAHI) + words.NOTHING_CHANGED
    assert snapshot(base) == before and not fake.received("/respond")
    assert refused_logged(caplog, CHANNEL_STAFF, ASAHI, target)


def test_a_listed_staff_user_may_write_any_ward(slack, fake, base):
    view = opened(slack, fake, "event cancel 放課後の学びの場", user=STAFF_USER)
    target = asahi_event(base)
    assert slack.submit(forged(view, ward=ASAHI, activity_id=target), {}, user=STAFF_USER).status_code == 200
    assert "中止にしました" in fake.wait_for("/respond")[0]["text"]
    assert base.execute("SELECT status FROM activities WHERE id = ?", [target]).fetchone()[0] == "cancelled"
    assert base.execute("SELECT status FROM activities WHERE id = ?", [WEEKLY]).fetchone()[0] is None


# --- progress ---------------------------------------------------------------------------------------


def test_progress_for_another_wards_program_is_refused_on_the_program_field(slack, fake, base):
    view = opened(slack, fake, "progress")
    before = snapshot(base)
    values = {"program": asahi_program(base), "period": "後期", "text": "よその区の進捗"}
    body = slack.submit(view, values, user=CHANNEL_STAFF).get_json()
    assert body == {"response_action": "errors", "errors": {"program": words.out_of_ward(ASAHI)}}
    assert snapshot(base) == before


@pytest.mark.parametrize("program", [NISHI_PROGRAM, TATAI], ids=["the-wards", "its-citys"])
def test_progress_for_the_wards_or_its_citys_program_is_written(slack, fake, base, program):
    view = opened(slack, fake, "progress")
    response = slack.submit(view, {"program": program, "period": "後期", "text": "研究会を開いた"}, user=CHANNEL_STAFF)
    assert response.status_code == 200 and not response.get_data()
    fake.wait_for("/respond")
    assert [r[0] for r in base.execute("SELECT program_id FROM progress WHERE origin = 'slack'")] == [program]


def test_progress_by_command_is_checked_behind_the_programs_lookup(slack, fake, base, monkeypatch):
    """The command takes a program for certain only in the ward or its city; were its lookup
    ever to take another ward's, the check at the write stands behind it."""
    other = progress.Lookup({"id": asahi_program(base), "title": "旭区の事業", "area": ASAHI})
    monkeypatch.setattr(progress, "find_program", lambda *_args, **_kwargs: other)
    before = snapshot(base)
    slack.command("progress 旭区の事業 後期 よその区の進捗", user=CHANNEL_STAFF)
    assert fake.wait_for("/respond")[0]["text"] == words.out_of_ward(ASAHI)
    assert snapshot(base) == before


# --- FAQ modals and the buttons that open them ------------------------------------------------------


def declined(db, text: str, area: str | None) -> int:
    return db["unanswered"].insert({"text": text, "area": area, "asked_at": "2026-01-01T00:00:00+00:00"}).last_pk


def faq_view(slack, fake, db, *, user: str = CHANNEL_STAFF, channel: str = STAFF_CHANNEL) -> dict:
    declined(db, "夜間に子どもを預けたい", NISHI)
    slack.command("unanswered", user=user, channel=channel)
    button = next(b["accessory"] for b in fake.wait_for("/respond")[0]["blocks"] if b.get("accessory"))
    slack.click(button, user=user, channel=channel)
    return fake.wait_for("/views.open")[0]["view"]


@pytest.mark.parametrize("ward", [ASAHI, None], ids=["another-ward", "every-ward"])
def test_a_forged_faq_for_another_ward_is_refused(slack, fake, base, ward):
    view = faq_view(slack, fake, base)
    before = snapshot(base)
    body = slack.submit(forged(view, ward=ward), {"question": "夜間の預け先", "answer": "区役所へ"}, user=CHANNEL_STAFF)
    assert body.get_json()["errors"] == {"question": words.out_of_ward(ward)}
    assert snapshot(base) == before


def test_a_forged_faq_closing_another_wards_questions_under_the_right_ward_is_refused(slack, fake, base):
    view = faq_view(slack, fake, base)
    lead = declined(base, "夜間に子どもを預けたい", ASAHI)
    before = snapshot(base)
    body = slack.submit(forged(view, lead=lead), {"question": "夜間の預け先", "answer": "区役所へ"}, user=CHANNEL_STAFF)
    assert body.get_json()["errors"] == {"question": words.out_of_ward(ASAHI)}
    assert snapshot(base) == before


def test_the_legitimate_faq_is_written(slack, fake, base):
    view = faq_view(slack, fake, base)
    assert slack.submit(view, {"question": "夜間の預け先", "answer": "区役所へ"}, user=CHANNEL_STAFF).status_code == 200
    fake.wait_for("/respond", count=2)
    assert [r[0] for r in base.execute("SELECT area FROM faqs WHERE source = 'staff'")] == [NISHI]


# --- buttons ----------------------------------------------------------------------------------------


def test_a_forged_event_button_is_refused_and_opens_nothing(slack, fake, base, caplog):
    target = asahi_event(base)
    before = snapshot(base)
    slack.click({"action_id": "kb_event_edit", "value": target}, user=CHANNEL_STAFF)
    told = fake.wait_for("/chat.postEphemeral")[0]
    assert told["user"] == CHANNEL_STAFF and told["text"] == words.out_of_ward(ASAHI)
    assert not fake.received("/views.open") and snapshot(base) == before
    assert refused_logged(caplog, CHANNEL_STAFF, ASAHI, target)


def test_a_forged_faq_button_for_another_ward_is_refused(slack, fake, base):
    lead = declined(base, "夜間に子どもを預けたい", ASAHI)
    value = json.dumps({"area": ASAHI, "lead": lead})
    slack.click({"action_id": "kb_unanswered_answer", "value": value}, user=CHANNEL_STAFF)
    assert fake.wait_for("/chat.postEphemeral")[0]["text"] == words.out_of_ward(ASAHI)
    assert not fake.received("/views.open")


def test_a_listed_staff_user_may_click_any_wards_button(slack, fake, base):
    slack.click({"action_id": "kb_event_cancel", "value": asahi_event(base)}, user=STAFF_USER)
    assert fake.wait_for("/views.open")[0]["view"]["callback_id"] == "kb_event_cancel"
    assert not fake.received("/chat.postEphemeral")
