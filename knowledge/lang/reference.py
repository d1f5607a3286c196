"""Reference data shipped with the package: areas and the synonym dictionary.

Both are plain CSV files in ``knowledge/data/`` so that staff can read and extend them without
touching code; ``kb import`` of a file with the same header adds to them in a running base.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources

import sqlite_utils

from knowledge.lang.csvrows import read_csv


def read_shipped(name: str) -> list[dict]:
    """A shipped CSV's rows (its ``#`` comment lines skipped), through the importers' one
    strict reader: a broken shipped file fails loudly instead of loading half a dictionary."""
    text = resources.files("knowledge.data").joinpath(name).read_text(encoding="utf-8")
    table = read_csv("".join(line for line in text.splitlines(keepends=True) if not line.startswith("#")))
    if table.errors:
        raise ValueError(f"shipped file {name} is broken: {table.errors[0]}")
    return [{k: (v or None) for k, v in row.items()} for _line, row in table.dicts()]


def synonym_files() -> list[str]:
    """The shipped dictionaries: ``synonyms.csv`` (the field's names and abbreviations) and any
    ``synonyms_*.csv`` beside it (e.g. everyday words for the services the FAQ data names)."""
    files = resources.files("knowledge.data")
    return sorted(f.name for f in files.iterdir() if f.name.startswith("synonyms") and f.name.endswith(".csv"))


@functools.lru_cache(maxsize=1)
def shipped_digest() -> str:
    """A fingerprint of the shipped reference files, read once per process."""
    h = hashlib.sha256()
    for name in ["areas.csv", *synonym_files()]:
        h.update(name.encode())
        h.update(resources.files("knowledge.data").joinpath(name).read_bytes())
    return h.hexdigest()[:16]


def reference_outdated(db: sqlite_utils.Database) -> bool:
    """Whether the base was filled from other shipped files than these (one read, no lock)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'reference'").fetchone()
    return not row or row[0] != shipped_digest()


def load_reference_data(db: sqlite_utils.Database) -> bool:
    """Bring the shipped areas and synonyms into the base when they changed since last time.

    Runs on every open, so upgrading the package updates a running base's dictionary. Staff
    additions are kept: shipped synonym rows are replaced as a set, staff rows never touched,
    and an area already in the base (its contact perhaps edited by staff) is left as it is.
    Returns whether anything was written; the caller bumps the version in the same transaction.
    """
    if not reference_outdated(db):
        return False
    db["areas"].insert_all(read_shipped("areas.csv"), pk="name", ignore=True)
    rows = [
        {"term": r["term"], "canonical": r["canonical"], "source": "shipped"}
        for name in synonym_files()
        for r in read_shipped(name)
    ]
    db.execute("DELETE FROM synonyms WHERE source = 'shipped'")
    db["synonyms"].insert_all(rows, pk=("term", "canonical"), ignore=True)
    db["meta"].upsert({"key": "reference", "value": shipped_digest()}, pk="key")
    return True
