"""FAQs in the project's own simple CSV layout (documented in the README).

Header: ``question,answer`` required; ``id,area,category,department`` optional. Without an
``id`` column an FAQ's id is derived from its question and area, so re-import updates it. The
id is the FAQ's public ``faq_id``; the row's key adds the source (``importers.faq_key``).
"""

from __future__ import annotations

from knowledge.importers.base import Parsed, RowError, long_fields, make_id
from knowledge.lang.csvrows import header_of, read_csv

REQUIRED = {"question", "answer"}


def detect(text: str, name: str) -> bool:
    header = set(header_of(text))
    return REQUIRED <= header and "faq_id" not in header


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    table = read_csv(text)
    rows = table.dicts()
    parsed = Parsed(kind="faq", area=area, rows=table.seen)
    parsed.errors.extend(table.errors)
    for line, row in rows:
        missing = [c for c in ("question", "answer") if not row.get(c)]
        if missing:
            parsed.errors.append(RowError(line, f"{' and '.join(missing)} is empty"))
            continue
        too_long = long_fields({c: row[c] for c in ("question", "answer")})
        if too_long:
            parsed.errors.append(RowError(line, too_long))
            continue
        row_area = area or row.get("area") or None
        parsed.add(
            "faqs",
            {  # the row's key (source and faq_id) is made when it is written
                "faq_id": row.get("id") or make_id("faq", row_area, row["question"]),
                "question": row["question"],
                "answer": row["answer"],
                "area": row_area,
                "category": row.get("category") or None,
                "department": row.get("department") or None,
            },
        )
    parsed.errors.sort(key=lambda e: e.line or 0)
    return parsed
