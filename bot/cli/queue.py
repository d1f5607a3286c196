"""``kosodate-bot queue``: the queue the webhooks put their work on (``bot.queue``).

``queue work`` runs the queue's workers in a process of their own, where the base is: what a
deploy on Redis runs (the Procfile's ``worker`` line) while its web processes, on any host, only
put work on the queue. On the embedded default (SQLite) the web processes work the queue
themselves and this command is not needed. ``queue status`` tells what waits.
"""

from __future__ import annotations

import logging
import os

import click

from bot.cli.options import db_option, open_existing
from bot.config import Config
from bot.line_routes import line_channel_for
from bot.queue import DEFAULT_WORKERS, POLL_BACKOFF, POLL_FIRST_S, POLL_MAX_S, make_huey
from knowledge.store import pending

logger = logging.getLogger(__name__)


@click.group()
def queue():
    """The queue of webhook work (LINE's events)."""


@queue.command("work")
@click.option("--workers", default=DEFAULT_WORKERS, show_default=True, type=click.IntRange(1, 64))
@db_option
def queue_work(workers, db_path):
    """Work the queue until SIGTERM or Ctrl-C (a graceful stop: the tasks under way finish, the
    rest wait for the next worker)."""
    open_existing(db_path).close()
    os.environ["KOSODATE_DB"] = db_path
    config = Config.from_env()
    huey = make_huey(config.queue())
    line = line_channel_for(config, config.settings(), huey)
    if line is None:
        raise click.ClickException(
            "LINE is not configured (LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN): no work to do"
        )
    line.resume_later()
    consumer = huey.create_consumer(
        workers=workers,
        worker_type="thread",
        periodic=False,
        initial_delay=POLL_FIRST_S,
        backoff=POLL_BACKOFF,
        max_delay=POLL_MAX_S,
    )
    logger.info("queue worker: %d threads on %s, base %s", workers, config.queue().kind, db_path)
    consumer.run()


@queue.command("status")
@db_option
def queue_status(db_path):
    """How many webhook bodies wait on the queue and how many events wait in the base."""
    db = open_existing(db_path)
    os.environ["KOSODATE_DB"] = db_path
    huey = make_huey(Config.from_env().queue())
    click.echo(f"queued bodies: {huey.pending_count()}, retries scheduled: {huey.scheduled_count()}")
    click.echo(f"staged events: {pending.count(db, 'line')}")
