"""The audit log of staff writes: who changed what, when, and the record before and after.

Every staff write (a progress entry, an FAQ, an event added, edited or cancelled) calls
``record`` inside its own write transaction, so a write and its audit row land together or not
at all: nothing staff do is lost silently, and nothing is written without a trace. Staff read
the log back with ``recent``.

``Invalid`` is what the staff writes raise for bad input, before anything is written: a field
name and a code per problem, which each channel words in its own language.
"""

from __future__ import annotations

import json
import logging

import sqlite_utils

from knowledge.store.areas import city_of
from knowledge.store.db import now_iso

logger = logging.getLogger(__name__)
RECENT_LIMIT = 15


class Invalid(ValueError):
    """Bad input to a staff write; ``errors`` maps each bad field to a code (``empty``, ``date`` …)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__(", ".join(f"{k}: {v}" for k, v in self.errors.items()))


def record(
    db: sqlite_utils.Database,
    *,
    actor: str,
    action: str,
    target: str,
    area: str | None,
    before: dict | None,
    after: dict | None,
) -> int:
    """Add one audit row; call inside the writer's transaction. Returns the row's id."""
    row = {
        "at": now_iso(),
        "actor": actor,
        "area": area,
        "action": action,
        "target": target,
        "before": _json(before),
        "after": _json(after),
    }
    rowid = db["audit"].insert(row).last_rowid
    logger.info("audit %s %s by %s (area %s)", action, target, actor, area or "-")
    return rowid


def recent(db: sqlite_utils.Database, area: str | None = None, limit: int = RECENT_LIMIT) -> list[dict]:
    """The latest audit rows, newest first, of ``area`` and its city (a ward's staff write to
    the city's programs too); every area when None."""
    where, params = "", []
    if area:
        shown = [area] + [c for c in [city_of(db, area)] if c and c != area]
        where, params = f"WHERE area IN ({','.join('?' * len(shown))})", shown
    rows = db.query(f"SELECT * FROM audit {where} ORDER BY id DESC LIMIT ?", [*params, limit])
    return [r | {"before": _load(r["before"]), "after": _load(r["after"])} for r in rows]


def _json(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _load(text: str | None) -> dict | None:
    return None if text is None else json.loads(text)
