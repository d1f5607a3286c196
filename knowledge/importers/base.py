"""What every importer returns, and the helpers they share.

An importer is a module with ``detect(text, name) -> bool`` and
``parse(text, *, name, area, fiscal_year) -> Parsed``. Parsing never touches the database:
``knowledge.importers.load`` decides, from the errors, whether anything is written at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from knowledge.lang.csvrows import RowError  # noqa: F401  (importers take it from here)


@dataclass
class Parsed:
    """Records by table, ready to upsert, plus the file's own facts."""

    kind: str
    records: dict[str, list[dict]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    area: str | None = None
    fiscal_year: int | None = None
    credit: str | None = None
    rows: int = 0  # data rows seen (good and bad)
    notes: list[str] = field(default_factory=list)  # not errors: e.g. columns outside the standard

    def add(self, table: str, record: dict) -> dict:
        self.records.setdefault(table, []).append(record)
        return record


class UnreadableFile(Exception):
    """A file that cannot be imported at all (unknown kind, undecodable, missing year)."""


def make_id(prefix: str, *parts: object) -> str:
    """A stable id from the natural key, so re-importing a file updates rows in place."""
    key = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"{prefix}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:12]}"


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then CP932, as Japanese open data comes."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the file is neither UTF-8 nor Shift_JIS (CP932) text")
