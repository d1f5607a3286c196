"""The reviewer's findings on the weekly digest, as tests of the fixed behaviour: refollow in
the same week, expired retry keys, --week, the clock's start-up and retries, the quota with
unfinished batches, quota read errors, unknown wards, group events, logging, the rerun command."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from digest_helpers import WEEK, add_parent, deliveries, event, message_calls, set_today
from test_digest_send import MULTICAST, Killed, db_path, env, many, send, slack, slack_env, slack_texts, waits, west  # noqa: F401

from bot.cli import cli
from bot.config import Config
from handlers.line import digest_run
from handlers.line import push as line_push
from knowledge.lang import clock
from knowledge.parents import digest
from knowledge.parents import profiles as parents

RERUN = f"kosodate-bot digest send --week {WEEK.isoformat()}"


def _accepted_then_killed(monkeypatch):
    """The next run's calls reach LINE, then the run dies before recording them."""
    real = line_push.send

    def dying(api, user_ids, messages, key):
        real(api, user_ids, messages, key)
        raise Killed()

    monkeypatch.setattr(line_push, "send", dying)
    return real


def _age_keys(db, fake, hours: int = 25) -> None:
    """Emulate the time passing beyond LINE's 24 h: the fake forgets its keys, the ledger's
    batches were opened that long ago."""
    fake._retry_keys.clear()
    old = (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="seconds")
    with digest.writing(db):
        db.execute("UPDATE digest_batches SET created_at = ?", [old])


# --- R1: unfollow and follow back in the same week --------------------------------------------


def test_refollow_in_the_same_week_does_not_get_the_digest_twice(west, fake_line):
    users = many(west, 2)
    assert send(west, fake_line).exit_code == 0
    parents.forget(west, users[0])
    assert west.execute("SELECT count(*) FROM digest_deliveries WHERE user_id = ?", [users[0]]).fetchone()[0] == 0
    parents.follow(west, users[0])
    parents.update(west, users[0], area="堺市西区", child_asked=True)
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {u: 1 for u in users}


def test_a_forgotten_parent_leaves_only_a_keyed_hash_purged_after_the_week(west, fake_line):
    users = many(west, 2)
    send(west, fake_line)
    parents.forget(west, users[0])
    kept = [r[0] for r in west.execute("SELECT user_id FROM digest_deliveries ORDER BY user_id")]
    assert users[0] not in kept and any(u.startswith(digest.FORGOTTEN_PREFIX) for u in kept)
    assert all(users[0] not in str(v) for r in west.execute("SELECT * FROM digest_deliveries") for v in r)
    assert digest.purge_forgotten(west, WEEK + timedelta(days=digest.FORGOTTEN_KEEP_DAYS)) == 0
    assert digest.purge_forgotten(west, WEEK + timedelta(days=digest.FORGOTTEN_KEEP_DAYS + 1)) == 1
    assert [r[0] for r in west.execute("SELECT user_id FROM digest_deliveries")] == [users[1]]


# --- R2: a retry key older than LINE keeps it ------------------------------------------------


def test_a_batch_whose_key_expired_is_not_resent_and_staff_are_told(west, fake_line, monkeypatch, slack):
    users = many(west, 3)
    real = _accepted_then_killed(monkeypatch)
    send(west, fake_line)
    monkeypatch.setattr(line_push, "send", real)
    _age_keys(west, fake_line)
    dry = send(west, fake_line, "--dry-run")
    assert "key expired: to be marked uncertain, not resent" in dry.output and "recipients 0" in dry.output
    result = send(west, fake_line, **slack_env(slack))
    assert result.exit_code == 0, result.output
    assert deliveries(fake_line) == {u: 1 for u in users}
    assert digest.counts(west, WEEK) == {digest.UNCERTAIN: 3}
    assert "送信不明 3人" in result.output
    (text,) = slack_texts(slack)
    assert "送信不明 3人" in text and "3人には届いたかどうか分かりません" in text
    again = send(west, fake_line)  # still not resent by a later run
    assert again.exit_code == 0 and deliveries(fake_line) == {u: 1 for u in users}
    assert west.execute("SELECT state FROM digest_batches").fetchall() == [(digest.UNCERTAIN,)]


def test_a_failed_batch_within_the_key_s_life_is_still_retried(west, fake_line, waits):
    users = many(west, 2)
    fake_line.fail(MULTICAST, 503, times=line_push.MAX_ATTEMPTS)
    assert send(west, fake_line).exit_code == digest_run.FAILED
    assert send(west, fake_line).exit_code == 0
    assert deliveries(fake_line) == {u: 1 for u in users}


# --- R3: --week --------------------------------------------------------------------------------


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


# --- R4/R5: the clock ---------------------------------------------------------------------------


def _at(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "_utcnow", lambda: moment)


def _job_ids(sched) -> set[str]:
    return {j.id for j in sched.get_jobs()}  # before start: the jobs waiting to be added


def test_a_clock_started_after_this_week_s_time_runs_it_now(monkeypatch):
    from bot import digest_clock

    _at(monkeypatch, datetime(2026, 12, 7, 0, 5, tzinfo=UTC))  # Monday 09:05 in Tokyo
    sched = digest_clock.scheduler(Config.from_env({}), "/nonexistent.db")
    assert _job_ids(sched) == {"weekly-digest", "weekly-digest-missed"}
    (missed,) = [j for j in sched.get_jobs() if j.id == "weekly-digest-missed"]
    assert missed.args[3] == datetime(2026, 12, 7, 9, 0, tzinfo=clock.now().tzinfo)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 6, 23, 55, tzinfo=UTC),  # 08:55: not yet
        datetime(2026, 12, 7, 3, 5, tzinfo=UTC),  # 12:05: beyond the grace
        datetime(2026, 12, 9, 0, 5, tzinfo=UTC),
    ],
)  # Wednesday
def test_a_clock_started_outside_the_grace_waits_for_the_next_run(monkeypatch, moment):
    from bot import digest_clock

    _at(monkeypatch, moment)
    assert digest_clock.missed_run(Config.from_env({})) is None
    assert _job_ids(digest_clock.scheduler(Config.from_env({}), "/nonexistent.db")) == {"weekly-digest"}


class _Sched:
    def __init__(self):
        self.added = []

    def add_job(self, func, trigger, **kw):
        self.added.append((trigger, kw["run_date"], kw["args"][3]))


@pytest.mark.parametrize("code", [digest_run.LOCKED, digest_run.FAILED, digest_run.ERROR])
def test_a_locked_or_failed_run_is_tried_again_within_the_window(monkeypatch, code):
    from bot import digest_clock

    start = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    _at(monkeypatch, start)
    monkeypatch.setattr(digest_clock, "job", lambda config, path: code)
    sched = _Sched()
    assert digest_clock.attempt(sched, Config.from_env({}), "x.db") == code
    assert [(t, d - start) for t, d, _ in sched.added] == [("date", timedelta(seconds=digest_clock.RETRY_S))]
    _at(monkeypatch, start + timedelta(seconds=digest_clock.RETRY_WINDOW_S))  # the window is over
    sched.added.clear()
    digest_clock.attempt(sched, Config.from_env({}), "x.db", scheduled=start)
    assert sched.added == []


@pytest.mark.parametrize("code", [digest_run.OK, digest_run.SHORT])
def test_a_finished_run_is_not_tried_again(monkeypatch, code):
    from bot import digest_clock

    monkeypatch.setattr(digest_clock, "job", lambda config, path: code)
    sched = _Sched()
    digest_clock.attempt(sched, Config.from_env({}), "x.db")
    assert sched.added == []


def test_a_lock_held_elsewhere_is_told_to_staff(west, fake_line, slack, caplog):
    many(west, 2)
    now = digest.now_iso()
    with digest.writing(west):
        west.execute(
            "INSERT INTO digest_lock VALUES ('digest', 'old', 'old-dyno', 7, ?, ?, ?)", [WEEK.isoformat(), now, now]
        )
    result = send(west, fake_line, **slack_env(slack))
    assert result.exit_code == digest_run.LOCKED and deliveries(fake_line) == {}
    (text,) = slack_texts(slack)
    assert "別の配信処理が実行中" in text and "old-dyno" in text and RERUN in text


# --- R6/R7: the quota with unfinished batches ---------------------------------------------------


def test_unfinished_batches_accepted_before_do_not_make_the_run_refuse(west, fake_line, monkeypatch):
    users = many(west, 4)
    fake_line.set_quota(4)
    real = _accepted_then_killed(monkeypatch)
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


# --- R12: the quota cannot be read --------------------------------------------------------------


def test_a_quota_read_timeout_is_an_error_run_with_a_summary(west, fake_line, monkeypatch, slack):
    many(west, 2)
    monkeypatch.setattr(line_push, "REQUEST_TIMEOUT_S", 0.2)
    fake_line.delay("/v2/bot/message/quota", 1.0)
    result = send(west, fake_line, **slack_env(slack))
    assert result.exit_code == digest_run.ERROR and isinstance(result.exception, SystemExit)
    (text,) = slack_texts(slack)
    assert "送信上限を確認できなかった" in text and message_calls(fake_line) == []


# --- R8/R9: who counts ----------------------------------------------------------------------------


def test_a_parent_of_an_unknown_ward_is_counted_apart_and_told(west, fake_line, slack):
    add_parent(west, 1, area="堺市旧区")
    result = send(west, fake_line, **slack_env(slack))
    assert result.exit_code == 0 and "対象なし 0人" in result.output and "地区不明 1人" in result.output
    (text,) = slack_texts(slack)
    assert "登録された区が見つからない保護者が 1人" in text and deliveries(fake_line) == {}


def test_a_group_event_without_ages_is_kept_for_a_parent_with_a_child(events_db, monkeypatch):
    events_db.add("堺市西区", [event("WF1", "パパとあそぼう", "2026/12/12", "お父さんと子ども")])
    set_today(monkeypatch)
    baby = add_parent(events_db, 1, month="2026-08")
    none = add_parent(events_db, 2)
    plan = digest.plan(events_db, WEEK)
    got = {s.user_id: g.digest for g in plan.groups for s in g.recipients}
    assert set(got) == {baby, none} and plan.skipped_empty == 0
    assert [e.title for e in got[baby].events] == ["パパとあそぼう"]
    baby_ages = next(s.ages for g in plan.groups for s in g.recipients if s.user_id == baby)
    preview = digest.digest_for(events_db, "堺市西区", WEEK, baby_ages)
    assert [e.title for e in preview.events] == ["パパとあそぼう"]


# --- R10/R11 and the dry run ------------------------------------------------------------------------


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
