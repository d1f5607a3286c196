"""Strict CSV reading, one reader for every CSV importer.

A row with more or fewer cells than the header, or a quote never closed (a file cut inside a
quoted cell), is a bad row cited by the line it starts on: the file imports nothing unless
``skip_invalid``. Real files' quirks still read: CRLF with bare LF inside quoted cells, BOM or
not, CP932, trailing empty cells.
"""

from __future__ import annotations

import pathlib

import pytest

from knowledge.importers import ImportRejected, import_file
from knowledge.lang.csvrows import read_csv
from knowledge.store.db import open_db
from tests.test_import_opendata import OLD_EVENT_COLUMNS, csv_text

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "kb.db")
    yield d
    d.close()


def event(title: str, day: str, description: str = "") -> dict:
    return {
        "都道府県コード又は市区町村コード": "271403",
        "都道府県名": "大阪府",
        "市区町村名": "堺市西区",
        "イベント名": title,
        "開始日": day,
        "説明": description,
    }


def events_text() -> str:
    """Header (line 1), three events on lines 2, 3 and 4-5 (a quoted two-line 説明), CRLF."""
    return csv_text(
        OLD_EVENT_COLUMNS,
        [
            event("親子ひろば", "2026/05/01"),
            event("おはなし会", "2026/05/02"),
            event("体操教室", "2026/05/03", "動きやすい服装で\nお越しください"),
        ],
        newline="\r\n",
    )


FAQ_TEXT = (
    "id,question,answer,category\r\n"
    "1,母子手帳はどこでもらえますか？,区役所の窓口で交付します。,妊娠\r\n"
    "2,児童手当はいつ振り込まれますか？,6月、10月、2月です。,手当\r\n"
    '3,一時預かりはありますか？,"保育園で行っています。\n事前登録が必要です。",保育\r\n'
)


def cut_row(text: str) -> str:
    """The file cut in the middle of its last row, outside any quote."""
    last = text.rstrip("\r\n").rsplit("\r\n", 1)[1]
    keep = last.split(",")
    return text[: text.rindex(last)] + ",".join(keep[:2])


def cut_inside_quote(text: str) -> str:
    start = text.index('"')  # the only quoted cell: the last row's two-line cell
    return text[: start + 5]


def extra_cell(text: str) -> str:
    lines = text.split("\r\n")
    lines[2] += ",余分なセル"
    return "\r\n".join(lines)


def missing_cell(text: str) -> str:
    lines = text.split("\r\n")
    lines[2] = lines[2].rsplit(",", 1)[0]
    return "\r\n".join(lines)


def stray_quote(text: str) -> str:
    """A quote opened in line 3's first cell that closes only in line 4's quoted cell: nothing
    from line 3 on can be trusted (the reader stops there)."""
    lines = text.split("\r\n")
    lines[2] = '"' + lines[2]
    return "\r\n".join(lines)


# (mutation, the bad row's line, what its reason says, titles a --skip-invalid import keeps)
CASES = {
    "cut row": (cut_row, 4, "cells, the header", 2),
    "unclosed quote": (cut_inside_quote, 4, "quote", 2),
    "extra cell": (extra_cell, 3, "cells, the header", 2),
    "missing cell": (missing_cell, 3, "cells, the header", 2),
    "stray quote": (stray_quote, 3, "quote", 1),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("kind, text, table", [("events", events_text(), "activities"), ("faq", FAQ_TEXT, "faqs")])
def test_bad_rows_are_reported_with_their_line_and_nothing_is_imported(db, tmp_path, case, kind, text, table):
    mutate, line, reason, kept = CASES[case]
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(mutate(text).encode("utf-8"))
    with pytest.raises(ImportRejected) as info:
        import_file(db, path)
    assert [e.line for e in info.value.errors] == [line]
    assert reason in info.value.errors[0].reason
    assert db[table].count == 0 and db["sources"].count == 0
    report = import_file(db, path, skip_invalid=True)
    assert [e.line for e in report.errors] == [line]
    assert db[table].count == kept


@pytest.mark.parametrize("case", CASES)
def test_the_reader_reports_each_case(case):
    mutate, line, reason, kept = CASES[case]
    table = read_csv(mutate(FAQ_TEXT))
    assert [e.line for e in table.errors] == [line] and reason in table.errors[0].reason
    assert len(table.rows) == kept and table.seen == kept + 1


def test_whole_files_and_trailing_empty_cells_read_clean():
    table = read_csv("\ufeff" + FAQ_TEXT.replace("\r\n", ",,\r\n"))  # BOM, and two empty cells more each row
    assert table.errors == [] and table.header[: table.width] == ["id", "question", "answer", "category"]
    assert [line for line, _ in table.rows] == [2, 3, 4]
    assert table.rows[2][1][2] == "保育園で行っています。\n事前登録が必要です。"
    # A header with empty trailing cells of its own: rows may stop at the last named column.
    table = read_csv("a,b,,\n1,2\n3,4,,\n")
    assert table.errors == [] and [cells for _, cells in table.rows] == [["1", "2"], ["3", "4", "", ""]]


def test_crlf_records_with_lf_inside_quoted_cells_keep_physical_line_numbers():
    text = (
        "a,b\r\n"  # line 1
        '1,"first\nsecond\nthird"\r\n'  # lines 2-4
        "\r\n"  # line 5, blank
        "2,plain\r\n"  # line 6
        '3,"x\r\ny"\r\n'  # lines 7-8
        "4,last\r\n"  # line 9
    )
    table = read_csv(text)
    assert [line for line, _ in table.rows] == [2, 6, 7, 9]
    assert table.rows[0][1] == ["1", "first\nsecond\nthird"]


def test_a_cp932_file_with_a_cut_row_is_refused(db, tmp_path):
    path = tmp_path / "events.csv"
    text = csv_text(
        OLD_EVENT_COLUMNS, [event("親子ひろば", "2026/05/01"), event("おはなし会", "2026/05/02")], newline="\r\n"
    )
    path.write_bytes(cut_row(text).encode("cp932"))
    with pytest.raises(ImportRejected):
        import_file(db, path)


@pytest.mark.parametrize(
    "path",
    [
        SHARED / "realdata" / "kawaguchi_112038_preschool.csv",
        SHARED / "realdata" / "okazaki_232025_event_excerpt.csv",
        SHARED / "eval" / "whatson_events_nishi.csv",
        SHARED / "eval" / "whatson_events_mihara.csv",
        pathlib.Path(__file__).resolve().parents[1] / "knowledge" / "data" / "demo_events.csv",
    ],
    ids=lambda p: p.name,
)
def test_real_files_still_import_whole(db, path):
    if not path.exists():
        pytest.skip(f"{path.name} is not available (../shared)")
    report = import_file(db, path, area="堺市西区" if path.parent.name == "eval" else None)
    assert report.errors == [] and sum(report.counts.values()) > 0


def test_importers_fold_text_with_the_one_nfkc_helper():
    """knowledge.lang.text.nfkc is the one NFKC helper: no importer keeps its own."""
    import importlib

    import knowledge.importers as package
    from knowledge.lang import text

    folder = pathlib.Path(package.__file__).parent
    own = [p.name for p in sorted(folder.glob("*.py")) if "unicodedata" in p.read_text(encoding="utf-8")]
    assert own == []
    for p in folder.glob("*.py"):
        module = importlib.import_module(
            f"knowledge.importers.{p.stem}" if p.stem != "__init__" else "knowledge.importers"
        )
        assert getattr(module, "nfkc", text.nfkc) is text.nfkc, p.name
