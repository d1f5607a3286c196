"""Values for FAQ template placeholders: a CSV with ``placeholder,value`` and optional ``area``.

Example row: ``（電話番号）,045-954-6111,横浜市旭区``. An empty area sets the value for every area.
"""

from __future__ import annotations

from knowledge.importers.base import Parsed, RowError
from knowledge.lang.csvrows import header_of, read_csv


def detect(text: str, name: str) -> bool:
    return {"placeholder", "value"} <= set(header_of(text))


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    table = read_csv(text)
    rows = table.dicts()
    parsed = Parsed(kind="placeholders", area=area, rows=table.seen)
    parsed.errors.extend(table.errors)
    for line, row in rows:
        if not row.get("placeholder") or not row.get("value"):
            parsed.errors.append(RowError(line, "placeholder and value must both be given"))
            continue
        parsed.add(
            "placeholders",
            {
                "area": area or row.get("area") or "",
                "placeholder": row["placeholder"],
                "value": row["value"],
            },
        )
    parsed.errors.sort(key=lambda e: e.line or 0)
    return parsed
