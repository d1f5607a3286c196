"""Events staff add, edit and cancel for their ward (from Slack's event modal).

A staff event is written the way the events importer writes one: an ``activities`` row of kind
``event`` (who it is for read into ``age_min_months`` / ``age_max_months`` / ``for_pregnancy``
by ``knowledge.lang.audience.age_columns``, audience tags as the importer finds them) with an
``occurrences`` row for a dated event, or an RRULE in ``recurrence`` (from a Japanese phrase
such as 毎週水曜日, ``knowledge.lang.recurrence.parse_recurrence``) for a recurring one. Cancelling
sets ``status = 'cancelled'``: listings leave the event out and an answer about it by name
says 中止. Each write is one transaction with its audit row and a version bump.

Input is checked whole before anything is written (``audit.Invalid`` names every bad field).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import sqlite_utils
from rapidfuzz import fuzz, process

from knowledge.lang import clock
from knowledge.lang.audience import age_columns, ages_in, audience_tags
from knowledge.lang.recurrence import expand, parse_recurrence
from knowledge.lang.text import fold
from knowledge.store import audit
from knowledge.store.db import bump_version, writing

logger = logging.getLogger(__name__)

STAFF_SOURCE = "staff"
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
MAX_TITLE = 100
MAX_TEXT = 1000
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
FUZZY_CUTOFF = 60
MAX_CHOICES = 25
RULE_HORIZON = timedelta(days=366)  # a rule must give a date within a year of its start
RAW_RULE = re.compile(r"(?i)(?:RRULE:|FREQ\s*=)")  # only Japanese phrases are accepted, never RRULE text


@dataclass
class EventInput:
    """What the modal holds; every field as text (``day`` YYYY-MM-DD, times HH:MM), '' when left empty."""

    title: str = ""
    day: str = ""
    start_time: str = ""
    end_time: str = ""
    recurrence: str = ""  # a Japanese phrase: 毎週水曜日, 毎月第2火曜日
    base_id: str = ""
    place: str = ""
    ages: str = ""
    capacity: str = ""
    fee: str = ""
    how_to_apply: str = ""
    description: str = ""


def check(
    inp: EventInput, *, has_dates: bool = False, kept_ages: str | None = None, today: date | None = None
) -> tuple[date | None, str | None]:
    """The event's day and RRULE; raise ``audit.Invalid`` naming every bad field. ``today`` is
    the staff's day on the deploy's clock (Japan's when not given): a rule starts from it.

    ``has_dates``: the event being edited already has dates, so the modal may leave both the
    day and the recurrence empty (its dates are kept). ``kept_ages``: its audience text as
    stored; left as it is, it is not read again (an imported text the reader does not know).
    """
    errors: dict[str, str] = {}
    if not inp.title.strip():
        errors["title"] = "empty"
    elif len(inp.title) > MAX_TITLE:
        errors["title"] = "too_long"
    day = _day(inp.day, errors)
    rule = _rule(inp.recurrence, day or today or clock.today(), errors)
    if kept_ages is None or inp.ages.strip() != kept_ages.strip():
        _check_ages(inp.ages, errors)
    if day is None and rule is None and not has_dates and "day" not in errors and "recurrence" not in errors:
        errors["day"] = "when"
    for name in ("start_time", "end_time"):
        value = getattr(inp, name).strip()
        if value and not _TIME.match(value):
            errors[name] = "time"
    if (
        not errors.keys() & {"start_time", "end_time"}
        and inp.start_time
        and inp.end_time
        and _minutes(inp.end_time) <= _minutes(inp.start_time)
    ):
        errors["end_time"] = "end_before_start"
    for name in ("place", "ages", "capacity", "fee", "how_to_apply", "description"):
        if len(getattr(inp, name)) > MAX_TEXT:
            errors[name] = "too_long"
    if errors:
        raise audit.Invalid(errors)
    return day, rule


def _rule(text: str, start: date, errors: dict) -> str | None:
    """The RRULE of a Japanese phrase (毎週水曜日); raw RRULE text is refused (a FREQ=SECONDLY rule
    would cost every listing minutes), and so is a rule with no date in the year from its start."""
    if not text.strip():
        return None
    rule = None if RAW_RULE.search(text) else parse_recurrence(text)
    if rule is None:
        errors["recurrence"] = "recurrence"
        return None
    if not expand(rule, start, None, start, start + RULE_HORIZON):
        errors["recurrence"] = "no_dates"
        return None
    return rule


def _check_ages(text: str, errors: dict) -> None:
    """Who an event is for must be read as parents' questions read it: a range the right way
    round, or words the audience reader understands (1歳から3歳, 妊娠中の方, どなたでも)."""
    if not text.strip() or len(text) > MAX_TEXT:
        return
    ages = ages_in(text)
    if ages.low is not None and ages.high is not None and ages.low > ages.high:
        errors["ages"] = "ages_reversed"
    elif not ages.says_anything:
        errors["ages"] = "ages"


def is_past(day: date | None, today: date | None = None) -> bool:
    """Whether a day lies before today (accepted, but staff are warned)."""
    return day is not None and day < (today or clock.today())


def _day(text: str, errors: dict) -> date | None:
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        errors["day"] = "date"
        return None
    if not EARLIEST <= day <= LATEST:
        errors["day"] = "date"
        return None
    return day


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _row(
    db: sqlite_utils.Database, inp: EventInput, area: str, day: date | None, rule: str | None, today: date | None
) -> dict:
    base = db.execute("SELECT name FROM bases WHERE id = ?", [inp.base_id]).fetchone() if inp.base_id else None
    place = inp.place.strip() or (base[0] if base else None)
    # 定員 and 申込 are fields of their own, which replies show (``knowledge.answers.wording``); the
    # description no longer repeats them (older staff events had them there: schema m013).
    # 申込開始日, 参加申込終了日 and 申込URL are not in the modal: an edit leaves them as imported.
    description = inp.description.strip() or None
    row = {
        "title": inp.title.strip(),
        "kind": "event",
        "area": area,
        "base_id": inp.base_id or None,
        "description": description,
        "ages": inp.ages.strip() or None,
        "place": place,
        "fee": inp.fee.strip() or None,
        "capacity": inp.capacity.strip() or None,
        "how_to_apply": inp.how_to_apply.strip() or None,
        "audience": json.dumps(audience_tags(inp.ages, inp.title, inp.description), ensure_ascii=False),
        "start_time": inp.start_time.strip() or None,
        "end_time": inp.end_time.strip() or None,
        "recurrence": rule,
        "recurrence_start": (day or today or clock.today()).isoformat() if rule else None,
        "recurrence_until": None,
        "frequency": inp.recurrence.strip() or None,
        "sample": 0,
    }
    return row | age_columns(inp.ages)


def add(db: sqlite_utils.Database, area: str, inp: EventInput, *, actor: str, today: date | None = None) -> dict:
    """Add an event for ``area``; returns its row."""
    day, rule = check(inp, today=today)
    activity_id = f"event-staff-{uuid.uuid4().hex[:12]}"
    with writing(db):
        row = {"id": activity_id, "source": STAFF_SOURCE, "status": None} | _row(db, inp, area, day, rule, today)
        db["activities"].insert(row)
        if day is not None and rule is None:
            _occur(db, activity_id, day, inp)
        audit.record(
            db,
            actor=actor,
            action="event.add",
            target=f"activities:{activity_id}",
            area=area,
            before=None,
            after=row | {"day": inp.day or None},
        )
        bump_version(db)
    logger.info("event %s added for %s by %s", activity_id, area, actor)
    return row


def edit(
    db: sqlite_utils.Database, activity_id: str, inp: EventInput, *, actor: str, today: date | None = None
) -> dict:
    """Change an event; a new day or rule replaces all its dates, none keeps them (and a new
    time is then set on each kept date, which listings read). Its dates are in the audit's
    before and after."""
    with writing(db):
        before = _get(db, activity_id)
        if before is None:
            raise audit.Invalid({"event": "unknown"})
        before_dates = occurrences(db, activity_id)
        has_dates = bool(before.get("recurrence")) or bool(before_dates)
        day, rule = check(inp, has_dates=has_dates, kept_ages=before.get("ages") or "", today=today)
        row = _row(db, inp, before["area"], day, rule, today)
        if day is None and rule is None:  # dates kept as they were
            for key in ("recurrence", "recurrence_start", "recurrence_until", "frequency"):
                row[key] = before.get(key)
            _retime(db, activity_id, before, row)
        else:
            db.execute("DELETE FROM occurrences WHERE activity_id = ?", [activity_id])
            if rule is None:
                _occur(db, activity_id, day, inp)
        db["activities"].update(activity_id, row)
        after = _get(db, activity_id)
        audit.record(
            db,
            actor=actor,
            action="event.edit",
            target=f"activities:{activity_id}",
            area=before["area"],
            before=before | {"occurrences": before_dates},
            after=after | {"occurrences": occurrences(db, activity_id)},
        )
        bump_version(db)
    logger.info("event %s edited by %s", activity_id, actor)
    return after


def _retime(db: sqlite_utils.Database, activity_id: str, before: dict, row: dict) -> None:
    """Kept dates take a changed start or end time (listings read each date's own times)."""
    for key in ("start_time", "end_time"):
        if row[key] != before.get(key):
            db.execute(f"UPDATE occurrences SET {key} = ? WHERE activity_id = ?", [row[key], activity_id])


def occurrences(db: sqlite_utils.Database, activity_id: str) -> list[dict]:
    """An event's dates with their times, in order."""
    return list(
        db.query(
            "SELECT date, start_time, end_time FROM occurrences WHERE activity_id = ? ORDER BY date, start_time",
            [activity_id],
        )
    )


def date_count(db: sqlite_utils.Database, activity_id: str) -> int:
    """How many dates an event has (a day entered in the edit modal replaces them all)."""
    return db.execute("SELECT count(*) FROM occurrences WHERE activity_id = ?", [activity_id]).fetchone()[0]


def cancel(db: sqlite_utils.Database, activity_id: str, *, actor: str) -> dict:
    """Mark an event cancelled (中止): listings leave it out, an answer about it says so."""
    with writing(db):
        before = _get(db, activity_id)
        if before is None:
            raise audit.Invalid({"event": "unknown"})
        db["activities"].update(activity_id, {"status": "cancelled"})
        after = _get(db, activity_id)
        audit.record(
            db,
            actor=actor,
            action="event.cancel",
            target=f"activities:{activity_id}",
            area=before["area"],
            before=before,
            after=after,
        )
        bump_version(db)
    logger.info("event %s cancelled by %s", activity_id, actor)
    return after


def _occur(db: sqlite_utils.Database, activity_id: str, day: date, inp: EventInput) -> None:
    db["occurrences"].insert(
        {
            "id": f"occ-staff-{uuid.uuid4().hex[:12]}",
            "activity_id": activity_id,
            "date": day.isoformat(),
            "precision": "day",
            "start_time": inp.start_time.strip() or None,
            "end_time": inp.end_time.strip() or None,
            "source": STAFF_SOURCE,
        }
    )


def _get(db: sqlite_utils.Database, activity_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM activities WHERE id = ? AND kind = 'event'", [activity_id]))
    return rows[0] if rows else None


def _dated(db: sqlite_utils.Database, activity_id: str) -> bool:
    return bool(db.execute("SELECT 1 FROM occurrences WHERE activity_id = ? LIMIT 1", [activity_id]).fetchone())


def check_edit(
    db: sqlite_utils.Database, activity_id: str | None, inp: EventInput, today: date | None = None
) -> tuple[date | None, str | None]:
    """``check`` for a new event (no id) or an edit of ``activity_id`` as it stands."""
    row = _get(db, activity_id) if activity_id else None
    if row is None:
        return check(inp, today=today)
    return check(inp, has_dates=has_dates(db, activity_id), kept_ages=row.get("ages") or "", today=today)


def has_dates(db: sqlite_utils.Database, activity_id: str) -> bool:
    """Whether an event already has a day or a rule (an edit may then leave both empty)."""
    row = _get(db, activity_id)
    return bool(row and (row.get("recurrence") or _dated(db, activity_id)))


def get(db: sqlite_utils.Database, activity_id: str) -> dict | None:
    return _get(db, activity_id)


def as_input(db: sqlite_utils.Database, activity_id: str) -> EventInput | None:
    """An event as the modal shows it for editing (its one day, when it has exactly one)."""
    row = _get(db, activity_id)
    if row is None:
        return None
    days = [
        r[0]
        for r in db.execute(
            "SELECT date FROM occurrences WHERE activity_id = ? AND precision = 'day'", [activity_id]
        ).fetchall()
    ]
    description = row.get("description") or ""
    description = "\n".join(line for line in description.splitlines() if not line.startswith(("定員：", "申込：")))
    return EventInput(
        title=row["title"] or "",
        day=days[0] if len(days) == 1 else "",
        start_time=row.get("start_time") or "",
        end_time=row.get("end_time") or "",
        recurrence=(row.get("frequency") or "") if row.get("recurrence") else "",
        base_id=row.get("base_id") or "",
        place=row.get("place") or "",
        ages=row.get("ages") or "",
        capacity=row.get("capacity") or "",
        fee=row.get("fee") or "",
        how_to_apply=row.get("how_to_apply") or "",
        description=description,
    )


def find(db: sqlite_utils.Database, area: str | None, name: str) -> list[dict]:
    """Events of ``area`` (not cancelled) that ``name`` may mean: exact, holding it, else fuzzy."""
    where, params = "kind = 'event' AND (status IS NULL OR status != 'cancelled')", []
    if area:
        where += " AND area = ?"
        params.append(area)
    rows = list(db.query(f"SELECT id, title, area FROM activities WHERE {where} ORDER BY title", params))
    wanted = fold(name or "")
    if not wanted:
        return rows[:MAX_CHOICES]
    exact = [r for r in rows if fold(r["title"]) == wanted]
    holding = exact or [r for r in rows if wanted in fold(r["title"])]
    if holding:
        return holding[:MAX_CHOICES]
    found = process.extract(
        wanted,
        {i: fold(r["title"]) for i, r in enumerate(rows)},
        scorer=fuzz.partial_ratio,
        score_cutoff=FUZZY_CUTOFF,
        limit=MAX_CHOICES,
    )
    return [rows[key] for _t, _s, key in found]


def bases_in(db: sqlite_utils.Database, area: str | None) -> list[dict]:
    where, params = ("WHERE area = ?", [area]) if area else ("", [])
    return list(db.query(f"SELECT id, name FROM bases {where} ORDER BY name", params))


def input_dict(inp: EventInput) -> dict:
    return asdict(inp)
