"""Import files into the knowledge base: recognise the kind by content, parse, write atomically.

Each importer module parses only; this module owns the write, so every kind gets the same
guarantees: a file with bad rows writes nothing unless ``skip_invalid``; re-importing a file
updates its records in place (stable ids) and drops what the new version no longer holds; the
whole file lands in one transaction or not at all.

A source is identified by what it is, not by where the file lies: its kind, its area (resolved,
from the content or the ``area`` argument) and its file name, or an explicit ``source`` label in
place of the name (``source_id``). Two wards' ``events.csv`` are two sources and keep all their
records; importing a file of the same kind, area and name again is an update of that source. A
deployer who has two different files of one kind, area and name labels them
(``kb import --source LABEL``), and must give the same label when re-importing either.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import pathlib
from dataclasses import dataclass, field

import sqlite_utils

from knowledge.importers.base import Parsed, RowError, UnreadableFile, decode, read_bounded
from knowledge.lang.audience import age_columns
from knowledge.search.embed import DEFAULT_MEANING, Meaning, Progress
from knowledge.store.areas import ensure_area
from knowledge.store.areas import resolve as resolve_area
from knowledge.store.db import bump_version, now_iso, writing

STAFF_ACTIONS = ("event.edit", "event.cancel")  # audit actions whose fields a re-import leaves as staff set them
AUDIT_ONLY_KEYS = {"day", "occurrences"}  # keys the audit adds to an event's row

# One INFO line per imported file, a WARNING per rejected one; configured by the caller (bot/).
logger = logging.getLogger(__name__)

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
    source: str | None = None  # the source identity the records belong to (``source_id``)


def faq_key(source: str, faq_id: str) -> str:
    """An FAQ row's primary key: its source identity and its public ``faq_id``.

    ``faq_id`` (the publisher's ID, or the ``id`` column of our own layout) is what answers show
    and evaluation sets compare; two councils' files both have an FAQ 1, so the key needs both.
    m003 in ``knowledge.store.db`` writes the same key for FAQs of an older base.
    """
    return f"{source}#{faq_id}"


class SourceClash(UnreadableFile):
    """A file would replace the records of a source of the same identity imported from another
    folder: refused (nothing written) unless the caller names it apart or asks to replace."""


def source_id(kind: str, area: str | None, name: str, label: str | None = None) -> str:
    """The identity of a source: ``kind:area:name``, the label taking the name's place if given.

    ``area`` is the resolved area name ('' when the file serves several areas or none); kinds
    and area names hold no ':', so the identity reads back unambiguously.
    """
    return f"{kind}:{area or ''}:{(label or '').strip() or name}"


def detect(text: str, name: str):
    for module_name in IMPORTERS:
        module = importlib.import_module(f"knowledge.importers.{module_name}")
        if module.detect(text, name):
            return module
    raise UnreadableFile(
        f"{name}: the kind of file could not be recognised (expected a 重要取組シート, a plan "
        "section, a 地域子育て支援拠点事業 evaluation, a standard events/facilities CSV, an FAQ "
        "file or a synonyms CSV)"
    )


def parse_path(path: str | pathlib.Path, *, area=None, fiscal_year=None) -> tuple[Parsed, bytes]:
    path = pathlib.Path(path)
    data = read_bounded(path)
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
    source: str | None = None,
    replace: bool = False,
    meaning: Meaning = DEFAULT_MEANING,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one file; raise ``ImportRejected`` (nothing written) on bad rows.

    With the meaning stage on, the new or changed records' vectors are made before it returns
    (a city's FAQ: minutes on one core; an offline import may give ``meaning`` more threads than
    serving does); ``progress`` hears of them (``knowledge.search.embed.Progress``).

    ``source`` is an optional label naming the source in place of the file name (see
    ``source_id``). A file of the same identity as a source imported from another folder
    (two folders' ``events.csv`` of one ward) raises ``SourceClash`` and writes nothing, unless
    ``replace`` (it is a newer version of that source) or a ``source`` label tells them apart.
    """
    path = pathlib.Path(path)
    if area:
        area = resolve_area(db, area)
    parsed, data = parse_path(path, area=area, fiscal_year=fiscal_year)
    if parsed.errors and not skip_invalid:
        logger.warning(
            "rejected %s (%s): %d bad row(s), nothing imported (first: %s)",
            path.name,
            parsed.kind,
            len(parsed.errors),
            parsed.errors[0],
        )
        raise ImportRejected(path.name, parsed.errors)
    with writing(db):
        sid, counts = write(
            db,
            parsed,
            name=path.name,
            sha256=hashlib.sha256(data).hexdigest(),
            label=source,
            folder=str(path.resolve().parent),
            replace=replace,
        )
    logger.info(
        "imported %s as source %s (%s): %s%s",
        path.name,
        sid,
        parsed.kind,
        ", ".join(f"{table} {n}" for table, n in counts.items()) or "nothing",
        f"; skipped {len(parsed.errors)} bad row(s)" if parsed.errors else "",
    )
    _refresh_vectors(db, meaning, progress)
    return ImportReport(path.name, parsed.kind, counts, parsed.errors, parsed.notes, sid)


def _refresh_vectors(db: sqlite_utils.Database, meaning: Meaning, progress: Progress | None = None) -> None:
    """With the meaning stage on (``meaning``: the deploy's), the import pays for the new or
    changed records' vectors, not the first question after it; a failure is logged and the next
    index build tries again."""
    from knowledge.search import embed, vectors

    embedder = embed.get_embedder(meaning)
    if not embedder.dim:
        return
    try:
        vectors.refresh(db, embedder, progress)
    except Exception:
        logger.exception("the imported records' vectors could not be made; the next index build tries again")


def write(
    db: sqlite_utils.Database,
    parsed: Parsed,
    *,
    name: str,
    sha256: str | None = None,
    label: str | None = None,
    folder: str | None = None,
    replace: bool = False,
) -> tuple[str, dict]:
    """Write a parsed file inside the caller's transaction; return its source identity and counts by table.

    ``folder`` is where the file was read from; see ``import_file`` for ``replace``.
    """
    resolved = {
        a: ensure_area(db, a) for a in {r.get("area") for rs in parsed.records.values() for r in rs if r.get("area")}
    }
    for table, rows in parsed.records.items():  # 旭区 -> 横浜市旭区, as the areas table names it
        for r in rows:
            if table != "placeholders" and r.get("area"):
                r["area"] = resolved[r["area"]]
    if parsed.area:
        parsed.area = resolved.get(parsed.area) or ensure_area(db, parsed.area)
    sid = source_id(parsed.kind, parsed.area, name, label)
    if folder and not replace:
        _refuse_clash(db, sid, folder, name)
    for r in parsed.records.get("faqs", []):  # the publisher's ID is unique only within its file
        r["id"] = faq_key(sid, r["faq_id"])
    for table in OWNED_TABLES:
        if table in db.table_names():
            if table == "progress":
                db.execute("DELETE FROM progress WHERE source = ? AND origin = 'import'", [sid])
            elif table not in parsed.records:
                _delete_owned(db, table, sid, keep=set())
            else:
                _delete_owned(db, table, sid, keep={r["id"] for r in parsed.records[table]})
    staff = _staff_owned(db)
    counts = {}
    # Parents before children, for the foreign keys.
    order = [
        "areas",
        "programs",
        "bases",
        "activities",
        "schedule_items",
        "progress",
        "occurrences",
        "faqs",
        "synonyms",
        "placeholders",
    ]
    for table in sorted(parsed.records, key=lambda t: order.index(t) if t in order else len(order)):
        rows = parsed.records[table]
        if table != "areas":
            for r in rows:
                r.setdefault("source", sid)
        if table == "progress":
            for r in rows:
                r.setdefault("origin", "import")
        if table == "activities":  # who it is for, as ranges a listing compares (every importer)
            for r in rows:
                if "age_min_months" not in r:
                    r.update(age_columns(r.get("ages")))
        pk = PKS.get(table, "id")
        counts[table] = len(rows)
        if table in ("activities", "occurrences") and staff:
            rows = _keep_staff_fields(db, table, rows, staff, pk)
        db[table].upsert_all(rows, pk=pk, alter=True)
    db["sources"].upsert(
        {
            "id": sid,
            "name": name,
            "label": (label or "").strip() or None,
            "kind": parsed.kind,
            "area": parsed.area,
            "fiscal_year": parsed.fiscal_year,
            "credit": parsed.credit,
            "sha256": sha256,
            "rows": parsed.rows or sum(counts.values()),
            "imported_at": now_iso(),
            "folder": folder,
        },
        pk="id",
    )
    bump_version(db)
    return sid, counts


def _staff_owned(db: sqlite_utils.Database) -> dict[str, set[str]]:
    """Activity id -> the fields staff changed from Slack (edits and cancellations in the audit
    log): a re-import of the publisher's file must not undo them. ``occurrences`` among them
    means staff changed its dates or their times."""
    if "audit" not in db.table_names():
        return {}
    owned: dict[str, set[str]] = {}
    for target, before, after in db.execute(
        f"SELECT target, before, after FROM audit WHERE action IN ({','.join('?' * len(STAFF_ACTIONS))}) ORDER BY id",
        STAFF_ACTIONS,
    ).fetchall():
        old, new = json.loads(before or "{}"), json.loads(after or "{}")
        changed = {k for k in new if k != "day" and old.get(k) != new.get(k)}
        owned.setdefault(target.removeprefix("activities:"), set()).update(changed)
    return owned


def _keep_staff_fields(
    db: sqlite_utils.Database, table: str, rows: list[dict], staff: dict[str, set[str]], pk
) -> list[dict]:
    """Write the staff-touched rows here without the fields staff own; return the others.
    Occurrences of an event whose dates staff changed are not re-imported."""
    plain = []
    for r in rows:
        owner = r.get("id") if table == "activities" else r.get("activity_id")
        fields = staff.get(owner)
        if not fields:
            plain.append(r)
        elif table == "activities":
            kept = {k: v for k, v in r.items() if k not in fields}
            db[table].upsert(kept, pk=pk, alter=True)
            logger.info("re-import of %s keeps what staff set: %s", owner, ", ".join(sorted(fields - AUDIT_ONLY_KEYS)))
        elif "occurrences" not in fields:
            plain.append(r)
    return plain


def _refuse_clash(db: sqlite_utils.Database, sid: str, folder: str, name: str) -> None:
    """Raise ``SourceClash`` when ``sid`` was imported from another folder and holds records."""
    row = db.execute("SELECT folder FROM sources WHERE id = ?", [sid]).fetchone()
    if not row or not row[0] or row[0] == folder:
        return  # new, from before folders were recorded, or the same file again
    held = sum(
        db.execute(f"SELECT count(*) FROM [{t}] WHERE source = ?", [sid]).fetchone()[0]
        for t in OWNED_TABLES
        if t in db.table_names()
    )
    if held:
        raise SourceClash(
            f"{name}: a source of this kind, area and name was imported from {row[0]}; importing this "
            f"file from {folder} would replace its {held} record(s). Name it apart with --source LABEL "
            "to keep both, or pass --replace if it is a newer version of the same source"
        )


def _delete_owned(db: sqlite_utils.Database, table: str, source: str, keep: set[str]) -> None:
    """Drop rows this source wrote before and no longer holds (children first)."""
    stale = [
        r[0] for r in db.execute(f"SELECT id FROM [{table}] WHERE source = ?", [source]).fetchall() if r[0] not in keep
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
