"""What every listener of one Bolt app shares: where the base is, who is staff, where writes
are reported, and the deploy's settings for the domain (``knowledge.settings``).

Made once per app (``bot.slack_routes`` builds it from ``Config``) and handed to the listeners
in Bolt's ``context`` by ``middleware``, never kept in a module global: two apps in one process
(tests do this) never see each other's base or staff.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

import sqlite_utils

from handlers.slack.access import Access
from knowledge.settings import DEFAULTS
from knowledge.settings import Settings as DomainSettings
from knowledge.store.db import held


@dataclass(frozen=True)
class Settings:
    db_path: str
    access: Access
    report_channel: str | None = None
    domain: DomainSettings = DEFAULTS  # the deploy's settings for knowledge: the parents' clock...

    def db(self) -> AbstractContextManager[sqlite_utils.Database]:
        """The base for one block of work, through ``held``: listeners run in Bolt's thread pool
        and sqlite3 connections belong to one thread, so each block holds its thread's own and
        hands it back with nothing left half-done."""
        return held(self.db_path)
