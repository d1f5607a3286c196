"""Import files into the knowledge base: recognise the kind by content, parse, write atomically.

Each importer module parses only; this module owns the write, so every kind gets the same
guarantees: a file with bad rows writes nothing unless ``skip_invalid``; re-importing a file
updates its records in place (stable ids) and drops what the new version no longer holds; the
whole file lands in one transaction or not at all.
"""

from __future__ import annotations

import hashlib
import importlib
import pathlib
from dataclasses import dataclass, field

import sqlite_utils

from knowledge import areas as areas_mod
from knowledge.db import bump_version, now_iso, writing
from knowledge.importers.base import ImportError_, Parsed, RowError, decode

# Order matters only where two detectors could both answer: the most specific first.
IMPORTERS = [
    "opendata_events",
    "opendata_facilities",
    "faq_opendata",
    "faq_csv",
    "synonyms_csv",
    "placeholders_csv",
    "sheet",
    "evaluation",
    "plan",
]

# Tables whose rows belong wholly to one source file: replaced on re-import.
OWNED_TABLES = ["occurrences", "schedule_items", "progress", "activities", "bases", "faqs", "programs"]
PKS = {"synonyms": ("term", "canonical"), "areas": "name", "placeholders": ("area", "placeholder")}


class ImportRejected(Exception):
    """The file has bad rows and ``skip_invalid`` was not given: nothing was written."""

    def __init__(self, name: str, errors: list[RowError]):
        self.name = name
        self.errors = errors
        super().__init__(f"{name}: {len(errors)} bad row(s), nothing imported")


@dataclass
class ImportReport:
    name: str
    kind: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def detect(text: str, name: str):
    for module_name in IMPORTERS:
        module = importlib.import_module(f"knowledge.importers.{module_name}")
        if module.detect(text, name):
            return module
    raise ImportError_(
        f"{name}: the kind of file could not be recognised (expected a 重要取組シート, a plan "
        "section, a 地域子育て支援拠点事業 evaluation, a standard events/facilities CSV, an FAQ "
        "file or a synonyms CSV)"
    )


def parse_path(path: str | pathlib.Path, *, area=None, fiscal_year=None) -> tuple[Parsed, bytes]:
    path = pathlib.Path(path)
    data = path.read_bytes()
    text = decode(data)
    module = detect(text, path.name)
    parsed = module.parse(text, name=path.name, area=area, fiscal_year=fiscal_year)
    return parsed, data


def import_file(
    db: sqlite_utils.Database,
    path: str | pathlib.Path,
    *,
    area: str | None = None,
    fiscal_year: int | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import one file; raise ``ImportRejected`` (nothing written) on bad rows."""
    path = pathlib.Path(path)
    if area:
        area = areas_mod.resolve(db, area)
    parsed, data = parse_path(path, area=area, fiscal_year=fiscal_year)
    if parsed.errors and not skip_invalid:
        raise ImportRejected(path.name, parsed.errors)
    with writing(db):
        counts = write(db, parsed, name=path.name, sha256=hashlib.sha256(data).hexdigest())
    return ImportReport(path.name, parsed.kind, counts, parsed.errors, parsed.notes)


def write(db: sqlite_utils.Database, parsed: Parsed, *, name: str, sha256: str | None = None) -> dict:
    """Write a parsed file inside the caller's transaction; return counts by table."""
    resolved = {a: areas_mod.ensure_area(db, a)
                for a in {r.get("area") for rs in parsed.records.values() for r in rs if r.get("area")}}
    for table, rows in parsed.records.items():  # 旭区 -> 横浜市旭区, as the areas table names it
        for r in rows:
            if table != "placeholders" and r.get("area"):
                r["area"] = resolved[r["area"]]
    if parsed.area:
        parsed.area = resolved.get(parsed.area) or areas_mod.ensure_area(db, parsed.area)
    for table in OWNED_TABLES:
        if table in db.table_names():
            if table == "progress":
                db.execute("DELETE FROM progress WHERE source = ? AND origin = 'import'", [name])
            elif table not in parsed.records:
                _delete_owned(db, table, name, keep=set())
            else:
                _delete_owned(db, table, name, keep={r["id"] for r in parsed.records[table]})
    counts = {}
    # Parents before children, for the foreign keys.
    order = ["areas", "programs", "bases", "activities", "schedule_items", "progress", "occurrences", "faqs", "synonyms", "placeholders"]
    for table in sorted(parsed.records, key=lambda t: order.index(t) if t in order else len(order)):
        rows = parsed.records[table]
        if table != "areas":
            for r in rows:
                r.setdefault("source", name)
        if table == "progress":
            for r in rows:
                r.setdefault("origin", "import")
        pk = PKS.get(table, "id")
        db[table].upsert_all(rows, pk=pk, alter=True)
        counts[table] = len(rows)
    db["sources"].upsert(
        {
            "name": name,
            "kind": parsed.kind,
            "area": parsed.area,
            "fiscal_year": parsed.fiscal_year,
            "credit": parsed.credit,
            "sha256": sha256,
            "rows": parsed.rows or sum(counts.values()),
            "imported_at": now_iso(),
        },
        pk="name",
    )
    bump_version(db)
    return counts


def _delete_owned(db: sqlite_utils.Database, table: str, source: str, keep: set[str]) -> None:
    """Drop rows this source wrote before and no longer holds (children first)."""
    stale = [
        r[0]
        for r in db.execute(f"SELECT id FROM [{table}] WHERE source = ?", [source]).fetchall()
        if r[0] not in keep
    ]
    if not stale:
        return
    marks = ",".join("?" * len(stale))
    if table == "activities":
        db.execute(f"DELETE FROM occurrences WHERE activity_id IN ({marks})", stale)
    if table == "programs":
        for child in ("schedule_items", "progress"):
            db.execute(f"DELETE FROM [{child}] WHERE program_id IN ({marks})", stale)
    db.execute(f"DELETE FROM [{table}] WHERE id IN ({marks})", stale)
