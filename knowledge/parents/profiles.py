"""What the bot keeps of a parent who follows it: their ward, their child's month, the digest.

A channel (LINE) identifies a parent by its own user id, the only identifier kept. The row
exists while they follow the account: unfollowing deletes it, leaving only anonymous counts
(``counts``). Every change is one write transaction (``knowledge.store.db.writing``), so two events
of the same parent arriving at once never leave a half-made profile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, timedelta

import sqlite_utils

from knowledge.lang import clock
from knowledge.store.db import now_iso, writing

logger = logging.getLogger(__name__)
OLDEST_CHILD_YEARS = 18  # a birth month further back is a typo, not a child the bot serves
LATEST_DUE_MONTHS = 10  # a due month further ahead is not a pregnancy
# An unfollow's time is kept (under a keyed hash) this long: LINE redelivers within a day or so,
# and an event older than the unfollow must not bring the profile back
UNFOLLOW_KEEP_DAYS = 7


@dataclass(frozen=True)
class Parent:
    user_id: str
    area: str | None = None
    child_month: str | None = None  # YYYY-MM
    child_due: bool = False
    child_asked: bool = False
    digest_off: bool = False
    step: str | None = None

    @property
    def set_up(self) -> bool:
        """The ward is known and the child question was answered or skipped."""
        return bool(self.area) and self.child_asked

    def age_months(self, today: date | None = None) -> int | None:
        """The child's age in whole months today; None when unknown or not yet born."""
        if not self.child_month or self.child_due:
            return None
        year, month = (int(p) for p in self.child_month.split("-"))
        today = today or clock.today()
        months = (today.year - year) * 12 + today.month - month
        return months if months >= 0 else None

    @property
    def expecting(self) -> bool:
        return bool(self.child_month) and self.child_due


def get(db: sqlite_utils.Database, user_id: str) -> Parent | None:
    row = db.execute(
        "SELECT user_id, area, child_month, child_due, child_asked, digest_off, step FROM parents WHERE user_id = ?",
        [user_id],
    ).fetchone()
    if row is None:
        return None
    return Parent(row[0], row[1], row[2], bool(row[3]), bool(row[4]), bool(row[5]), row[6])


def follow(db: sqlite_utils.Database, user_id: str, step: str | None = None) -> Parent:
    """A parent added the account (or unblocked it): a fresh profile, setup from the start; an
    earlier unfollow no longer stands (``unfollowed_after``)."""
    with writing(db):
        db.execute("DELETE FROM parents WHERE user_id = ?", [user_id])
        _clear_unfollow(db, user_id)
        now = now_iso()
        db["parents"].insert(
            {
                "user_id": user_id,
                "child_due": 0,
                "child_asked": 0,
                "digest_off": 0,
                "step": step,
                "followed_at": now,
                "updated_at": now,
            }
        )
        _count(db, "follows")
    logger.info("parent followed")
    return get(db, user_id)


def forget(db: sqlite_utils.Database, user_id: str, at_ms: int | None = None) -> bool:
    """A parent blocked or removed the account: delete what was kept of them. The digest's
    ledger keeps only a keyed hash in place of their id until the week is over, so following
    back the same week does not bring that week's digest a second time. ``at_ms`` (the channel's
    time of the unfollow) is kept under a keyed hash too, for ``unfollowed_after``."""
    from knowledge.parents import digest  # the ledger's owner (imported here: digest reads parents' table)

    with writing(db):
        deleted = db.execute("DELETE FROM parents WHERE user_id = ?", [user_id]).rowcount
        digest.forget_user(db, user_id)
        if at_ms is not None:
            key = digest.forgotten_id(digest.secret(db, create=True), user_id)
            db.execute(
                "INSERT INTO unfollows(key, at_ms, recorded_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET at_ms = max(at_ms, excluded.at_ms), recorded_at = excluded.recorded_at",
                [key, at_ms, clock.now().astimezone(UTC).isoformat(timespec="seconds")],
            )
            _purge_unfollows(db)
        _count(db, "unfollows")
    logger.info("parent unfollowed: profile %s", "deleted" if deleted else "was not kept")
    return bool(deleted)


def unfollowed_after(db: sqlite_utils.Database, user_id: str, ts_ms: int) -> bool:
    """Whether the parent unfollowed after ``ts_ms``: an event sent before an unfollow and worked
    after it (a redelivery, a slow queue) must neither make nor change a profile."""
    from knowledge.parents import digest

    secret = digest.secret(db, create=False)
    if secret is None:
        return False
    row = db.execute("SELECT at_ms FROM unfollows WHERE key = ?", [digest.forgotten_id(secret, user_id)]).fetchone()
    return bool(row) and row[0] > ts_ms


def _clear_unfollow(db: sqlite_utils.Database, user_id: str) -> None:
    from knowledge.parents import digest

    secret = digest.secret(db, create=False)
    if secret is not None:
        db.execute("DELETE FROM unfollows WHERE key = ?", [digest.forgotten_id(secret, user_id)])


def _purge_unfollows(db: sqlite_utils.Database) -> None:
    cutoff = (clock.now() - timedelta(days=UNFOLLOW_KEEP_DAYS)).astimezone(UTC).isoformat(timespec="seconds")
    db.execute("DELETE FROM unfollows WHERE recorded_at < ?", [cutoff])


def update(db: sqlite_utils.Database, user_id: str, **fields) -> Parent:
    """Change some of a parent's fields, making their row if the follow event never arrived
    (a friend added before the webhook was connected)."""
    allowed = {"area", "child_month", "child_due", "child_asked", "digest_off", "step"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"not a parent field: {', '.join(sorted(unknown))}")
    row = {k: int(v) if isinstance(v, bool) else v for k, v in fields.items()}
    now = now_iso()
    with writing(db):
        db.execute(
            "INSERT INTO parents(user_id, child_due, child_asked, digest_off, followed_at, updated_at) "
            "VALUES (?, 0, 0, 0, ?, ?) ON CONFLICT(user_id) DO NOTHING",
            [user_id, now, now],
        )
        db["parents"].update(user_id, {**row, "updated_at": now})
    return get(db, user_id)


def set_child(db: sqlite_utils.Database, user_id: str, day: date, *, due: bool, today: date | None = None) -> Parent:
    """Keep the month of a birth date or due date (the day itself is not needed); refuse a
    date no child the bot serves could have (ValueError)."""
    check_child_date(day, due=due, today=today)
    return update(
        db, user_id, child_month=f"{day.year:04d}-{day.month:02d}", child_due=due, child_asked=True, step=None
    )


def check_child_date(day: date, *, due: bool, today: date | None = None) -> None:
    today = today or clock.today()
    months = (day.year - today.year) * 12 + day.month - today.month
    if due and not 0 <= months <= LATEST_DUE_MONTHS:
        raise ValueError("due date out of range")
    if not due and not -OLDEST_CHILD_YEARS * 12 <= months <= 0:
        raise ValueError("birth date out of range")


def child_date_bounds(today: date | None = None) -> tuple[date, date]:
    """The earliest birth date and the latest due date the bot accepts (for date pickers)."""
    today = today or clock.today()
    earliest = date(today.year - OLDEST_CHILD_YEARS, today.month, 1)
    month = today.month - 1 + LATEST_DUE_MONTHS + 1  # the first day after the last due month
    first_after = date(today.year + month // 12, month % 12 + 1, 1)
    return earliest, date.fromordinal(first_after.toordinal() - 1)


def _count(db: sqlite_utils.Database, name: str) -> None:
    db.execute(
        "INSERT INTO counts(name, count) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET count = count + 1", [name]
    )


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {r[0]: r[1] for r in db.execute("SELECT name, count FROM counts").fetchall()}
