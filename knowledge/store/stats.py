"""What the base holds: records by kind and area, and the sources with their credits."""

from __future__ import annotations

import sqlite_utils

KINDS = {
    "programs": "area",
    "activities": "area",
    "bases": "area",
    "faqs": "area",
}


def stats(db: sqlite_utils.Database) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for table, col in KINDS.items():
        counts[table] = {
            (r["area"] or "(all areas)"): r["n"]
            for r in db.query(f"SELECT [{col}] AS area, count(*) AS n FROM [{table}] GROUP BY [{col}] ORDER BY [{col}]")
        }
    for table in ("schedule_items", "progress", "occurrences", "synonyms", "unanswered"):
        counts[table] = {"(total)": db[table].count}
    sources = list(
        db.query(
            "SELECT id, name, label, kind, area, fiscal_year, rows, credit, imported_at FROM sources "
            "ORDER BY name, kind, area, label"
        )
    )
    return {"counts": counts, "sources": sources}


def format_stats(result: dict) -> str:
    lines = ["Records by kind and area:"]
    for table, by_area in result["counts"].items():
        total = sum(by_area.values())
        detail = ", ".join(f"{a} {n}" for a, n in by_area.items())
        lines.append(f"  {table}: {total}" + (f" ({detail})" if by_area and list(by_area) != ["(total)"] else ""))
    lines.append("Sources:")
    for s in result["sources"]:
        year = f" FY{s['fiscal_year']}" if s["fiscal_year"] else ""
        label = f" (source: {s['label']})" if s["label"] else ""
        lines.append(f"  {s['name']}{label} [{s['kind']}]{year} {s['area'] or ''} rows {s['rows']}".rstrip())
        if s["credit"]:
            lines.append(f"    credit: {s['credit']}")
    return "\n".join(lines)
