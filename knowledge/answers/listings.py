"""What's on: the events of an area held between two dates, in date and time order.

``events_between`` is the one query behind every listing: the answer to 「明日のイベントは？」, the
LINE channel's 「今週のイベント」 button and the weekly digest. It reads dated occurrences in the
window (``occurrences`` by date, joined with the area's events) and expands the recurrence
rules of the area's recurring events for the window only, so a base with years of dates costs
what the window holds. Records without dates (most activities of the plans) are never listed;
month-precision dates (a plan's 「5月」) are not days and are not listed either. Cancelled and
postponed events (状態 中止 / 延期) are left out.

Who an event is for is compared as ranges (``knowledge.lang.audience.ages_in``, read once at import
into ``age_min_months`` / ``age_max_months`` / ``for_pregnancy``); a record that states no
audience is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import sqlite_utils

from knowledge.lang import audience as audience_mod
from knowledge.lang.audience import Ages

# Ages a question's audience tag stands for, in months (knowledge.lang.audience.LABELS).
TAG_AGES = {
    "pregnancy": Ages(None, None, True),
    "0歳": Ages(0, 11),
    "1-2歳": Ages(12, 35),
    "3-5歳": Ages(36, 71),
    "school": Ages(72, 155),
}
# Groups a listing keeps to when asked (パパと → events for fathers); ages and pregnancy are ranges.
GROUP_TAGS = ("fathers", "single_parents", "foreign", "twins", "grandparents")
LEFT_OUT = ("cancelled", "postponed")


@dataclass(frozen=True)
class Listed:
    """One day of one event, as a listing shows it."""

    day: date
    start_time: str | None
    end_time: str | None
    title: str
    place: str | None
    audience: str | None  # who it is for, in the record's words (対象者) or the tags' labels
    activity_id: str
    area: str | None
    sample: bool = False

    @property
    def time(self) -> str | None:
        if self.start_time and self.end_time:
            return f"{self.start_time}〜{self.end_time}"
        return f"{self.start_time}〜" if self.start_time else None

    def public(self) -> dict:
        """The JSON form: an answer's item, with its date (YYYY-MM-DD) and time."""
        return {
            "kind": "event",
            "id": self.activity_id,
            "title": self.title,
            "score": 1.0,
            "date": self.day.isoformat(),
            "time": self.time,
            "place": self.place,
            "audience": self.audience,
            "area": self.area,
        }


def asked_ages(audience: str | Iterable[str] | Ages | None = None, age_months: int | tuple | None = None) -> Ages:
    """Who the caller asks for, as ``Ages``: a tag or tags (``0歳``, ``pregnancy``), an ``Ages``,
    a child's age in months (14) or a range of months ((12, 23))."""
    if isinstance(age_months, tuple):
        return Ages(age_months[0], age_months[1])
    if isinstance(age_months, int):
        return Ages(age_months, age_months)
    if isinstance(audience, Ages):
        return audience
    tags = [audience] if isinstance(audience, str) else list(audience or [])
    found = [TAG_AGES[t] for t in tags if t in TAG_AGES]
    if not found:
        return Ages()
    stated = [a for a in found if a.stated]
    if not stated:
        return Ages(None, None, any(a.pregnancy for a in found))
    return Ages(min(a.low for a in stated), max(a.high for a in stated), any(a.pregnancy for a in found))


def events_between(
    db: sqlite_utils.Database,
    area: str | Iterable[str] | None,
    start: date,
    end: date,
    *,
    audience: str | Iterable[str] | Ages | None = None,
    age_months: int | tuple | None = None,
    ages: Ages | None = None,
    weekdays: Iterable[int] = (),
    include_cancelled: bool = False,
    ids: Iterable[str] | None = None,
    limit: int | None = None,
) -> list[Listed]:
    """The events of ``area`` (a name, several, or None for every area) held from ``start`` to
    ``end`` (inclusive), one entry per day, in date and time order.

    ``audience`` (tags or ``Ages``) or ``age_months`` keep only events whose stated audience
    fits (``ages``, when given, is who is asked for instead); a group tag among ``audience`` (``fathers``, ``twins`` …, see ``GROUP_TAGS``) keeps
    only events for that group; ``weekdays`` (Monday 0) keeps only those days (12月の土曜日); ``ids`` keeps
    only those activities (a subject's events). Recurring events are
    listed on each of their days in the window.
    """
    if end < start:
        return []
    areas = [area] if isinstance(area, str) else (list(area) if area is not None else None)
    asked = ages if ages is not None else asked_ages(audience, age_months)
    days = set(weekdays)
    tags = (
        []
        if audience is None or isinstance(audience, Ages)
        else [audience]
        if isinstance(audience, str)
        else list(audience)
    )
    where, params = ["a.kind = 'event'"], []
    groups = [t for t in tags if t in GROUP_TAGS]
    if groups:
        where.append("(" + " OR ".join("a.audience LIKE ?" for _ in groups) + ")")
        params += [f'%"{t}"%' for t in groups]
    if ids is not None:
        ids = list(ids)
        if not ids:
            return []
        where.append(f"a.id IN ({','.join('?' * len(ids))})")
        params += ids
    if areas is not None:
        where.append(f"a.area IN ({','.join('?' * len(areas))})")
        params += areas
    if not include_cancelled:
        where.append(f"(a.status IS NULL OR a.status NOT IN ({','.join('?' * len(LEFT_OUT))}))")
        params += list(LEFT_OUT)
    cols = (
        "a.id, a.title, a.place, a.ages, a.audience, a.area, a.sample, a.age_min_months, "
        "a.age_max_months, a.for_pregnancy, a.start_time AS a_start, a.end_time AS a_end"
    )
    out: dict[tuple, Listed] = {}
    rows = db.query(
        f"SELECT o.date, o.start_time, o.end_time, {cols} FROM occurrences o "
        f"JOIN activities a ON a.id = o.activity_id "
        f"WHERE o.date BETWEEN ? AND ? AND coalesce(o.precision, 'day') = 'day' AND {' AND '.join(where)}",
        [start.isoformat(), end.isoformat(), *params],
    )
    for row in rows:
        day = date.fromisoformat(row["date"])
        _keep(out, row, day, row["start_time"], row["end_time"], asked, days, groups)
    rules = db.query(
        f"SELECT a.recurrence, a.recurrence_start, a.recurrence_until, {cols} FROM activities a "
        f"WHERE a.recurrence IS NOT NULL AND a.recurrence != '' "
        f"AND (a.recurrence_start IS NULL OR a.recurrence_start <= ?) "
        f"AND (a.recurrence_until IS NULL OR a.recurrence_until >= ?) AND {' AND '.join(where)}",
        [end.isoformat(), start.isoformat(), *params],
    )
    from knowledge.lang.recurrence import expand

    for row in rules:
        first = date.fromisoformat(row["recurrence_start"]) if row["recurrence_start"] else start
        until = date.fromisoformat(row["recurrence_until"]) if row["recurrence_until"] else None
        for day in expand(row["recurrence"], first, until, start, end):
            _keep(out, row, day, row["a_start"], row["a_end"], asked, days, groups)
    listed = sorted(out.values(), key=lambda e: (e.day, e.start_time or "99:99", e.title, e.activity_id))
    return listed[:limit] if limit is not None else listed


def _fits(row, asked: Ages, groups: Iterable[str] = ()) -> bool:
    """Whether an event suits who is asked for. A record that states no ages but names a group
    (祖父母, 外国につながる親子, 双子) is for that group: an age asked for (0歳の子と) does not
    keep it, unless the question names the group too."""
    if not asked.says_anything:
        return True
    record = Ages(row["age_min_months"], row["age_max_months"], bool(row["for_pregnancy"]))
    if not record.says_anything:
        own = set(json.loads(row["audience"] or "[]")) & set(GROUP_TAGS)
        return not own or bool(own & set(groups))
    return audience_mod.fits(record, asked)


def fits_record(row, asked: Ages) -> bool:
    """The weekly digest's audience test for one activity row (``audience_rows``), for a caller
    that lists a window once and fits it to many ages. ``events_between``'s test, except that a
    record stating no ages but naming a group (fathers, twins…) is kept: it is age-neutral, and
    a digest has no question that could name the group."""
    return _fits(row, asked, GROUP_TAGS)


def audience_rows(db: sqlite_utils.Database, ids: Iterable[str]) -> dict[str, dict]:
    """The columns ``fits_record`` reads, by activity id."""
    ids = list(set(ids))
    if not ids:
        return {}
    return {
        r["id"]: r
        for r in db.query(
            f"SELECT id, age_min_months, age_max_months, for_pregnancy, audience FROM activities "
            f"WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        )
    }


def _keep(
    out: dict, row, day: date, start_time, end_time, asked: Ages, days: set[int], groups: Iterable[str] = ()
) -> None:
    if days and day.weekday() not in days:
        return
    if not _fits(row, asked, groups):
        return
    key = (row["id"], day, start_time or "")
    if key in out:
        return
    out[key] = Listed(
        day, start_time, end_time, row["title"], row["place"], _who(row), row["id"], row["area"], bool(row["sample"])
    )


def _who(row) -> str | None:
    if row["ages"]:
        return row["ages"]
    tags = json.loads(row["audience"] or "[]")
    return "、".join(audience_mod.LABELS.get(t, t) for t in tags) or None


def next_events(
    db: sqlite_utils.Database, area, after: date, *, limit: int = 5, horizon_days: int = 120, **filters
) -> list[Listed]:
    """The first events after ``after`` (the day after a window that holds none), within a horizon."""
    first = after.toordinal() + 1
    if first > date.max.toordinal():
        return []
    start = date.fromordinal(first)
    end = date.fromordinal(min(first + horizon_days, date.max.toordinal()))
    return events_between(db, area, start, end, limit=limit, **filters)


SHOWN = 10  # lines a listing shows; the rest are counted


@dataclass
class Listing:
    """A listing as an answer carries it: the window, whose events, and what was found.

    ``entries`` are every event found in the window (a subject's in ranked order, else in date
    order); ``offered`` are the next events after an empty window. Channels render ``visible``
    their own way (a LINE carousel, Slack blocks); ``knowledge.answers.wording.listing_words`` is the text.
    """

    label: str
    start: date
    end: date
    area: str | None
    entries: list[Listed]
    offered: list[Listed] = field(default_factory=list)
    other_area: bool = False  # the question named a ward other than the parent's
    fitted: bool = False  # only events whose audience fits were kept
    subject: bool = False  # a subject's events in the window, ranked
    subject_title: str | None = None  # the subject asked about (its best-matching event's title)
    offered_elsewhere: bool = False  # ``offered`` are another area's: the asked area holds none
    by_ward: bool = False  # a city's listing: its wards' events too, each line naming its ward

    @property
    def visible(self) -> list[Listed]:
        return self.entries[:SHOWN] if self.entries else self.offered[:SHOWN]

    @property
    def more(self) -> int:
        return max(len(self.entries) - SHOWN, 0)
