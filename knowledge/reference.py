"""Reference data shipped with the package: areas and the synonym dictionary.

Both are plain CSV files in ``knowledge/data/`` so that staff can read and extend them without
touching code; ``kb import`` of a file with the same header adds to them in a running base.
"""

from __future__ import annotations

import csv
from importlib import resources

import sqlite_utils


def read_csv(name: str) -> list[dict]:
    with resources.files("knowledge.data").joinpath(name).open(encoding="utf-8") as f:
        return [
            {k: (v or None) for k, v in row.items()}
            for row in csv.DictReader(line for line in f if not line.startswith("#"))
        ]


def synonym_files() -> list[str]:
    """The shipped dictionaries: ``synonyms.csv`` (the field's names and abbreviations) and any
    ``synonyms_*.csv`` beside it (e.g. everyday words for the services the FAQ data names)."""
    files = resources.files("knowledge.data")
    return sorted(f.name for f in files.iterdir() if f.name.startswith("synonyms") and f.name.endswith(".csv"))


def load_reference_data(db: sqlite_utils.Database) -> None:
    """Upsert the shipped areas and synonyms (staff additions are kept)."""
    db["areas"].upsert_all(read_csv("areas.csv"), pk="name")
    rows = [
        {"term": r["term"], "canonical": r["canonical"], "source": "shipped"}
        for name in synonym_files()
        for r in read_csv(name)
    ]
    db["synonyms"].upsert_all(rows, pk=("term", "canonical"))
