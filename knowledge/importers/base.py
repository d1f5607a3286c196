"""What every importer returns, and the helpers they share.

An importer is a module with ``detect(text, name) -> bool`` and
``parse(text, *, name, area, fiscal_year) -> Parsed``. Parsing never touches the database:
``knowledge.importers.load`` decides, from the errors, whether anything is written at all.
"""

from __future__ import annotations

import hashlib
import pathlib
from dataclasses import dataclass, field

from knowledge.lang.csvrows import RowError  # noqa: F401  (importers take it from here)

# The largest file an import reads, checked before reading: ten times the largest standard
# open-data file seen (a city's events or facilities CSV, an FAQ set: a few MB). Anything
# larger is a wrong path or a broken export, and reading it whole would exhaust memory
# (``kb import /dev/zero`` ended in a MemoryError).
MAX_FILE_BYTES = 20 * 1024 * 1024
# The longest text one field of a record may hold (an FAQ's answer, an event's 説明, any cell
# of an open-data row): what one reply can show. LINE's text message holds 5,000 characters,
# and a reply puts the title, dates, place and link around the field.
MAX_FIELD_CHARS = 4000


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
    """A file that cannot be imported at all (unknown kind, undecodable, missing year, too large)."""


def read_bounded(path: pathlib.Path) -> bytes:
    """The file's bytes; ``UnreadableFile`` past ``MAX_FILE_BYTES``, before anything is read
    where its size is known, else (a device, a pipe) after one byte more than the limit."""
    too_large = UnreadableFile(
        f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, the most an import reads: "
        "check the path, or split the file"
    )
    if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
        raise too_large
    with path.open("rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise too_large
    return data


def too_long(label: str, value: str | None) -> str | None:
    """Why a field is refused for its length (``MAX_FIELD_CHARS``), or None.

    The row is refused, not cut: a cut FAQ answer or event description would drop the sentence
    a parent needs (the hours, what to bring) and still read as whole; a refused row is named in
    the import report, so the publisher can shorten or split it.
    """
    if value and len(value) > MAX_FIELD_CHARS:
        return f"{label} is {len(value):,} characters long; a reply shows at most {MAX_FIELD_CHARS:,}"
    return None


def long_fields(values: dict[str, str | None]) -> str | None:
    """``too_long``'s reasons for several fields ({label: value}) as one row's reason, or None."""
    reasons = [r for r in (too_long(label, value) for label, value in values.items()) if r]
    return "; ".join(reasons) or None


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
