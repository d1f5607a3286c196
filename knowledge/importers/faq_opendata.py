"""The standard child-rearing FAQ open data (子育てオープンデータ協議会「FAQデータセット」, CC BY 4.0).

Recognised by its columns (faq_id, question, answer, category1, category2, service_name) as a
JSON array or as CSV. Each FAQ keeps the publisher's ID as ``faq_id``, so an answer can be traced
back to the FAQ a municipality published; the row's key adds the source (``importers.faq_key``),
so two councils' files with the same IDs both stay. ``category2`` "64" and ``service_name`` "null" mean none.
"""

from __future__ import annotations

import json

from knowledge.importers.base import Parsed, RowError, long_fields
from knowledge.lang.csvrows import header_of, read_csv

COLUMNS = {"faq_id", "question", "answer"}
CREDIT = "出典：子育てオープンデータ協議会「FAQデータセット」(CC BY 4.0)"
NONE_VALUES = {"", "null", "none"}


def detect(text: str, name: str) -> bool:
    head = text.lstrip("\ufeff \n\r\t")[:2000]
    if head.startswith("["):
        return all(f'"{c}"' in head for c in COLUMNS)
    return COLUMNS <= set(header_of(text))


def _records(text: str) -> tuple[list[tuple[str, int, dict]], list[RowError]]:
    """(unit, number, row) and the rows that are not whole: JSON rows are cited by item index,
    CSV rows by line."""
    stripped = text.lstrip("\ufeff \n\r\t")
    if stripped.startswith("["):
        items = json.loads(stripped)
        return [("item", i, item if isinstance(item, dict) else {}) for i, item in enumerate(items, 1)], []
    table = read_csv(text)
    return [("line", line, row) for line, row in table.dicts()], table.errors


def _clean(value, also_none: str | None = None) -> str | None:
    text = "" if value is None else str(value).strip()
    return None if text.lower() in NONE_VALUES or text == also_none else text


def _error(unit: str, number: int, reason: str) -> RowError:
    """JSON rows are cited by their index in the array, CSV rows by their line."""
    return RowError(None, f"item {number}: {reason}") if unit == "item" else RowError(number, reason)


def parse(text: str, *, name: str, area: str | None = None, fiscal_year: int | None = None) -> Parsed:
    try:
        records, bad_rows = _records(text)
    except json.JSONDecodeError as e:
        parsed = Parsed(kind="faq_opendata", area=area, credit=CREDIT)
        parsed.errors.append(RowError(e.lineno, f"not valid JSON: {e.msg}"))
        return parsed
    parsed = Parsed(kind="faq_opendata", area=area, credit=CREDIT, rows=len(records) + len(bad_rows))
    parsed.errors.extend(bad_rows)
    seen: set[str] = set()
    for unit, number, row in records:
        faq_id = _clean(row.get("faq_id"))
        question, answer = _clean(row.get("question")), _clean(row.get("answer"))
        problems = [n for n, v in (("faq_id", faq_id), ("question", question), ("answer", answer)) if not v]
        if problems:
            reason = f"{' and '.join(problems)} is empty"
            parsed.errors.append(_error(unit, number, reason))
            continue
        too_long = long_fields({"question": question, "answer": answer})
        if too_long:
            parsed.errors.append(_error(unit, number, too_long))
            continue
        if faq_id in seen:
            parsed.errors.append(_error(unit, number, f"faq_id {faq_id} appears twice"))
            continue
        seen.add(faq_id)
        parsed.add(
            "faqs",
            {  # the row's key (source and faq_id) is made when it is written
                "faq_id": faq_id,
                "question": question,
                "answer": answer,
                "area": area,
                "category": _clean(row.get("category1")),
                "category2": _clean(row.get("category2"), also_none="64"),
                "service_name": _clean(row.get("service_name")),
            },
        )
    parsed.errors.sort(key=lambda e: e.line or 0)
    return parsed
