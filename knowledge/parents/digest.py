"""The weekly digest: who gets which events, and the ledger that makes each delivery happen once.

**Planning** (channel-neutral). A subscriber is a parent row (the row exists only while they
follow the account) with a ward set and the digest not turned off (配信停止). Each gets the
events of the 7 days from the week's start, in their ward and its city (a city's parent: the
city and all its wards, as a listing of 今週のイベント does), that fit their child on the week's
first day: a child's age in months from the birth month, pregnancy from a due month not yet
passed (a due month already passed is read as the birth month), every event when no child is
set. Cancelled and postponed events are left out by ``listings.events_between``. Parents whose
digest would be identical (same ward, same events, same wording) form one ``Group``: a channel
sends a group with as few calls as it can.

**Ledger**. Exactly once rests on three tables (``m009_digest``): ``digest_contents`` (the
payload of each distinct digest of a week, as the channel rendered it), ``digest_batches`` (one
call: its retry key, its payload, its state) and ``digest_deliveries`` (per week and user: the
state and the batch and key that carried it). A batch's key is committed *before* its call;
the call's result is committed after. A run that stops in between (a crash, a kill, a deploy)
leaves the batch ``sending``; the next run sends it again with the same key and the same
payload, and the channel's idempotency (LINE's ``X-Line-Retry-Key``: a reused accepted key
answers 409) makes that a no-op if the first call got through. Users already ``sent`` are never
planned again. A LINE retry key is honoured for 24 hours only: an unfinished batch whose key
is older than ``KEY_TTL_S`` is not sent again (LINE would take the old key as new and deliver
twice) but marked ``UNCERTAIN`` and reported to staff. ``digest_lock`` keeps to one run at a time: two runs at once (two clocks started
by mistake, cron and a person) would otherwise both find the same users unsent.

A parent who unfollows leaves nothing identifying, yet must not get the week's digest again
after following back the same week: their ledger rows keep only a keyed hash of their user id
(``forgotten_id``: HMAC-SHA256 under a random secret kept in ``meta``, so the hash cannot be
recomputed from a user id elsewhere), which planning checks, and which is purged once the week
is over (``FORGOTTEN_KEEP_DAYS``).

Every write goes through ``knowledge.store.db.writing`` (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlite_utils

from knowledge.answers import listings
from knowledge.answers.wording import listing_line
from knowledge.lang import clock
from knowledge.lang.audience import Ages
from knowledge.lang.dates import WEEKDAYS
from knowledge.store.areas import city_of, wards_of
from knowledge.store.db import now_iso, writing

logger = logging.getLogger(__name__)

WEEK_DAYS = 7
DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
DEFAULT_TIME = "MON 09:00"
SHOWN_LINES = 10  # event lines of the text version; the rest are counted
LOCK_NAME = "digest"
LOCK_STALE_S = 15 * 60  # a lock whose holder has not been heard of for this long is taken over
TIME_RE = re.compile(r"^\s*([A-Za-z]{3})\s+(\d{1,2}):(\d{2})\s*$")

# delivery and batch states
SENDING = "sending"  # the key is stored; the call's result is not (yet)
SENT = "sent"
FAILED = "failed"  # gave up for this run; the next run retries with the same key
DROPPED = "dropped"  # left out of an unfinished batch's resend (配信停止 since); never planned again that week
UNCERTAIN = "uncertain"  # its key expired before the batch was known done: never resent (LINE might deliver twice)
UNFINISHED = (SENDING, FAILED)

# LINE keeps a retry key for 24 hours after its first request (docs: retrying API requests);
# an hour less leaves room for clock skew and a run that started just before the limit.
KEY_TTL_S = 23 * 3600
START_WEEKDAY = 0  # every week the digest covers starts on a Monday (the clock sends the coming Monday's)

# the pseudonymised ledger rows of parents who unfollowed (see the module docstring)
FORGOTTEN_PREFIX = "forgotten:"
SECRET_META_KEY = "digest_forget_secret"
FORGOTTEN_KEEP_DAYS = 2 * WEEK_DAYS  # after the week's last day, a week more for late reruns


# --- the schedule --------------------------------------------------------------------------


def parse_time(value: str | None) -> tuple[int, int, int]:
    """``MON 09:00`` as (weekday 0-6, hour, minute); ValueError with what is expected."""
    m = TIME_RE.match(value or "")
    if not m or m.group(1).upper() not in DAY_NAMES:
        raise ValueError(f"{value!r}: use a day and a time, e.g. MON 09:00 (days: {', '.join(DAY_NAMES)})")
    hour, minute = int(m.group(2)), int(m.group(3))
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r}: the time must be 00:00 to 23:59")
    return DAY_NAMES.index(m.group(1).upper()), hour, minute


def coming_monday(today: date | None = None) -> date:
    """The default week's first day: today when it is a Monday, else the next Monday."""
    today = today or clock.today()
    return today + timedelta(days=(7 - today.weekday()) % 7)


def check_week(day: date) -> None:
    """Refuse a week not starting on ``START_WEEKDAY``: the ledger is keyed by the week's first
    day, so a week started on another day would overlap a sent week and send its days again."""
    if day.weekday() != START_WEEKDAY:
        raise ValueError(
            f"{day.isoformat()} is a {DAY_NAMES[day.weekday()]}: a digest week starts on a "
            f"{DAY_NAMES[START_WEEKDAY]} (e.g. {coming_monday(day).isoformat()})"
        )


def week_end(week: date) -> date:
    return week + timedelta(days=WEEK_DAYS - 1)


# --- planning ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscriber:
    user_id: str
    area: str
    ages: Ages  # who the digest is for: Ages() when no child is set
    followed_at: str | None = None

    @property
    def priority(self) -> tuple:
        """Order of ``--allow-partial``: expecting parents, then the youngest children, then
        parents who set no child; earliest followers first within each."""
        if self.ages.pregnancy:
            rank = -1
        elif self.ages.stated:
            rank = self.ages.low
        else:
            rank = 10**6
        return rank, self.followed_at or "", self.user_id


@dataclass(frozen=True)
class Digest:
    """What one parent gets for a week, channel-neutral: the events, and how to word them."""

    week: date
    area: str
    events: tuple[listings.Listed, ...]
    fitted: bool  # only events fitting the child were kept
    by_ward: bool  # a city's digest: each event names its ward
    note: str | None = None  # the ward's "nothing this week" note, for an empty week

    @property
    def empty(self) -> bool:
        return not self.events

    @functools.cached_property
    def key(self) -> str:
        """Identity of the content: parents with equal keys get the same message."""
        raw = json.dumps(
            [
                self.week.isoformat(),
                self.area,
                self.fitted,
                self.by_ward,
                self.note,
                [e.public() | {"sample": e.sample} for e in self.events],
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


@dataclass
class Group:
    """Parents whose digest is identical; ``recipients`` in priority order."""

    digest: Digest
    recipients: list[Subscriber] = field(default_factory=list)


@dataclass
class Plan:
    week: date
    groups: list[Group]
    skipped_empty: int = 0  # subscribers whose week holds nothing (and no note is configured)
    opted_out: int = 0  # parents with 配信停止
    no_area: int = 0  # parents who never chose a ward
    unknown_area: int = 0  # parents whose ward is no longer known (renamed or removed): told to staff

    @property
    def recipients(self) -> int:
        return sum(len(g.recipients) for g in self.groups)


def ages_for(child_month: str | None, child_due: bool, week: date) -> Ages:
    """Who a parent's digest is for, on the week's first day (see the module docstring)."""
    if not child_month:
        return Ages()
    year, month = (int(p) for p in child_month.split("-"))
    months = (week.year - year) * 12 + week.month - month
    if child_due and months <= 0:
        return Ages(None, None, True)
    if months < 0:
        return Ages()  # a birth month after the week: not a child the digest can fit
    return Ages(months, months)


def subscribers(db: sqlite_utils.Database, week: date) -> tuple[list[Subscriber], int, int, int]:
    """The parents who get the digest, and how many were left out for 配信停止, no ward, or a
    ward the base no longer knows (a renamed or removed ward would otherwise look like a week
    without events, and nobody would fix it)."""
    known = {r[0] for r in db.execute("SELECT name FROM areas")}
    subs, off, no_area, unknown = [], 0, 0, 0
    for row in db.execute("SELECT user_id, area, child_month, child_due, digest_off, followed_at FROM parents"):
        if row[4]:
            off += 1
        elif not row[1]:
            no_area += 1
        elif row[1] not in known:
            unknown += 1
        else:
            subs.append(Subscriber(row[0], row[1], ages_for(row[2], bool(row[3]), week), row[5]))
    if unknown:
        logger.warning(
            "digest for %s: %d parent(s) have a ward the base does not know (renamed or removed)", week, unknown
        )
    return subs, off, no_area, unknown


def listing_areas(db: sqlite_utils.Database, area: str) -> tuple[list[str], bool]:
    """The areas a parent's listing covers (a ward and its city; a city and its wards), and
    whether it spans wards (each line then names its ward) — as ``answer``'s listings do."""
    city = city_of(db, area)
    wards = wards_of(db, area)
    return [area] + ([city] if city and city != area else []) + wards, bool(wards)


ANY_AGE = Ages()  # a parent who gave no month: every event of the week


def digest_for(
    db: sqlite_utils.Database, area: str, week: date, ages: Ages = ANY_AGE, note: str | None = None
) -> Digest:
    """One parent's digest: the week's events of ``area`` that fit ``ages`` (the same fit as a
    run's, so a preview shows what is sent)."""
    return _Weeks(db, week, note).digest(area, ages)


class _Weeks:
    """Each ward's week listed once, then fitted to each age asked (``listings.fits_record``:
    ``events_between``'s test, but keeping the events of a group (fathers, twins…) that state no
    ages, which suit a parent of any child): 100,000 parents cost a query per ward, not per age."""

    def __init__(self, db: sqlite_utils.Database, week: date, note: str | None):
        self.db, self.week, self.note = db, week, note
        self.listed: dict[str, tuple[list[listings.Listed], bool]] = {}
        self.rows: dict[str, dict] = {}
        self.digests: dict[tuple, Digest] = {}

    def digest(self, area: str, ages: Ages) -> Digest:
        found = self.digests.get((area, ages))
        if found is None:
            if area not in self.listed:
                covered, by_ward = listing_areas(self.db, area)
                events = listings.events_between(self.db, covered, self.week, week_end(self.week))
                self.rows |= listings.audience_rows(self.db, [e.activity_id for e in events])
                self.listed[area] = (events, by_ward)
            events, by_ward = self.listed[area]
            kept = tuple(e for e in events if listings.fits_record(self.rows[e.activity_id], ages))
            found = Digest(self.week, area, kept, ages.says_anything, by_ward, None if kept else self.note)
            self.digests[(area, ages)] = found
        return found


def plan(db: sqlite_utils.Database, week: date, *, note: str | None = None, exclude: Iterable[str] = ()) -> Plan:
    """Who gets what for ``week``, grouped by identical content; ``exclude``: users already
    handled (the ledger's). A digest is computed once per (ward, ages), not per parent."""
    subs, off, no_area, unknown = subscribers(db, week)
    skip = set(exclude)
    key = secret(db) if any(u.startswith(FORGOTTEN_PREFIX) for u in skip) else None
    weeks = _Weeks(db, week, note)
    groups: dict[str, Group] = {}
    empty = 0
    for sub in sorted(subs, key=lambda s: s.priority):
        if sub.user_id in skip or (key and forgotten_id(key, sub.user_id) in skip):
            continue
        digest = weeks.digest(sub.area, sub.ages)
        if digest.empty and not digest.note:
            empty += 1
            continue
        groups.setdefault(digest.key, Group(digest)).recipients.append(sub)
    return Plan(week, list(groups.values()), empty, off, no_area, unknown)


def limit(groups: list[Group], allowed: int) -> tuple[list[Group], int]:
    """The first ``allowed`` recipients in priority order, regrouped; and how many were left."""
    ranked = sorted(((s, g) for g in groups for s in g.recipients), key=lambda p: p[0].priority)
    kept: dict[str, Group] = {}
    for sub, group in ranked[: max(allowed, 0)]:
        kept.setdefault(group.digest.key, Group(group.digest)).recipients.append(sub)
    return list(kept.values()), max(len(ranked) - max(allowed, 0), 0)


def batches(recipients: list, size: int) -> Iterator[list]:
    for i in range(0, len(recipients), size):
        yield recipients[i : i + size]


# --- wording (the text version: previews, notifications) ----------------------------------


def short_day(day: date) -> str:
    return f"{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def period(week: date) -> str:
    return f"{short_day(week)}〜{short_day(week_end(week))}"


def headline(digest: Digest) -> str:
    """The first line: whose week, how many events (what a notification shows first)."""
    if digest.empty:
        return f"{digest.area}の{period(digest.week)}のお知らせ"
    fitted = "（お子さんに合うもの）" if digest.fitted else ""
    return f"{digest.area}の{period(digest.week)}の子育てイベント{len(digest.events)}件{fitted}"


def text(digest: Digest) -> str:
    """The digest in words: the headline, one line per event (ten at most), how many more."""
    if digest.empty:
        return f"{headline(digest)}\n{digest.note or ''}".strip()
    lines = [headline(digest)] + [listing_line(e, digest.by_ward) for e in digest.events[:SHOWN_LINES]]
    if len(digest.events) > SHOWN_LINES:
        lines.append(f"ほかに{len(digest.events) - SHOWN_LINES}件あります。")
    if any(e.sample for e in digest.events):
        lines.append("※デモ用のサンプルデータを含みます。実際の日程は区役所にご確認ください。")
    lines.append("お知らせの停止は「配信停止」と送ってください。")
    return "\n".join(lines)


# --- the ledger ----------------------------------------------------------------------------


class LockHeld(RuntimeError):
    """Another run holds the digest lock: this one sends nothing."""


@dataclass(frozen=True)
class Batch:
    """One call as the ledger keeps it: its key is stored before the call is made."""

    batch_id: str
    week: date
    content_id: str
    retry_key: str
    user_ids: tuple[str, ...]
    state: str = SENDING
    attempts: int = 0
    created_at: str | None = None  # when its key was stored (``key_expired``)


def _host() -> str:
    return socket.gethostname()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_own_runs: set[str] = set()  # run ids holding the lock in this process (a run per thread)


def _stale(row, now: datetime) -> bool:
    """A lock is stale when its holder is gone: on this host, its process no longer exists, or
    it names this process but none of its live runs (a restarted container reuses pids);
    elsewhere, nothing was heard from it for ``LOCK_STALE_S``."""
    holder_run, holder_host, holder_pid, heard = row[1], row[2], row[3], datetime.fromisoformat(row[5])
    if holder_host == _host():
        if holder_pid == os.getpid():
            return holder_run not in _own_runs
        if not _pid_alive(holder_pid):
            return True
    return (now - heard).total_seconds() > LOCK_STALE_S


def take_lock(db: sqlite_utils.Database, week: date) -> str:
    """Take the one digest lock (BEGIN IMMEDIATE: two runs cannot both see it free); a run id.
    Raises ``LockHeld`` when a live run holds it."""
    run_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    with writing(db):
        row = db.execute(
            "SELECT name, run_id, host, pid, week, heartbeat_at, started_at FROM digest_lock WHERE name = ?",
            [LOCK_NAME],
        ).fetchone()
        if row and not _stale(row, now):
            raise LockHeld(
                f"another digest run (host {row[2]}, pid {row[3]}, week {row[4]}) holds the lock since {row[6]}"
            )
        if row:
            logger.warning("taking over a stale digest lock of host %s pid %s (last heard %s)", row[2], row[3], row[5])
        stamp = now.isoformat(timespec="seconds")
        db.execute(
            "INSERT OR REPLACE INTO digest_lock(name, run_id, host, pid, week, started_at, heartbeat_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [LOCK_NAME, run_id, _host(), os.getpid(), week.isoformat(), stamp, stamp],
        )
    _own_runs.add(run_id)
    return run_id


def heartbeat(db: sqlite_utils.Database, run_id: str) -> None:
    with writing(db):
        db.execute(
            "UPDATE digest_lock SET heartbeat_at = ? WHERE name = ? AND run_id = ?", [now_iso(), LOCK_NAME, run_id]
        )


def release_lock(db: sqlite_utils.Database, run_id: str) -> None:
    _own_runs.discard(run_id)
    with writing(db):
        db.execute("DELETE FROM digest_lock WHERE name = ? AND run_id = ?", [LOCK_NAME, run_id])


def handled(db: sqlite_utils.Database, week: date) -> set[str]:
    """Users of the week the ledger holds in any state: sent, or in a batch to retry."""
    return {r[0] for r in db.execute("SELECT user_id FROM digest_deliveries WHERE week = ?", [week.isoformat()])}


def store_content(db: sqlite_utils.Database, week: date, content_id: str, payload: str) -> None:
    """Keep a digest's payload as rendered, so a retried batch sends exactly what it sent."""
    with writing(db):
        db.execute(
            "INSERT INTO digest_contents(week, content_id, payload, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(week, content_id) DO NOTHING",
            [week.isoformat(), content_id, payload, now_iso()],
        )


def content(db: sqlite_utils.Database, week: date, content_id: str) -> str:
    row = db.execute(
        "SELECT payload FROM digest_contents WHERE week = ? AND content_id = ?", [week.isoformat(), content_id]
    ).fetchone()
    if row is None:
        raise LookupError(f"no stored digest content {content_id} for {week}")
    return row[0]


def open_batch(db: sqlite_utils.Database, week: date, content_id: str, user_ids: list[str]) -> Batch:
    """Store a new batch and its retry key, and mark its users ``sending``, in one transaction,
    before any call is made."""
    batch = Batch(str(uuid.uuid4()), week, content_id, str(uuid.uuid4()), tuple(user_ids))
    now = now_iso()
    with writing(db):
        db.execute(
            "INSERT INTO digest_batches(batch_id, week, content_id, retry_key, recipients, state, attempts, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
            [batch.batch_id, week.isoformat(), content_id, batch.retry_key, len(user_ids), SENDING, now, now],
        )
        db.conn.executemany(
            "INSERT INTO digest_deliveries(week, user_id, batch_id, retry_key, state, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(week.isoformat(), u, batch.batch_id, batch.retry_key, SENDING, now) for u in user_ids],
        )
    return batch


def unfinished(db: sqlite_utils.Database, week: date) -> list[Batch]:
    """Batches of the week whose key is stored and whose delivery is not known to be done,
    with their users still subscribed (an unfollowed user's rows are gone with them)."""
    out = []
    rows = db.execute(
        "SELECT batch_id, content_id, retry_key, state, attempts, created_at FROM digest_batches "
        "WHERE week = ? AND state IN (?, ?) ORDER BY created_at, batch_id",
        [week.isoformat(), *UNFINISHED],
    ).fetchall()
    for batch_id, content_id, key, state, attempts, created in rows:
        users = tuple(
            r[0]
            for r in db.execute(
                "SELECT d.user_id FROM digest_deliveries d JOIN parents p ON p.user_id = d.user_id "
                "WHERE d.batch_id = ? AND d.state IN (?, ?) AND p.digest_off = 0 ORDER BY d.user_id",
                [batch_id, *UNFINISHED],
            )
        )
        out.append(Batch(batch_id, week, content_id, key, users, state, attempts, created))
    return out


def record(
    db: sqlite_utils.Database,
    batch: Batch,
    state: str,
    *,
    status: int | None = None,
    attempts: int = 1,
    request_id: str | None = None,
    detail: str | None = None,
) -> None:
    """A batch's outcome, for the batch and each of its users, in one transaction."""
    now = now_iso()
    with writing(db):
        db.execute(
            "UPDATE digest_batches SET state = ?, http_status = ?, attempts = attempts + ?, request_id = ?, "
            "detail = ?, updated_at = ? WHERE batch_id = ?",
            [state, status, attempts, request_id, detail, now, batch.batch_id],
        )
        db.execute(
            "UPDATE digest_deliveries SET state = ?, updated_at = ? WHERE batch_id = ? AND state IN (?, ?)",
            [state, now, batch.batch_id, *UNFINISHED],
        )


def drop_unsubscribed(db: sqlite_utils.Database, batch: Batch) -> None:
    """Users of an unfinished batch who turned the digest off since: left out of its resend,
    and kept in the ledger (``DROPPED``) so that turning it on again that week plans nothing:
    the first call may have reached them."""
    with writing(db):
        db.execute(
            "UPDATE digest_deliveries SET state = ?, updated_at = ? WHERE batch_id = ? AND state IN (?, ?) "
            "AND user_id IN (SELECT user_id FROM parents WHERE digest_off = 1)",
            [DROPPED, now_iso(), batch.batch_id, *UNFINISHED],
        )


def key_expired(batch_created_at: str, now: datetime | None = None) -> bool:
    """Whether a batch's retry key may no longer be honoured by LINE (see ``KEY_TTL_S``)."""
    now = now or datetime.now(UTC)
    return (now - datetime.fromisoformat(batch_created_at)).total_seconds() > KEY_TTL_S


def expire_keys(db: sqlite_utils.Database, week: date, now: datetime | None = None) -> tuple[int, int]:
    """Mark the week's unfinished batches whose key expired ``UNCERTAIN`` (with their users):
    LINE may have delivered them, and a resend would be a new request. (batches, users)."""
    rows = db.execute(
        "SELECT batch_id, created_at FROM digest_batches WHERE week = ? AND state IN (?, ?)",
        [week.isoformat(), *UNFINISHED],
    ).fetchall()
    old = [r[0] for r in rows if key_expired(r[1], now)]
    if not old:
        return 0, 0
    users = 0
    stamp = now_iso()
    with writing(db):
        for batch_id in old:
            db.execute(
                "UPDATE digest_batches SET state = ?, detail = ?, updated_at = ? WHERE batch_id = ?",
                [UNCERTAIN, "retry key expired before the batch was known sent", stamp, batch_id],
            )
            users += db.execute(
                "UPDATE digest_deliveries SET state = ?, updated_at = ? WHERE batch_id = ? AND state IN (?, ?)",
                [UNCERTAIN, stamp, batch_id, *UNFINISHED],
            ).rowcount
    return len(old), users


def secret(db: sqlite_utils.Database, create: bool = False) -> bytes | None:
    """The base's key for ``forgotten_id``; made on first use (inside the caller's transaction)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [SECRET_META_KEY]).fetchone()
    if row is None and create:
        db.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
            [SECRET_META_KEY, secrets.token_hex(32)],
        )
        row = db.execute("SELECT value FROM meta WHERE key = ?", [SECRET_META_KEY]).fetchone()
    return bytes.fromhex(row[0]) if row else None


def forgotten_id(secret: bytes, user_id: str) -> str:
    """What the ledger keeps of an unfollowed parent: a keyed hash, matched only on refollow."""
    return FORGOTTEN_PREFIX + hmac.new(secret, user_id.encode(), hashlib.sha256).hexdigest()[:32]


def forget_user(db: sqlite_utils.Database, user_id: str) -> None:
    """Replace a parent's user id in the ledger by ``forgotten_id`` (called by
    ``parents.forget`` inside its transaction), and purge such rows of weeks long over."""
    rows = db.execute("SELECT 1 FROM digest_deliveries WHERE user_id = ? LIMIT 1", [user_id]).fetchone()
    if rows:
        db.execute(
            "UPDATE OR REPLACE digest_deliveries SET user_id = ? WHERE user_id = ?",
            [forgotten_id(secret(db, create=True), user_id), user_id],
        )
    purge_forgotten(db)


def purge_forgotten(db: sqlite_utils.Database, today: date | None = None) -> int:
    """Delete the pseudonymised rows of weeks over for ``FORGOTTEN_KEEP_DAYS``: no run sends
    those weeks any more, so nothing needs them."""
    cutoff = (today or clock.today()) - timedelta(days=FORGOTTEN_KEEP_DAYS)
    with writing(db):  # a savepoint inside ``parents.forget``'s transaction
        return db.execute(
            "DELETE FROM digest_deliveries WHERE user_id LIKE ? AND week < ?",
            [FORGOTTEN_PREFIX + "%", cutoff.isoformat()],
        ).rowcount


def counts(db: sqlite_utils.Database, week: date) -> dict[str, int]:
    """Deliveries of the week by state."""
    return {
        r[0]: r[1]
        for r in db.execute(
            "SELECT state, count(*) FROM digest_deliveries WHERE week = ? GROUP BY state", [week.isoformat()]
        )
    }
