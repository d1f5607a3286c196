"""The weekly digest's clock (bot.digest_clock): the time it fires in Tokyo, a run missed at
start-up, retries of a locked or failed run, the job it runs, and the Procfile's clock process."""

from __future__ import annotations

import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from digest_helpers import WEEK, db_path, deliveries, env, many, uid

from bot.config import Config
from handlers.line import digest_run
from knowledge.lang import clock
from knowledge.parents import digest


def _at(monkeypatch, moment: datetime) -> None:
    monkeypatch.setattr(clock, "_utcnow", lambda: moment)


def _job_ids(sched) -> set[str]:
    return {j.id for j in sched.get_jobs()}  # before start: the jobs waiting to be added


class _Sched:
    def __init__(self):
        self.added = []

    def add_job(self, func, trigger, **kw):
        self.added.append((trigger, kw["run_date"], kw["args"][3]))


def test_the_clock_fires_at_the_configured_time_in_tokyo():
    from bot.digest_clock import scheduler, trigger

    now = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    first = trigger(Config()).get_next_fire_time(None, now)
    assert first.isoformat() == "2026-12-07T09:00:00+09:00"
    first = trigger(Config(digest_time="SUN 18:30")).get_next_fire_time(None, now)
    assert first.isoformat() == "2026-12-06T18:30:00+09:00"
    job = scheduler(Config(), "x.db").get_jobs()[0]
    assert job.max_instances == 1 and job.coalesce and job.misfire_grace_time >= 3600
    assert uid(1)


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
        datetime(2026, 12, 9, 0, 5, tzinfo=UTC),  # Wednesday
    ],
)
def test_a_clock_started_outside_the_grace_waits_for_the_next_run(monkeypatch, moment):
    from bot import digest_clock

    _at(monkeypatch, moment)
    assert digest_clock.missed_run(Config.from_env({})) is None
    assert _job_ids(digest_clock.scheduler(Config.from_env({}), "/nonexistent.db")) == {"weekly-digest"}


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


def test_the_clock_job_sends_the_coming_week(west, fake_line):
    from bot import digest_clock

    users = many(west, 2)
    assert digest_clock.job(Config.from_env(env(west, fake_line)), db_path(west)) == digest_run.OK
    assert deliveries(fake_line) == {u: 1 for u in users}
    assert digest.counts(west, WEEK) == {"sent": 2}  # the coming Monday of Thursday 2026-12-03


def test_the_procfiles_clock_process_starts_and_says_when_it_sends(demo_db_path, tmp_path):
    root = pathlib.Path(__file__).resolve().parents[1]
    line = next(ln for ln in (root / "Procfile").read_text().splitlines() if ln.startswith("clock:"))
    command = shlex.split(line.split(":", 1)[1])
    command[0] = str(pathlib.Path(sys.executable).with_name(command[0]))
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    environ = os.environ | {"KOSODATE_DB": str(path), "KOSODATE_DIGEST_TIME": "WED 07:30", "KOSODATE_LOG_LEVEL": "INFO"}
    proc = subprocess.Popen(command, env=environ, stderr=subprocess.PIPE, text=True)
    try:
        deadline, seen = time.monotonic() + 30, ""
        while time.monotonic() < deadline and "next run" not in seen:
            seen += proc.stderr.readline()
    finally:
        proc.terminate()
        proc.wait(10)
    assert "digest clock started: WED 07:30 in Asia/Tokyo" in seen and "07:30:00+09:00" in seen
