"""When things happen: dated occurrences and recurrence rules, asked for a span of days.

Recurring events are stored as rules (RRULE) and expanded only for the span asked, so a
question or a weekly digest finds real dates at any time without a table of future rows.
Month-precision occurrences (a sheet's "5月") count for a span that touches their month.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import sqlite_utils


@dataclass(frozen=True)
class Occurrence:
    day: date
    precision: str  # day / month
    start_time: str | None = None
    end_time: str | None = None


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def dates_in(db: sqlite_utils.Database, activity_id: str, start: date, end: date) -> list[Occurrence]:
    """Occurrences of an activity between start and end (inclusive), in order."""
    out: list[Occurrence] = []
    for row in db.query(
        "SELECT date, precision, start_time, end_time FROM occurrences WHERE activity_id = ? ORDER BY date",
        [activity_id],
    ):
        day = date.fromisoformat(row["date"])
        last = _month_end(day) if row["precision"] == "month" else day
        if last >= start and day <= end:
            out.append(Occurrence(day, row["precision"] or "day", row["start_time"], row["end_time"]))
    act = db.execute(
        "SELECT recurrence, recurrence_start, recurrence_until, start_time, end_time FROM activities WHERE id = ?",
        [activity_id],
    ).fetchone()
    if act and act[0]:
        from knowledge.lang.recurrence import expand

        first = date.fromisoformat(act[1]) if act[1] else start
        until = date.fromisoformat(act[2]) if act[2] else None
        out += [Occurrence(d, "day", act[3], act[4]) for d in expand(act[0], first, until, start, end)]
    return sorted(set(out), key=lambda o: (o.day, o.start_time or ""))


def upcoming(
    db: sqlite_utils.Database, activity_id: str, today: date, limit: int = 3, horizon_days: int = 400
) -> list[Occurrence]:
    """The next occurrences from today (included) within the horizon, which stops at date.max."""
    end = date.fromordinal(min(today.toordinal() + horizon_days, date.max.toordinal()))
    return dates_in(db, activity_id, today, end)[:limit]


def all_dates(db: sqlite_utils.Database, activity_id: str) -> list[Occurrence]:
    """Every stated occurrence (not expanded rules), for "when" questions about past plans."""
    return [
        Occurrence(date.fromisoformat(r["date"]), r["precision"] or "day", r["start_time"], r["end_time"])
        for r in db.query("SELECT * FROM occurrences WHERE activity_id = ? ORDER BY date", [activity_id])
    ]
