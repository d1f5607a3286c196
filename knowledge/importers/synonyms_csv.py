"""Staff additions to the synonym dictionary: a CSV with ``canonical,term`` columns.

The shipped dictionary (knowledge/data/synonyms.csv) has the same layout, so a ward can copy a
row, change it and import its own file.
"""

from __future__ import annotations

from knowledge.importers.base import Parsed, RowError
from knowledge.lang.csvrows import header_of, read_csv


def detect(text: str, name: str) -> bool:
    return {"canonical", "term"} <= set(header_of(text))


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    table = read_csv(text)
    rows = table.dicts()
    parsed = Parsed(kind="synonyms", rows=table.seen)
    parsed.errors.extend(table.errors)
    for line, row in rows:
        if not row.get("canonical") or not row.get("term"):
            parsed.errors.append(RowError(line, "canonical and term must both be given"))
            continue
        parsed.add("synonyms", {"term": row["term"], "canonical": row["canonical"]})
    parsed.errors.sort(key=lambda e: e.line or 0)
    return parsed
