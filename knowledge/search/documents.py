"""The records a question may be answered with, as documents to match: ``load_docs``.

Each program, activity, base and FAQ of a base becomes one ``Doc``: its title and body folded
(``fold``) and read in katakana (``reading``), so かな meets 漢字, and the body as written for
the meaning stage. The index (``knowledge.search.index``) is built over these, and the stored
vectors (``knowledge.search.vectors``) are kept for their texts: both read them from here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from knowledge.lang.text import fold, lemmas, reading

STAGE = "records"  # the stage a ``progress`` callback hears of (``load_docs``)
PROGRESS_EVERY = 500  # records read between two calls of ``progress``
BODY_CHARS = 600  # of a record's body, enough for its subject; the rest only dilutes it


@dataclass
class Doc:
    kind: str  # program, activity, base, faq
    id: str  # primary key in its table
    public_id: str  # the id shown to callers (an FAQ's publisher ID)
    title: str
    area: str | None
    audience: tuple[str, ...]
    title_f: str
    title_r: str
    body_f: str
    body_r: str
    title_l: str = ""
    subkind: str | None = None
    group: str | None = None  # FAQs with the same answer share a group
    title_chunks: list[tuple] | None = None  # the title's content runs with their IDFs, made on first use
    body: str = ""  # the body as written (cut at BODY_CHARS): what the embedding stage reads


def _body(*parts) -> str:
    return " ".join(p for p in parts if p)[:BODY_CHARS]


def load_docs(db: sqlite_utils.Database, progress: Callable[[str, int, int], None] | None = None) -> list[Doc]:
    """Every record a parent's question may be answered with, as text to match; ``progress``
    (``knowledge.search.embed.Progress``) hears of the records read (``STAGE``)."""
    docs: list[Doc] = []
    told = _told(db, progress)
    schedules: dict[str, list[str]] = {}
    for row in db.query("SELECT program_id, text FROM schedule_items ORDER BY position"):
        schedules.setdefault(row["program_id"], []).append(row["text"])
    for p in db.query("SELECT * FROM programs"):
        body = _body(
            p["purpose"],
            p["operator"],
            p["situation"],
            p["content"],
            " ".join(schedules.get(p["id"], [])),
            p["results"],
        )
        docs.append(make_doc("program", p["id"], p["id"], p["title"], p["area"], [], body, p["kind"]))
        told(len(docs))
    for a in db.query("SELECT * FROM activities"):
        body = _body(a["description"], a["ages"], a["place"], a["frequency"])
        docs.append(
            make_doc(
                "activity", a["id"], a["id"], a["title"], a["area"], json.loads(a["audience"] or "[]"), body, a["kind"]
            )
        )
        told(len(docs))
    for b in db.query("SELECT * FROM bases"):
        body = _body(b["kind"], b["operator"], b["address"], b["ages"], b["description"])
        docs.append(make_doc("base", b["id"], b["id"], b["name"], b["area"], [], body, b["kind"]))
        told(len(docs))
    groups: dict[str, str] = {}
    for f in db.query("SELECT * FROM faqs ORDER BY CAST(faq_id AS INTEGER), id"):
        body = _body(f["service_name"], f["category"], f["category2"], f["answer"])
        doc = make_doc("faq", f["id"], f["faq_id"] or f["id"], f["question"], f["area"], [], body, f["category"])
        doc.group = groups.setdefault(f"{f['area']}\x1f{fold(f['answer'])}", f["id"])
        docs.append(doc)
        told(len(docs))
    told(len(docs), last=True)
    return docs


def _told(db: sqlite_utils.Database, progress):
    """``told(read)``: tells ``progress`` of the records read, every ``PROGRESS_EVERY`` of them
    and at the end (``last``); does nothing without ``progress``."""
    if progress is None:
        return lambda _read, last=False: None
    tables = db.table_names()
    total = sum(db[t].count for t in ("programs", "activities", "bases", "faqs") if t in tables)
    progress(STAGE, 0, total)

    def told(read: int, last: bool = False) -> None:
        if last or read % PROGRESS_EVERY == 0:
            progress(STAGE, total if last else min(read, total), total)

    return told


def make_doc(kind, pk, public_id, title, area, audience, body, subkind) -> Doc:
    title = title or ""
    return Doc(
        kind,
        pk,
        str(public_id),
        title,
        area,
        tuple(audience),
        fold(title),
        reading(title),
        fold(body),
        reading(body, cache=False),
        lemmas(title),
        subkind,
        body=body,
    )
