"""CSV rows with the line each starts on, for importers whose errors cite line numbers."""

from __future__ import annotations

import csv
import io
import unicodedata


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header (NFKC, trimmed) and (line, row dict) pairs; quoted newlines are kept in cells."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [unicodedata.normalize("NFKC", h).strip() for h in next(reader)]
    except StopIteration:
        return [], []
    rows = []
    line = reader.line_num + 1
    for cells in reader:
        if any(c.strip() for c in cells):
            rows.append((line, dict(zip(header, (c.strip() for c in cells)))))
        line = reader.line_num + 1
    return header, rows


def first_line(text: str) -> list[str]:
    head = text.lstrip("\ufeff").split("\n", 1)[0]
    return [unicodedata.normalize("NFKC", h).strip().strip('"') for h in head.split(",")]
