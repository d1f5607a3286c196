"""Which wards a staff member may write, checked when a write is applied.

A channel hands the domain what it trusts about the person acting: a ``Reach``, every ward (a
staff member listed by name) or one ward (the ward of the staff channel they act from). Ids and
ward names that came back from a client (a modal's metadata, a button's value, a form's fields)
are not trusted: ``check`` looks each record's ward up in the base and compares it, and the
ward a write names, with the reach, right before the write. A forged or stale payload that
names another ward's record is refused and nothing is written.

A ward's staff hold their ward and the city it belongs to: a city's records (its programs) are
shared by its wards, as ``progress.programs_in`` offers them and ``audit.recent`` shows them.
A ward a write names (where a new event or FAQ goes) must be the ward itself: only staff of
every ward may write for the whole city or for every ward (an FAQ with no ward).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlite_utils

from knowledge.store.areas import city_of

# Where each kind of record keeps its ward; the kind is also the field a refusal is shown on.
EVENT = "event"
PROGRAM = "program"
BASE = "base"
QUESTION = "question"  # a declined question (``unanswered``) an FAQ closes
WARD = "ward"  # the ward a write names, not a record
RECORD_WARD = {
    EVENT: "SELECT area FROM activities WHERE id = ? AND kind = 'event'",
    PROGRAM: "SELECT area FROM programs WHERE id = ?",
    BASE: "SELECT area FROM bases WHERE id = ?",
    QUESTION: "SELECT area FROM unanswered WHERE id = ?",
}


@dataclass(frozen=True)
class Reach:
    """The wards one staff member may write: ``every`` ward, or the one ``ward`` (none: nothing)."""

    every: bool = False
    ward: str | None = None

    def names(self, ward: str | None) -> bool:
        """Whether a write may go to ``ward`` (None: every ward at once)."""
        return self.every or (ward is not None and ward == self.ward)

    def holds(self, db: sqlite_utils.Database, area: str | None) -> bool:
        """Whether a record of ``area`` may be changed: the ward's own, or its city's shared ones."""
        if self.every:
            return True
        if area is None or self.ward is None:
            return False
        return area == self.ward or area == city_of(db, self.ward)


class OutOfWard(Exception):
    """A write outside the acting staff member's wards; ``field`` names what was refused (a
    record kind or ``ward``), ``area`` its ward as the base has it, ``record`` its id."""

    def __init__(self, field: str, area: str | None, record: str | None = None):
        self.field, self.area, self.record = field, area, record
        super().__init__(f"{field} {record or '-'} is in {area or 'every ward'}")


def check(
    db: sqlite_utils.Database,
    reach: Reach,
    *,
    wards: Iterable[str | None] = (),
    records: Mapping[str, str | int | None] | None = None,
) -> None:
    """Raise ``OutOfWard`` unless ``reach`` covers each ward a write names (``wards``) and the
    ward of each record it touches (``records``: kind -> id, as ``RECORD_WARD``). Called by every
    staff write path when the write is applied, because a payload can be replayed or forged long
    after the form was opened. A record not in the base is let through: nothing of another ward
    can be written through it, and the write's own validation says it is unknown."""
    for ward in wards:
        if not reach.names(ward):
            raise OutOfWard(WARD, ward)
    if reach.every:
        return
    for kind, record_id in (records or {}).items():
        if record_id in (None, ""):
            continue
        found = db.execute(RECORD_WARD[kind], [record_id]).fetchone()
        if found is not None and not reach.holds(db, found[0]):
            raise OutOfWard(kind, found[0], str(record_id))
