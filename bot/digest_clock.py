"""The ``clock:`` process: sends the weekly digest at ``KOSODATE_DIGEST_TIME`` in the parents' zone.

APScheduler 3's ``BlockingScheduler`` with a ``CronTrigger`` in that zone (Asia/Tokyo by
default, whatever the server's zone), rather than a sleep loop of our own: it gets daylight
saving (for a deployer elsewhere), missed runs and overlaps right. ``misfire_grace_time`` lets a
clock restarted within ``MISFIRE_GRACE_S`` after the hour (a deploy at 09:00) still send;
``coalesce`` makes several missed runs one; ``max_instances=1`` never overlaps runs in one
process. Two clocks started by mistake are kept apart by the digest's lock and ledger
(``knowledge.digest``), not by the scheduler: the second finds the lock taken, or everything sent.

Each run opens its own connection (sqlite3 connections belong to one thread) and is the same
code as ``kosodate-bot digest send``, so cron or a platform scheduler can call that instead.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Config
from knowledge import clock, open_db
from knowledge import digest as digest_mod

logger = logging.getLogger(__name__)
MISFIRE_GRACE_S = 3 * 3600  # a run missed by less than this (a restart, a deploy) still happens
CRON_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def trigger(config: Config) -> CronTrigger:
    """The weekly trigger of ``KOSODATE_DIGEST_TIME`` in the parents' zone."""
    weekday, hour, minute = digest_mod.parse_time(config.digest_time)
    return CronTrigger(day_of_week=CRON_DAYS[weekday], hour=hour, minute=minute, timezone=clock.now().tzinfo)


def job(config: Config, db_path: str) -> int:
    """One scheduled run: the coming Monday's week (today's, on a Monday)."""
    from bot.cli_digest import send_week

    db = open_db(db_path, create=False)
    try:
        week = digest_mod.coming_monday()
        code = send_week(db, config, week)
        logger.info("scheduled digest for the week of %s finished with exit code %d", week, code)
        return code
    except Exception:
        logger.exception("scheduled digest run failed")
        raise
    finally:
        db.close()


def scheduler(config: Config, db_path: str) -> BlockingScheduler:
    sched = BlockingScheduler(timezone=clock.now().tzinfo)
    sched.add_job(job, trigger(config), args=[config, db_path], id="weekly-digest", name="weekly digest",
                  misfire_grace_time=MISFIRE_GRACE_S, coalesce=True, max_instances=1, replace_existing=True)
    return sched


def run_forever(config: Config, db_path: str) -> None:
    config.apply()  # logs at the configured level (INFO by default), the parents' zone
    sched = scheduler(config, db_path)
    first = trigger(config).get_next_fire_time(None, clock.now())
    logger.info("digest clock started: %s in %s; next run %s", config.digest_time, clock.now().tzinfo, first)
    sched.start()  # blocks; SIGTERM (a platform's stop) ends it
