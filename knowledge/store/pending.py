"""Channel events staged in the base until they are worked, one chat at a time, in order.

A webhook's events reach a queue worker in whatever order the queue hands bodies out, and two
workers may hold two bodies of one chat at once. So a worker first *stages* a body's events
here (one transaction, each event id claimed in ``inbox`` at the same time, so a redelivered
event is never staged twice), then works each chat it touched: it takes the chat's lease
(``chat_leases``, so one worker at a time works a chat, and a worker that died lets go when the
lease runs out), works the chat's staged events oldest first by the channel's own timestamp, and
deletes each one when it is done. An event left here by a crash is worked by the next worker
that looks at its chat (``waiting_chats`` at start).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC

import sqlite_utils

from knowledge.lang import clock
from knowledge.store import inbox
from knowledge.store.db import writing

LEASE_S = 60.0  # a chat's lease, renewed at each event: a worker that died lets go after this


@dataclass(frozen=True)
class Staged:
    """One event to stage: its id, its chat, the channel's timestamp (ms) and its body (JSON)."""

    event_id: str
    kind: str
    chat: str
    ts: int
    payload: str


def stage(db: sqlite_utils.Database, channel: str, events: list[Staged]) -> set[str]:
    """Stage the events not received before, in one transaction; the ids of those staged now."""
    now = clock.now().astimezone(UTC).isoformat(timespec="seconds")
    with writing(db):
        fresh = inbox.claim_many(db, channel, [(e.event_id, e.kind) for e in events])
        rows = [e for e in events if e.event_id in fresh]
        for e in rows:
            db.execute(
                "INSERT INTO pending_events(channel, event_id, chat, ts, payload, staged_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(channel, event_id) DO NOTHING",
                [channel, e.event_id, e.chat, e.ts, e.payload, now],
            )
    return {e.event_id for e in rows}


def lease(db: sqlite_utils.Database, channel: str, chat: str, holder: str, seconds: float = LEASE_S) -> bool:
    """Take (or renew) the lease on ``chat`` for ``holder``; False while another holds it."""
    now = time.time()
    with writing(db):
        taken = db.execute(
            "INSERT INTO chat_leases(channel, chat, holder, until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(channel, chat) DO UPDATE SET holder = excluded.holder, until = excluded.until "
            "WHERE chat_leases.holder = excluded.holder OR chat_leases.until < ?",
            [channel, chat, holder, now + seconds, now],
        ).rowcount
    return bool(taken)


def release(db: sqlite_utils.Database, channel: str, chat: str, holder: str) -> None:
    with writing(db):
        db.execute("DELETE FROM chat_leases WHERE channel = ? AND chat = ? AND holder = ?", [channel, chat, holder])


def next_event(db: sqlite_utils.Database, channel: str, chat: str) -> tuple[str, str] | None:
    """(event id, payload) of the chat's oldest staged event, by the channel's timestamp."""
    row = db.execute(
        "SELECT event_id, payload FROM pending_events WHERE channel = ? AND chat = ? ORDER BY ts, rowid LIMIT 1",
        [channel, chat],
    ).fetchone()
    return (row[0], row[1]) if row else None


def done(db: sqlite_utils.Database, channel: str, event_id: str) -> None:
    with writing(db):
        db.execute("DELETE FROM pending_events WHERE channel = ? AND event_id = ?", [channel, event_id])


def waiting_chats(db: sqlite_utils.Database, channel: str) -> list[str]:
    """Chats with staged events (left by a stop or a crash), oldest event first."""
    return [
        r[0]
        for r in db.execute(
            "SELECT chat FROM pending_events WHERE channel = ? GROUP BY chat ORDER BY min(ts)", [channel]
        ).fetchall()
    ]


def count(db: sqlite_utils.Database, channel: str) -> int:
    return db.execute("SELECT count(*) FROM pending_events WHERE channel = ?", [channel]).fetchone()[0]
