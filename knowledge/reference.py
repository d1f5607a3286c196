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


def load_reference_data(db: sqlite_utils.Database) -> None:
    """Upsert the shipped areas and synonyms (staff additions are kept)."""
    db["areas"].upsert_all(read_csv("areas.csv"), pk="name")
    rows = [
        {"term": r["term"], "canonical": r["canonical"], "source": "shipped"}
        for r in read_csv("synonyms.csv")
    ]
    db["synonyms"].upsert_all(rows, pk=("term", "canonical"))
