"""Progress (進捗) entries staff add to a program, and finding the program they mean.

Staff type a program's name as they say it: in full (西区こどもの居場所等支援事業), shortened
(居場所), or misspelt. ``find_program`` takes a program for certain only on an exact title or
a unique title holding the name within the staff's ward and its city (everywhere when staff
work outside a ward channel). Anything else, a fuzzy match or a program of another ward, is
only a ``guess``: the caller asks (a select menu with the guess preselected), never writes.

``add`` writes one entry in one transaction with its audit row and a version bump, so the
search index notices and a parent asking about the program sees the new progress.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import sqlite_utils
from rapidfuzz import fuzz, process

from knowledge.lang.text import fold
from knowledge.store import audit
from knowledge.store.areas import city_of
from knowledge.store.db import bump_version, now_iso, writing

logger = logging.getLogger(__name__)

PERIODS = ("前期", "中期", "後期")
MAX_TEXT = 2000  # characters of one progress entry
FUZZY_CUTOFF = 60  # rapidfuzz score (0-100) below which a title is no candidate
FUZZY_MARGIN = 10  # how far the best fuzzy match must stand above the runner-up to be taken
MAX_CANDIDATES = 25


@dataclass
class Lookup:
    """The program a name found, or the candidates to choose from when it is ambiguous."""

    program: dict | None = None  # certain: an exact or contained match in the staff's area
    candidates: list[dict] = field(default_factory=list)
    guess: dict | None = None  # likely but not certain (fuzzy, or outside the area): to confirm


def programs_in(db: sqlite_utils.Database, area: str | None) -> list[dict]:
    """Programs of ``area`` and of its city (all programs when None), the area's own first."""
    rows = list(db.query("SELECT id, title, area, fiscal_year, kind FROM programs ORDER BY title"))
    if not area:
        return rows
    city = city_of(db, area)
    own = [r for r in rows if r["area"] == area]
    return own + [r for r in rows if r["area"] == city and city != area]


def find_program(db: sqlite_utils.Database, name: str, area: str | None = None) -> Lookup:
    """The program ``name`` means: certain only on an exact or contained match among the
    programs of ``area`` and its city; otherwise candidates and a guess to confirm."""
    wanted = fold(name or "")
    if not wanted:
        return Lookup()
    own = programs_in(db, area)
    found = _match(own, wanted, name)
    if found.program or found.candidates:
        return found
    if area:  # another ward's or city's program: proposed, never taken
        elsewhere = _match(programs_in(db, None), wanted, name)
        if elsewhere.program or elsewhere.candidates:
            return Lookup(None, elsewhere.candidates or [elsewhere.program], guess=elsewhere.program)
    return _fuzzy(own, wanted) if own else Lookup()


def _match(rows: list[dict], wanted: str, raw: str) -> Lookup:
    by_id = [r for r in rows if r["id"] == raw.strip()]
    exact = by_id or [r for r in rows if fold(r["title"]) == wanted]
    if len(exact) == 1:
        return Lookup(exact[0])
    holding = exact or [r for r in rows if wanted in fold(r["title"])]
    if len(holding) == 1:
        return Lookup(holding[0])
    return Lookup(None, holding[:MAX_CANDIDATES])


def _fuzzy(rows: list[dict], wanted: str) -> Lookup:
    """Titles like the name: candidates only, the best preselected when it stands clear."""
    titles = {i: fold(r["title"]) for i, r in enumerate(rows)}
    found = process.extract(wanted, titles, scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=MAX_CANDIDATES)
    if not found:
        return Lookup()
    candidates = [rows[key] for _title, _score, key in found]
    clear = len(found) == 1 or found[0][1] - found[1][1] >= FUZZY_MARGIN
    return Lookup(None, candidates, guess=candidates[0] if clear else None)


def validate(
    program_id: str | None, period: str | None, text: str | None, db: sqlite_utils.Database | None = None
) -> None:
    """Raise ``audit.Invalid`` naming every bad field (before anything is written); with ``db``,
    a program that is not in the base is one."""
    errors = {}
    if not program_id:
        errors["program"] = "empty"
    elif db is not None and not db.execute("SELECT 1 FROM programs WHERE id = ?", [program_id]).fetchone():
        errors["program"] = "unknown"
    if period not in PERIODS:
        errors["period"] = "period"
    if not (text or "").strip():
        errors["text"] = "empty"
    elif len(text) > MAX_TEXT:
        errors["text"] = "too_long"
    if errors:
        raise audit.Invalid(errors)


def add(
    db: sqlite_utils.Database, program_id: str, period: str, text: str, *, actor: str, actor_name: str | None = None
) -> dict:
    """Add one progress entry (its audit row and a version bump in the same transaction)."""
    validate(program_id, period, text)
    with writing(db):
        program = db.execute("SELECT area FROM programs WHERE id = ?", [program_id]).fetchone()
        if program is None:
            raise audit.Invalid({"program": "unknown"})
        row = {
            "id": f"progress-staff-{uuid.uuid4().hex[:16]}",
            "program_id": program_id,
            "period": period,
            "text": text.strip(),
            "posted_by": actor_name or actor,
            "posted_at": now_iso(),
            "origin": "slack",
            "source": "staff",
        }
        db["progress"].insert(row)
        audit.record(
            db,
            actor=actor,
            action="progress.add",
            target=f"progress:{row['id']}",
            area=program[0],
            before=None,
            after=row,
        )
        bump_version(db)
    logger.info("progress added to %s (%s) by %s", program_id, period, actor)
    return row


def entries(db: sqlite_utils.Database, program_id: str, period: str | None = None) -> list[dict]:
    """A program's progress entries (of one period when given), imported first, then by time."""
    where, params = "program_id = ?", [program_id]
    if period:
        where += " AND period = ?"
        params.append(period)
    return list(
        db.query(f"SELECT * FROM progress WHERE {where} ORDER BY posted_at IS NOT NULL, posted_at, rowid", params)
    )
