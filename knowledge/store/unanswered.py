"""The log of questions the bot could not answer: what staff need to fill the gaps, no more.

Parents type anything into a chat, personal details included, and anyone can call the API,
so a row is made fit to keep before it is stored:

- control characters (NUL included) are dropped and whitespace is folded to single spaces;
- phone numbers and e-mail addresses are masked (``MASK_PHONE``, ``MASK_EMAIL``);
- the text is cut to ``MAX_CHARS`` (staff need the gist, not a pasted letter);
- one asker (a LINE user, a client address; stored only as a short hash) gets at most
  ``Policy.per_hour`` rows an hour, so one client cannot flood the table;
- rows older than ``Policy.retention_days`` (90 by default) are deleted.

The write takes the write lock first (``knowledge.store.db.writing``): the rate check reads before
it writes. It waits for the lock at most ``LOCK_WAIT_S``: a long import must not hold a
parent's answer (and a web thread) for the import's 30 s timeout. Callers treat a failed write
as a logged error, never as a failed answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from knowledge.lang.text import nfkc
from knowledge.store.db import busy_timeout, writing

logger = logging.getLogger(__name__)

MAX_CHARS = 200
MASK_PHONE = "［電話番号］"
MASK_EMAIL = "［メール］"
RATE_WINDOW = timedelta(hours=1)
LOCK_WAIT_S = 2.0
PURGE_EVERY = timedelta(hours=1)  # the retention purge runs at most this often per process
# 045-000-0000, 090 1234 5678, (03)1234-5678, 0120-123-456, +81-90-1234-5678, 09012345678
_SEP = r"[\s.\-\u2010-\u2015\u2212\u30fc]?"  # space, dot, hyphens, dashes, minus, ー
_PHONE = re.compile(rf"(?:\+81{_SEP}\(?|\(?0)\d{{1,4}}\)?{_SEP}\d{{1,4}}{_SEP}\d{{3,4}}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")  # ASCII: not the words around it
_PHONE_DIGITS = (9, 10, 11, 12)  # a Japanese number has 10 or 11 digits (+81 drops the 0)


@dataclass(frozen=True)
class Policy:
    """How long declined questions are kept, and how many rows one asker may add an hour: the
    deploy's choice (``knowledge.settings.Settings.unanswered``), passed to ``record``."""

    retention_days: int = 90
    per_hour: int = 20


DEFAULT_POLICY = Policy()


def clean(text: str) -> str:
    """The question as it may be kept: no control characters, masked, cut to ``MAX_CHARS``."""
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in nfkc(text))
    text = " ".join(text.split())
    text = _EMAIL.sub(MASK_EMAIL, text)
    text = _PHONE.sub(lambda m: MASK_PHONE if len(re.sub(r"\D", "", m.group())) in _PHONE_DIGITS else m.group(), text)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def pseudonym(asker: str) -> str:
    """A short hash of who asked: enough to count their rows, not to name them."""
    return hashlib.sha256(asker.encode("utf-8")).hexdigest()[:16]


def record(
    db: sqlite_utils.Database,
    text: str,
    *,
    area: str | None,
    best_score: float,
    asker: str | None = None,
    now: datetime | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> bool:
    """Store one declined question; False when the asker is over their hourly share."""
    now = now or datetime.now(UTC)
    who = pseudonym(asker) if asker else None
    with busy_timeout(db, LOCK_WAIT_S), writing(db):
        _purge_now_and_then(db, now, policy)
        if who and _recent(db, who, now) >= policy.per_hour:
            logger.info("unanswered question not logged: asker %s is over %d an hour", who, policy.per_hour)
            return False
        db["unanswered"].insert(
            {
                "text": clean(text),
                "area": area,
                "asked_at": _iso(now),
                "best_score": round(best_score, 3),
                "asker": who,
            }
        )
    return True


def forget(db: sqlite_utils.Database, asker: str) -> int:
    """Unlink an asker who left (a LINE user who blocked the bot): their questions stay for staff,
    without the pseudonym that tied them together."""
    with writing(db):
        return db.execute("UPDATE unanswered SET asker = NULL WHERE asker = ?", [pseudonym(asker)]).rowcount


def purge(db: sqlite_utils.Database, now: datetime | None = None, policy: Policy = DEFAULT_POLICY) -> int:
    """Delete rows older than the retention time; return how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=policy.retention_days)
    with writing(db):
        return db.execute("DELETE FROM unanswered WHERE asked_at < ?", [_iso(cutoff)]).rowcount


_last_purge: dict[str, datetime] = {}


def _purge_now_and_then(db: sqlite_utils.Database, now: datetime, policy: Policy) -> None:
    """``purge`` at most once per ``PURGE_EVERY`` per base in this process, not per question."""
    key = db.execute("PRAGMA database_list").fetchone()[2] or "memory"
    last = _last_purge.get(key)
    if last is None or not timedelta(0) <= now - last < PURGE_EVERY:
        purge(db, now, policy)
        _last_purge[key] = now


def _recent(db: sqlite_utils.Database, who: str, now: datetime) -> int:
    since = _iso(now - RATE_WINDOW)
    return db.execute("SELECT count(*) FROM unanswered WHERE asker = ? AND asked_at >= ?", [who, since]).fetchone()[0]


def _iso(moment: datetime) -> str:
    """UTC, second precision: the form ``knowledge.store.db.now_iso`` writes, so rows compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
