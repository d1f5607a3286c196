"""The one CSV reader of every importer: lenient about the dialect, strict about the shape.

Real files come as UTF-8 with or without BOM or as CP932 (``base.decode``), with CRLF record
ends and bare LF inside quoted cells, and some cities end every row with empty cells. All of
that reads. What does not is a file whose rows are not whole:

- a row with fewer cells than the header (a file cut in the middle of a row, a lost comma), or
  with more non-empty cells than the header (an unquoted comma inside a cell): a bad row;
- a quote never closed (a file cut inside a quoted cell): Python's csv module takes the rest of
  the file as the cell unless ``strict=True``, which raises at the end of the data instead; a
  quote closed in the wrong place (``"ab"c``) raises likewise. Either is a bad row, and nothing
  after it is read, since no later line can be trusted to start a row.

A bad row is a ``RowError`` citing the physical line its record starts on; the importers add
them to ``Parsed.errors``, so a file with bad rows imports nothing unless ``skip_invalid``.

Cells Excel would run as a formula are escaped when we write a CSV (``escape_cell``, the OWASP
way: a single quote in front) and read back as they were (``unescape_cell``), so an export
re-imports unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from knowledge.lang.text import nfkc


@dataclass
class RowError:
    line: int | None  # 1-based line in the file (CSV: the physical line the row starts on)
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line is not None else self.reason


@dataclass
class CsvTable:
    header: list[str]  # the first record's cells as written (BOM dropped)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)  # good records: (line, cells)
    errors: list[RowError] = field(default_factory=list)  # bad records, by the line they start on

    @property
    def seen(self) -> int:
        """Data rows read, good and bad (blank lines do not count)."""
        return len(self.rows) + len(self.errors)

    @property
    def width(self) -> int:
        """Cells a row must have: the header up to its last named column (trailing empties aside)."""
        named = [i for i, h in enumerate(self.header) if h.strip()]
        return named[-1] + 1 if named else 0

    def dicts(self) -> list[tuple[int, dict[str, str]]]:
        """Good rows as {normalised header: stripped cell}, for the importers of simple layouts."""
        keys = [norm_header(h) for h in self.header]
        return [(line, dict(zip(keys, (c.strip() for c in cells)))) for line, cells in self.rows]


def norm_header(name: str) -> str:
    """NFKC and no whitespace: 料金（基本） and 料金(基本) and ' 緯度' are the same column."""
    return "".join(nfkc(name.lstrip("\ufeff")).split())


def _reader(text: str):
    """``newline=""`` lets the csv module see CRLF and the bare LF inside quoted cells as they are."""
    return csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=True)


def read_csv(text: str) -> CsvTable:
    """The header and every record with the line it starts on; bad records in ``errors``.

    ``line_num`` counts the physical lines consumed, so a record starts one after the previous
    record's end.
    """
    reader = _reader(text)
    table: CsvTable | None = None
    end_of_previous = 0
    while True:
        start = end_of_previous + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if table is None:
                table = CsvTable([])
            table.errors.append(RowError(start, _quote_reason(exc)))
            break  # the quote left the reader out of step: no later line can be trusted
        end_of_previous = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if table is None:
            table = CsvTable(cells)
            continue
        problem = _shape_problem(cells, table.width)
        if problem:
            table.errors.append(RowError(start, problem))
        else:
            table.rows.append((start, [unescape_cell(c) for c in cells]))
    return table or CsvTable([])


def _shape_problem(cells: list[str], width: int) -> str | None:
    if len(cells) < width:
        return f"the row has {len(cells)} cells, the header {width}: the row is cut short or a cell is missing"
    extra = [c for c in cells[width:] if c.strip()]
    if extra:
        return (
            f"the row has {width + len(extra)} cells, the header {width}: a cell too many "
            "(a comma inside a cell that is not quoted?)"
        )
    return None


def _quote_reason(exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc):
        return "a quoted cell is not closed before the end of the file (the file is cut short?)"
    return f"a quote is not closed where the cell ends ({exc}); the rest of the file is not read"


def header_of(text: str) -> list[str]:
    """The normalised header of a CSV text ([] when it has none that reads), for ``detect``."""
    try:
        return [norm_header(c) for c in next(_reader(text), [])]
    except csv.Error:
        return []


# --- cells Excel would run as formulas ---------------------------------------------------------

# What a spreadsheet takes for the start of a formula (OWASP "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Cells left as they are although they start with '-': a negative number (Excel reads it as the
# number it is) and a lone '-' (a city's "none" in a phone or fee cell). Neither can be a formula.
_SAFE_DASH = re.compile(r"^-(?:\d+(?:\.\d+)?)?$")


def escape_cell(value: str) -> str:
    """A cell as written into a CSV for Excel: a single quote in front of a would-be formula.

    '=1+1' -> "'=1+1"; '+81-45-954-6111' -> "'+81-45-954-6111" (Excel would compute it);
    '-12.5' and '-' stay as they are.
    """
    if value.startswith(FORMULA_START) and not _SAFE_DASH.match(value):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """The inverse of ``escape_cell`` on cells it can have written, others untouched.

    The quote is dropped only when ``escape_cell`` would have added it ("'=1+1" -> '=1+1'); "'-12"
    or "'abc" were not written by us and are kept. A leading quote before a formula character
    is also how an Excel user marks a cell as text, so dropping it keeps the value they meant.
    """
    if value.startswith("'") and escape_cell(value[1:]) == value:
        return value[1:]
    return value
