"""Sending the weekly digest against the spec-checking fake LINE API, through the SDK's client:
the 500 cut, retry keys, 409, back-off, resume after a crash, the quota (with unfinished batches,
or unreadable), two runs at once, --week, the staff report, logging and the rerun command."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner
from digest_helpers import (
    MULTICAST,
    PUSH,
    WEEK,
    Killed,
    accepted_then_killed,
    add_parent,
    db_path,
    deliveries,
    env,
    many,
    message_calls,
    send,
    set_today,
    slack_env,
    slack_texts,
)

from bot.cli import cli
from bot.config import Config
from bot.digest_job import send_week
from handlers.line import digest_run
from handlers.line import push as line_push
from knowledge import open_db
from knowledge.parents import digest
from knowledge.parents import profiles as parents

RERUN = f"kosodate-bot digest send --week {WEEK.isoformat()}"


def test_one_multicast_per_500_and_each_parent_once(west, fake_line, waits):
    users = many(west, 1201)
    result = send(west, fake_line)
    assert result.exit_code == 0, result.output
    calls = message_calls(fake_line)
    assert sorted(len(c.json["to"]) for c in calls) == [201, 500, 500]
    assert {c.path for c in calls} == {MULTICAST}
    assert deliveries(fake_line) == {u: 1 for u in users}
    assert len({c.retry_key for c in calls}) == 3 and waits == []
    assert "送信 1,201人" in result.output and "使用 1,201通" in result.output


def test_a_group_of_one_is_pushed(west, fake_line):
    baby = add_parent(west, 1, month="2026-08")
    everyone = many(west, 2, start=10)
    assert send(west, fake_line).exit_code == 0
    by_path = {c.path: c.json["to"] for c in message_calls(fake_line)}
    assert by_path == {PUSH: baby, MULTICAST: everyone}
    (pushed,) = fake_line.messages(PUSH)
    assert pushed["type"] == "flex" and "ベビーヨガ" in pushed["altText"]


def test_a_second_run_sends_nothing(west, fake_line):
    users = many(west, 3)
    assert send(west, fake_line).exit_code == 0
    second = send(west, fake_line)
    assert second.exit_code == 0 and "送信済み 3人" in second.output
    assert deliveries(fake_line) == {u: 1 for u in users} and len(message_calls(fake_line)) == 1


def test_a_retry_reuses_the_key_after_5xx_and_honours_retry_after(west, fake_line, waits):
    users = many(west, 3)
    fake_line.fail(MULTICAST, 500, times=1)
    fake_line.fail(MULTICAST, 429, times=1, headers={"Retry-After": "7"})
    assert send(west, fake_line).exit_code == 0
    calls = message_calls(fake_line)
    assert [c.status for c in calls] == [500, 429, 200]
    assert len({c.retry_key for c in calls}) == 1
    assert waits[1] == 7.0 and 0 < waits[0] <= line_push.BASE_BACKOFF_S
    assert deliveries(fake_line) == {u: 1 for u in users}


def test_409_for_an_accepted_key_counts_as_sent(west, fake_line):
    many(west, 3)
    fake_line.fail(MULTICAST, 409, times=1)
    result = send(west, fake_line)
    assert result.exit_code == 0 and "送信 3人" in result.output and "使用 0通" in result.output
    assert digest.counts(west, WEEK) == {"sent": 3}


def test_a_failed_batch_does_not_stop_the_others_and_a_rerun_retries_it_with_its_key(west, fake_line, waits):
    baby = add_parent(west, 1, month="2026-08")  # pushed first (youngest first)
    others = many(west, 2, start=10)
    fake_line.fail(PUSH, 503, times=line_push.MAX_ATTEMPTS)
    first = send(west, fake_line)
    assert first.exit_code == digest_run.FAILED and "失敗 1人" in first.output
    assert deliveries(fake_line) == {u: 1 for u in others} and len(waits) == line_push.MAX_ATTEMPTS - 1
    pushes = [c for c in message_calls(fake_line) if c.path == PUSH]
    assert len(pushes) == line_push.MAX_ATTEMPTS and len({c.retry_key for c in pushes}) == 1
    second = send(west, fake_line)
    assert second.exit_code == 0
    assert message_calls(fake_line)[-1].retry_key == pushes[0].retry_key
    assert deliveries(fake_line) == {baby: 1, **{u: 1 for u in others}}


def test_a_retry_after_beyond_the_bound_gives_the_batch_up(west, fake_line, waits):
    many(west, 2)
    fake_line.fail(MULTICAST, 429, times=1, headers={"Retry-After": "3600"})
    assert send(west, fake_line).exit_code == digest_run.FAILED
    assert waits == [] and deliveries(fake_line) == {}


@pytest.mark.parametrize("crash", ["after_call", "before_call"])
def test_a_run_killed_between_key_and_result_resumes_with_the_same_key(west, fake_line, monkeypatch, crash):
    """The second batch's key is stored, then the run dies (after LINE accepted the call, or
    before it was made); the rerun sends that batch again with the same key: no duplicate,
    none missing."""
    users = many(west, 1300)
    real, calls = line_push.send, []

    def dying(api, user_ids, messages, key):
        calls.append(key)
        if len(calls) == 2:
            if crash == "after_call":
                real(api, user_ids, messages, key)
            raise Killed("killed")
        return real(api, user_ids, messages, key)

    monkeypatch.setattr(line_push, "send", dying)
    first = send(west, fake_line)
    assert isinstance(first.exception, Killed)
    assert digest.counts(west, WEEK).get("sending", 0) >= 500  # at least the killed batch is unfinished
    monkeypatch.setattr(line_push, "send", real)
    second = send(west, fake_line)
    assert second.exit_code == 0, second.output
    assert deliveries(fake_line) == {u: 1 for u in users}
    resent = [c for c in message_calls(fake_line) if c.retry_key == calls[1]]
    assert [c.status for c in resent] == ([200, 409] if crash == "after_call" else [200])
    assert digest.counts(west, WEEK) == {"sent": 1300}


def test_a_lock_left_by_a_killed_process_is_taken_over(west, fake_line):
    users = many(west, 2)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with digest.writing(west):
        west.execute(
            "INSERT INTO digest_lock VALUES ('digest', 'old-run', ?, ?, ?, '2026-12-07T00:00:00+00:00', "
            "'2026-12-07T00:00:00+00:00')",
            [digest._host(), dead.pid, WEEK.isoformat()],
        )
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {u: 1 for u in users}


def test_a_lock_held_by_a_live_run_sends_nothing(west, fake_line):
    many(west, 2)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with digest.writing(west):
            west.execute(
                "INSERT INTO digest_lock VALUES ('digest', 'other', ?, ?, ?, ?, ?)",
                [digest._host(), live.pid, WEEK.isoformat(), digest.now_iso(), digest.now_iso()],
            )
        result = send(west, fake_line)
    finally:
        live.kill()
        live.wait()
    assert result.exit_code == digest_run.LOCKED and message_calls(fake_line) == []


def test_two_runs_at_once_send_each_parent_once(west, fake_line, waits):
    users = many(west, 1100)
    fake_line.delay(MULTICAST, 0.3)  # the first run is still sending when the second starts
    config = Config.from_env(env(west, fake_line))
    start = threading.Barrier(2)
    codes: list[int] = []
    path = db_path(west)

    def one_run():
        db = open_db(path)
        start.wait()
        codes.append(send_week(db, config, WEEK))
        db.close()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [digest_run.OK, digest_run.LOCKED]
    assert deliveries(fake_line) == {u: 1 for u in users}
    assert len(message_calls(fake_line)) == 3


def test_opted_out_and_unfollowed_parents_get_nothing(west, fake_line):
    kept = many(west, 2)
    add_parent(west, 50, off=True)
    gone = add_parent(west, 51)
    parents.forget(west, gone)
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {u: 1 for u in kept}


def test_a_parent_who_stops_the_digest_before_a_resume_is_left_out(west, fake_line, monkeypatch):
    users = many(west, 3)
    monkeypatch.setattr(line_push, "send", lambda *a: (_ for _ in ()).throw(Killed()))
    send(west, fake_line)  # dies after storing the batch's key, before its call
    monkeypatch.undo()
    set_today(monkeypatch)
    parents.update(west, users[0], digest_off=True)
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {users[1]: 1, users[2]: 1}
    parents.update(west, users[0], digest_off=False)  # back on the same week: the first call may have reached them
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {users[1]: 1, users[2]: 1}
    assert digest.counts(west, WEEK) == {"sent": 2, "dropped": 1}


def test_cancelled_events_are_not_sent(west, fake_line):
    many(west, 2)
    send(west, fake_line)
    (sent,) = fake_line.messages()
    assert "クリスマス会" not in str(sent) and "もちつき大会" in str(sent)


def test_an_empty_week_sends_nothing_and_the_note_when_configured(events_db, fake_line, monkeypatch):
    set_today(monkeypatch)
    users = many(events_db, 2)
    result = send(events_db, fake_line)
    assert result.exit_code == 0 and message_calls(fake_line) == [] and "対象なし 2人" in result.output
    result = send(
        events_db, fake_line, KOSODATE_DIGEST_EMPTY_NOTE="今週は予定がありません。区のホームページもご覧ください。"
    )
    assert result.exit_code == 0
    (message,) = fake_line.messages()
    assert message["type"] == "text" and "今週は予定がありません。" in message["text"]
    assert deliveries(fake_line) == {u: 1 for u in users}


def test_a_short_quota_sends_nothing_exits_non_zero_and_tells_staff(west, fake_line, staff_report):
    many(west, 5)
    fake_line.set_quota(3)
    result = send(west, fake_line, **slack_env(staff_report))
    assert result.exit_code == digest_run.SHORT
    assert message_calls(fake_line) == [] and digest.counts(west, WEEK) == {}
    (text,) = slack_texts(staff_report)
    assert "送信予定 5通" in text and "残りは 3通" in text and "2通不足" in text


def test_allow_partial_sends_in_priority_order_and_a_later_run_sends_the_rest(west, fake_line, waits):
    plain = many(west, 2, start=10)
    baby = add_parent(west, 1, month="2026-10")
    expecting = add_parent(west, 2, month="2027-03", due=True)
    fake_line.set_quota(2)
    result = send(west, fake_line, "--allow-partial")
    assert result.exit_code == digest_run.SHORT and "上限のため未送信 2人" in result.output
    assert deliveries(fake_line) == {expecting: 1, baby: 1}
    fake_line.set_quota(10)
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {expecting: 1, baby: 1, plain[0]: 1, plain[1]: 1}


def test_the_summary_goes_to_staff_and_a_slack_failure_does_not_fail_the_run(west, fake_line, staff_report, httpserver):
    many(west, 2)
    assert send(west, fake_line, **slack_env(staff_report)).exit_code == 0
    (text,) = slack_texts(staff_report)
    assert text.startswith("週1回のお知らせ（12月7日（月）〜12月13日（日））：送信 2人")
    httpserver.clear()
    httpserver.expect_request("/chat.postMessage").respond_with_data("down", status=500)
    many(west, 1, start=20)
    result = send(west, fake_line, **slack_env(httpserver))
    assert result.exit_code == 0 and len(httpserver.log) == 1


def test_dry_run_prints_the_plan_and_sends_nothing(west, fake_line):
    many(west, 501)
    add_parent(west, 900, month="2026-08")
    result = send(west, fake_line, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "groups 2, recipients 502, messages 502, calls 3" in result.output
    assert fake_line.requests == [] and digest.counts(west, WEEK) == {}


def test_without_a_token_nothing_is_sent(west, fake_line):
    many(west, 1)
    result = CliRunner().invoke(
        cli,
        ["digest", "send", "--week", WEEK.isoformat()],
        env={"KOSODATE_DB": db_path(west), "LINE_CHANNEL_SECRET": "", "LINE_CHANNEL_ACCESS_TOKEN": ""},
    )
    assert result.exit_code == digest_run.ERROR and "LINE_CHANNEL_ACCESS_TOKEN" in result.output


def test_the_monthly_limit_is_not_retried(west, fake_line, waits):
    many(west, 2)
    fake_line.fail(MULTICAST, 429, times=1, body={"message": "You have reached your monthly limit."})
    assert send(west, fake_line).exit_code == digest_run.FAILED
    assert waits == [] and len(message_calls(fake_line)) == 1 and digest.counts(west, WEEK) == {"failed": 2}


def test_a_timed_out_call_is_retried_with_its_key_and_delivered_once(west, fake_line, waits, monkeypatch):
    """LINE got the first call but answered too late: the retry with the same key is refused
    with 409 while (or after) the first is executed, and the batch counts as sent."""
    users = many(west, 2)
    monkeypatch.setattr(line_push, "REQUEST_TIMEOUT_S", 0.3)
    fake_line.delay(MULTICAST, 1.0, times=1)
    assert send(west, fake_line).exit_code == 0
    fake_line.wait_for(MULTICAST, count=2)
    assert sorted(c.status for c in message_calls(fake_line)) == [200, 409]  # either may win the key
    assert len({c.retry_key for c in message_calls(fake_line)}) == 1 and len(waits) == 1
    assert deliveries(fake_line) == {u: 1 for u in users} and digest.counts(west, WEEK) == {"sent": 2}


# --- --week -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2026-12-08", "2026-12-13", "", "  "])
def test_send_accepts_only_a_week_s_first_day(west, fake_line, value):
    many(west, 2)
    result = CliRunner().invoke(cli, ["digest", "send", "--week", value], env=env(west, fake_line))
    assert result.exit_code == 2, result.output
    assert "--week" in result.output and fake_line.requests == []


def test_a_tuesday_is_refused_after_the_monday_was_sent(west, fake_line):
    users = many(west, 2)
    assert send(west, fake_line).exit_code == 0
    result = CliRunner().invoke(cli, ["digest", "send", "--week", "2026-12-08"], env=env(west, fake_line))
    assert result.exit_code == 2 and "MON" in result.output
    assert deliveries(fake_line) == {u: 1 for u in users}


# --- a lock held elsewhere --------------------------------------------------------------------


def test_a_lock_held_elsewhere_is_told_to_staff(west, fake_line, staff_report, caplog):
    many(west, 2)
    now = digest.now_iso()
    with digest.writing(west):
        west.execute(
            "INSERT INTO digest_lock VALUES ('digest', 'old', 'old-dyno', 7, ?, ?, ?)", [WEEK.isoformat(), now, now]
        )
    result = send(west, fake_line, **slack_env(staff_report))
    assert result.exit_code == digest_run.LOCKED and deliveries(fake_line) == {}
    (text,) = slack_texts(staff_report)
    assert "別の配信処理が実行中" in text and "old-dyno" in text and RERUN in text


# --- the quota with unfinished batches, or unreadable -----------------------------------------


def test_unfinished_batches_accepted_before_do_not_make_the_run_refuse(west, fake_line, monkeypatch):
    users = many(west, 4)
    fake_line.set_quota(4)
    real = accepted_then_killed(monkeypatch)
    send(west, fake_line)
    monkeypatch.setattr(line_push, "send", real)
    result = send(west, fake_line)  # nothing left this month, but the resend is a free 409
    assert result.exit_code == 0, result.output
    assert digest.counts(west, WEEK) == {"sent": 4} and deliveries(fake_line) == {u: 1 for u in users}
    assert [c.status for c in message_calls(fake_line)] == [200, 409]


def test_allow_partial_never_resends_an_unfinished_batch_beyond_what_is_left(west, fake_line, monkeypatch, waits):
    users = many(west, 4)
    monkeypatch.setattr(line_push, "send", lambda *a: (_ for _ in ()).throw(Killed()))
    send(west, fake_line)  # a batch of 4 left 'sending', never called
    monkeypatch.undo()
    set_today(monkeypatch)
    fake_line.set_quota(2)
    result = send(west, fake_line, "--allow-partial")
    assert result.exit_code == digest_run.SHORT
    assert message_calls(fake_line) == []
    assert "上限のため未送信 4人" in result.output and "失敗 0人" in result.output and RERUN in result.output
    fake_line.set_quota(10)
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {u: 1 for u in users}


def test_allow_partial_fits_unfinished_batches_then_new_parents_in_what_is_left(west, fake_line, monkeypatch, waits):
    first = many(west, 2)
    monkeypatch.setattr(line_push, "send", lambda *a: (_ for _ in ()).throw(Killed()))
    send(west, fake_line)  # 2 unfinished, never called
    monkeypatch.undo()
    set_today(monkeypatch)
    baby = add_parent(west, 90, month="2026-10")
    plain = many(west, 2, start=50)
    fake_line.set_quota(3)
    result = send(west, fake_line, "--allow-partial")
    assert result.exit_code == digest_run.SHORT and "上限のため未送信 2人" in result.output
    assert deliveries(fake_line) == {first[0]: 1, first[1]: 1, baby: 1}
    assert fake_line.usage <= 3 and plain[0] not in deliveries(fake_line)


def test_a_quota_read_timeout_is_an_error_run_with_a_summary(west, fake_line, monkeypatch, staff_report):
    many(west, 2)
    monkeypatch.setattr(line_push, "REQUEST_TIMEOUT_S", 0.2)
    fake_line.delay("/v2/bot/message/quota", 1.0)
    result = send(west, fake_line, **slack_env(staff_report))
    assert result.exit_code == digest_run.ERROR and isinstance(result.exception, SystemExit)
    (text,) = slack_texts(staff_report)
    assert "送信上限を確認できなかった" in text and message_calls(fake_line) == []


# --- who counts -------------------------------------------------------------------------------


def test_a_parent_of_an_unknown_ward_is_counted_apart_and_told(west, fake_line, staff_report):
    add_parent(west, 1, area="堺市旧区")
    result = send(west, fake_line, **slack_env(staff_report))
    assert result.exit_code == 0 and "対象なし 0人" in result.output and "地区不明 1人" in result.output
    (text,) = slack_texts(staff_report)
    assert "登録された区が見つからない保護者が 1人" in text and deliveries(fake_line) == {}


# --- logging, the rerun command and the dry run -----------------------------------------------


def test_send_logs_its_batches_and_summary_at_info_without_a_configured_level(west, fake_line, monkeypatch):
    many(west, 2)
    environ = env(west, fake_line)
    environ.pop("KOSODATE_LOG_LEVEL")
    monkeypatch.delenv("KOSODATE_LOG_LEVEL", raising=False)
    result = CliRunner().invoke(cli, ["digest", "send", "--week", WEEK.isoformat()], env=environ)
    assert result.exit_code == 0
    assert logging.getLogger("handlers.line.digest_run").getEffectiveLevel() == logging.INFO
    environ["KOSODATE_LOG_LEVEL"] = "ERROR"
    CliRunner().invoke(cli, ["digest", "send", "--week", WEEK.isoformat()], env=environ)
    assert logging.getLogger("handlers.line.digest_run").getEffectiveLevel() == logging.ERROR


def test_a_partial_failure_gives_the_rerun_command(west, fake_line, waits):
    many(west, 2)
    fake_line.fail(MULTICAST, 503, times=line_push.MAX_ATTEMPTS)
    result = send(west, fake_line)
    assert result.exit_code == digest_run.FAILED and RERUN in result.output


def test_dry_run_prints_each_group_s_message(west, fake_line):
    many(west, 2)
    add_parent(west, 900, month="2026-08")
    result = send(west, fake_line, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.count("altText: 堺市西区の12月7日（月）〜12月13日（日）の子育てイベント") == 2
    assert "ベビーヨガ" in result.output and "お知らせの停止は「配信停止」と送ってください。" in result.output
    assert fake_line.requests == []
