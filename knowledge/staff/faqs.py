"""FAQs staff write for their ward from the questions parents asked that the bot declined.

``open_groups`` reads the declined questions still open (no FAQ written for them yet), groups
them by likeness with rapidfuzz (so 「夜間に子どもを預けたい」 and 「夜に子供を預けたい」 are one
gap to fill, counted twice) within each area (a question of another ward is another gap: an
FAQ is written for one ward) and returns the largest groups first. A group is named by its
``lead`` (its most recent question's id); ``group_ids`` finds its questions again at submit, so
no list of ids travels through Slack. ``add`` writes the FAQ for a
ward, marks the group's questions as answered by it, adds its audit row and bumps the version,
all in one transaction. The words parents used are kept with the FAQ (``service_name``, which
the index reads with the answer), so their phrasing finds it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import sqlite_utils
from rapidfuzz import fuzz

from knowledge.lang.text import fold
from knowledge.store import audit
from knowledge.store.db import bump_version, writing

logger = logging.getLogger(__name__)

LIKENESS = 70  # rapidfuzz ratio (0-100) from which two folded questions are one group
MAX_OPEN = 500  # declined questions read per listing, newest first
MAX_QUESTION = 300
MAX_ANSWER = 3000
MAX_WORDS = 500
STAFF_SOURCE = "staff"


@dataclass
class Group:
    """Declined questions alike enough to be answered by one FAQ."""

    text: str  # the group's first (most recent) question, as kept
    ids: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    area: str | None = None

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def lead(self) -> int:
        return self.ids[0]


def open_groups(db: sqlite_utils.Database, area: str | None, limit: int | None = 10) -> list[Group]:
    """Open declined questions of ``area`` (every area when None), grouped per area, largest first."""
    where, params = "resolved_faq IS NULL", []
    if area:
        where += " AND area = ?"
        params.append(area)
    rows = list(
        db.query(f"SELECT id, text, area FROM unanswered WHERE {where} ORDER BY id DESC LIMIT ?", [*params, MAX_OPEN])
    )
    groups: list[tuple[str, Group]] = []  # (folded first text, group)
    for row in rows:
        folded = fold(row["text"] or "")
        home = next((g for key, g in groups if g.area == row["area"] and fuzz.ratio(folded, key) >= LIKENESS), None)
        if home is None:
            home = Group(row["text"], area=row["area"])
            groups.append((folded, home))
        home.ids.append(row["id"])
        if row["text"] not in home.texts:
            home.texts.append(row["text"])
    ordered = sorted((g for _k, g in groups), key=lambda g: -g.count)
    return ordered if limit is None else ordered[:limit]


def group_ids(db: sqlite_utils.Database, area: str | None, lead: int) -> list[int]:
    """The open questions of the group ``lead`` belongs to (in ``area``), as grouped now."""
    for group in open_groups(db, area, limit=None):
        if lead in group.ids:
            return list(group.ids)
    return []


def validate(question: str | None, answer: str | None, words: str | None) -> None:
    errors = {}
    for name, value, limit in (("question", question, MAX_QUESTION), ("answer", answer, MAX_ANSWER)):
        if not (value or "").strip():
            errors[name] = "empty"
        elif len(value) > limit:
            errors[name] = "too_long"
    if words and len(words) > MAX_WORDS:
        errors["words"] = "too_long"
    if errors:
        raise audit.Invalid(errors)


def add(
    db: sqlite_utils.Database,
    *,
    area: str | None,
    question: str,
    answer: str,
    words: str | None = None,
    unanswered_ids: list[int] = (),
    group_of: int | None = None,
    actor: str,
) -> dict:
    """Write an FAQ for ``area`` (None: every area) and close the declined questions it answers
    (``unanswered_ids``, and the group of ``group_of`` as it stands), in one transaction."""
    validate(question, answer, words)
    faq_id = f"staff-{uuid.uuid4().hex[:12]}"
    row = {
        "id": f"{STAFF_SOURCE}#{faq_id}",
        "faq_id": faq_id,
        "question": question.strip(),
        "answer": answer.strip(),
        "area": area,
        "category": None,
        "category2": None,
        "service_name": (words or "").strip() or None,
        "department": None,
        "source": STAFF_SOURCE,
    }
    with writing(db):
        ids = [int(i) for i in unanswered_ids]
        if group_of is not None:
            ids += [i for i in group_ids(db, area, int(group_of)) if i not in ids]
        db["faqs"].insert(row)
        if ids:
            db.execute(
                f"UPDATE unanswered SET resolved_faq = ? WHERE id IN ({','.join('?' * len(ids))})", [row["id"], *ids]
            )
        audit.record(
            db,
            actor=actor,
            action="faq.add",
            target=f"faqs:{row['id']}",
            area=area,
            before=None,
            after=row | {"unanswered_ids": ids},
        )
        bump_version(db)
    logger.info("FAQ %s added for %s by %s (closes %d declined questions)", row["id"], area, actor, len(ids))
    return row
