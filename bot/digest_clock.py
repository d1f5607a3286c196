"""The ``clock:`` process: sends the weekly digest at ``KOSODATE_DIGEST_TIME`` in the parents' zone.

APScheduler 3's ``BlockingScheduler`` with a ``CronTrigger`` in that zone (Asia/Tokyo by
default, whatever the server's zone), rather than a sleep loop of our own: it gets daylight
saving (for a deployer elsewhere), missed runs and overlaps right. ``coalesce`` makes several
missed runs one; ``max_instances=1`` never overlaps runs in one process.

A clock (re)started after this week's time (a deploy at 09:05) would wait a week: the memory job
store computes a new job's first run from now, so ``misfire_grace_time`` never applies to it.
``scheduler`` therefore adds a one-off run now when this week's time passed less than
``MISFIRE_GRACE_S`` ago (the ledger makes a run after one that already sent a no-op). A run that
finds the lock held (a clock killed on another host leaves it for ``digest.LOCK_STALE_S``) or
fails is tried again every ``RETRY_S`` until ``RETRY_WINDOW_S`` after its scheduled time. Two clocks started by mistake are kept apart by the digest's lock and ledger
(``knowledge.parents.digest``), not by the scheduler: the second finds the lock taken, or everything sent.

Each run opens its own connection (sqlite3 connections belong to one thread) and is the same
code as ``kosodate-bot digest send``, so cron or a platform scheduler can call that instead.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import logs
from bot.config import Config
from bot.digest_job import send_week
from knowledge.parents.digest import coming_monday, parse_time
from knowledge.store.db import held

logger = logging.getLogger(__name__)
MISFIRE_GRACE_S = 3 * 3600  # a run missed by less than this (a restart, a deploy) still happens
RETRY_S = 15 * 60  # a locked or failed run is tried again this much later ...
RETRY_WINDOW_S = 3 * 3600  # ... until this long after its scheduled time
CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def trigger(config: Config) -> CronTrigger:
    """The weekly trigger of ``KOSODATE_DIGEST_TIME`` in the parents' zone."""
    weekday, hour, minute = parse_time(config.digest_time)
    return CronTrigger(day_of_week=CRON_DAYS[weekday], hour=hour, minute=minute, timezone=config.settings().clock.zone)


def job(config: Config, db_path: str) -> int:
    """One scheduled run: the coming Monday's week (today's, on a Monday)."""
    try:
        with held(db_path) as db:
            week = coming_monday(config.settings().clock.today())
            code = send_week(db, config, week)
        logger.info("scheduled digest for the week of %s finished with exit code %d", week, code)
        return code
    except Exception:
        logger.exception("scheduled digest run failed")
        raise


def missed_run(config: Config, now: datetime | None = None) -> datetime | None:
    """This week's run time when it passed less than ``MISFIRE_GRACE_S`` ago, else None."""
    now = now or config.settings().clock.now()
    weekday, hour, minute = parse_time(config.digest_time)
    last = (now - timedelta(days=(now.weekday() - weekday) % 7)).replace(
        hour=hour, minute=minute, second=0, microsecond=0
    )
    if last > now:
        last -= timedelta(days=7)
    return last if (now - last).total_seconds() < MISFIRE_GRACE_S else None


def attempt(sched: BaseScheduler, config: Config, db_path: str, scheduled: datetime | None = None) -> int:
    """One run; a locked or failed one is scheduled again ``RETRY_S`` later within
    ``RETRY_WINDOW_S`` of ``scheduled`` (now when not given)."""
    from handlers.line import digest_run

    scheduled = scheduled or config.settings().clock.now()
    try:
        code = job(config, db_path)
    except Exception:  # noqa: BLE001 - logged by job; retried below
        code = digest_run.ERROR
    if code in (digest_run.LOCKED, digest_run.ERROR, digest_run.FAILED):
        again = config.settings().clock.now() + timedelta(seconds=RETRY_S)
        if (again - scheduled).total_seconds() <= RETRY_WINDOW_S:
            logger.warning("digest run ended with exit code %d: trying again at %s", code, again)
            sched.add_job(
                attempt,
                "date",
                run_date=again,
                args=[sched, config, db_path, scheduled],
                id="weekly-digest-retry",
                name="weekly digest (retry)",
                replace_existing=True,
                misfire_grace_time=MISFIRE_GRACE_S,
            )
        else:
            logger.error(
                "digest run ended with exit code %d and its retry window is over; run "
                "'kosodate-bot digest send' by hand",
                code,
            )
    return code


def scheduler(config: Config, db_path: str) -> BlockingScheduler:
    sched = BlockingScheduler(timezone=config.settings().clock.zone)
    sched.add_job(
        attempt,
        trigger(config),
        args=[sched, config, db_path],
        id="weekly-digest",
        name="weekly digest",
        misfire_grace_time=MISFIRE_GRACE_S,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
    missed = missed_run(config)
    if missed is not None:
        logger.warning("digest clock started after this week's run time %s: running it now", missed)
        sched.add_job(
            attempt,
            "date",
            run_date=config.settings().clock.now(),
            args=[sched, config, db_path, missed],
            id="weekly-digest-missed",
            name="weekly digest (missed at start)",
            misfire_grace_time=MISFIRE_GRACE_S,
        )
    return sched


def run_forever(config: Config, db_path: str) -> None:
    logs.configure(config.log_level)  # INFO by default: each run's outcome is in the log
    sched = scheduler(config, db_path)
    parents_clock = config.settings().clock
    first = trigger(config).get_next_fire_time(None, parents_clock.now())
    logger.info("digest clock started: %s in %s; next run %s", config.digest_time, parents_clock.zone, first)
    sched.start()  # blocks; SIGTERM (a platform's stop) ends it
