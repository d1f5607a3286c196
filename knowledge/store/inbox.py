"""Received channel events, by id: what makes a redelivered webhook event a no-op.

LINE redelivers an event when it did not see a 200 in time, and may deliver one twice; each
event carries a ``webhookEventId``. ``claim`` records an id in its own write transaction and
says whether this call was the first: only the first claimant handles the event. Ids are kept
``RETAIN_DAYS`` (LINE redelivers within a day or so) and then purged.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, timedelta

import sqlite_utils

from knowledge.lang import clock
from knowledge.store.db import writing

logger = logging.getLogger(__name__)
RETAIN_DAYS = 7
PURGE_EVERY = 500  # claims between purges of old ids


def claim(db: sqlite_utils.Database, channel: str, event_id: str, kind: str) -> bool:
    """True when this event id was not seen before (and is now recorded as received)."""
    return event_id in claim_many(db, channel, [(event_id, kind)])


def claim_many(db: sqlite_utils.Database, channel: str, events: list[tuple[str, str]]) -> set[str]:
    """The ids among ``events`` ((id, kind) pairs) not seen before, all recorded as received in
    one transaction: one wait for the write lock per webhook body, not one per event."""
    now = clock.now().astimezone(UTC)  # stored in UTC: comparable whatever the zone setting
    fresh: set[str] = set()
    with writing(db):
        for event_id, kind in events:
            inserted = db.execute(
                "INSERT INTO inbox(channel, event_id, kind, received_at, status) VALUES (?, ?, ?, ?, 'received') "
                "ON CONFLICT(channel, event_id) DO NOTHING",
                [channel, event_id, kind, now.isoformat(timespec="seconds")],
            ).rowcount
            if inserted:
                fresh.add(event_id)
        if fresh and db.execute("SELECT max(rowid) % ? FROM inbox", [PURGE_EVERY]).fetchone()[0] < len(fresh):
            _purge(db, now)
    return fresh


def settle(db: sqlite_utils.Database, channel: str, event_id: str, status: str, detail: str | None = None) -> None:
    """Record how an event's handling ended (done, failed, reply_failed) for the deployer."""
    try:
        with writing(db):
            db.execute(
                "UPDATE inbox SET status = ?, detail = ? WHERE channel = ? AND event_id = ?",
                [status, (detail or "")[:500] or None, channel, event_id],
            )
    except sqlite3.Error:
        logger.exception("could not record the outcome of %s event %s (%s)", channel, event_id, status)


def status(db: sqlite_utils.Database, channel: str, event_id: str) -> str | None:
    row = db.execute("SELECT status FROM inbox WHERE channel = ? AND event_id = ?", [channel, event_id]).fetchone()
    return row[0] if row else None


def _purge(db: sqlite_utils.Database, now) -> None:
    cutoff = (now - timedelta(days=RETAIN_DAYS)).isoformat(timespec="seconds")
    gone = db.execute("DELETE FROM inbox WHERE received_at < ?", [cutoff]).rowcount
    if gone:
        logger.info("purged %d event ids older than %d days", gone, RETAIN_DAYS)
