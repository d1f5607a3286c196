"""After a staff write: the search index of the new version is built, then staff are told.

This runs in threads of the app's own, never in a Bolt listener thread, so acks never wait on
a rebuild (Bolt's pool stays free for the next command). Staff are told the write is done once
the index is built, so from then on this process's parents get the new answer. (A parent's
question asked while the build runs gets the old index: ``IndexCache`` does not make it wait.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import sqlite_utils

from handlers.slack.listeners.settings import Settings
from knowledge.search.embed import Meaning
from knowledge.search.index import index_for

logger = logging.getLogger(__package__)  # the package's one logger (handlers.slack.listeners) for every kind
AFTER_WRITE_WORKERS = 4  # threads that rebuild the index and confirm staff writes (builds run one at a time)

Done = Callable[[sqlite_utils.Database], None]


class AfterWrite:
    """The after-write threads of one app: ``after_write(done)`` queues a rebuild, then ``done``."""

    def __init__(self, settings: Settings, workers: int = AFTER_WRITE_WORKERS):
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-after-write")

    def __call__(self, done: Done) -> None:
        """Queue the rebuild and ``done`` (telling staff); the listener's thread is free at once."""
        self.pool.submit(self._run, done)

    def _run(self, done: Done) -> None:
        try:
            with self.settings.db() as db:
                fresh_index(db, self.settings.domain.meaning)
                done(db)
        except Exception:
            logger.exception("after a staff write (which stands): the confirmation failed")


def fresh_index(db: sqlite_utils.Database, meaning: Meaning) -> None:
    """Build the index of the version just written, so this process's next question sees the
    write; a failed build is logged (the write stands, the index catches up in the background)."""
    try:
        index_for(db, wait=True, meaning=meaning)
    except Exception:
        logger.exception("could not rebuild the index after a staff write; it is rebuilt at the next question")
