"""Exports in the newer standard layouts, and the round trip: export -> import gives the same records."""

import csv
import pathlib

import pytest

from knowledge.importers import import_file
from knowledge.importers.export import SAMPLE_NOTE, export_events, export_facilities
from knowledge.importers.opendata_common import EVENTS_NEW_COLUMNS, FACILITIES_NEW_COLUMNS
from knowledge.store.db import open_db

REALDATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "realdata"
OKAZAKI = REALDATA / "okazaki_232025_event_excerpt.csv"
KAWAGUCHI = REALDATA / "kawaguchi_112038_preschool.csv"
DEMO = pathlib.Path(__file__).resolve().parents[1] / "knowledge" / "data" / "demo_events.csv"


def need(path: pathlib.Path) -> pathlib.Path:
    if not path.exists():
        pytest.skip(f"{path.name} is not available (../shared/realdata)")
    return path


def table(db, name: str, order: str = "id") -> list[dict]:
    """Rows without the 'source' column (an export is a different file by design)."""
    return [{k: v for k, v in r.items() if k != "source"} for r in db.query(f"SELECT * FROM [{name}] ORDER BY {order}")]


def read_export(path: pathlib.Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_headers_are_the_published_ones():
    header = need(OKAZAKI).read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    assert header == EVENTS_NEW_COLUMNS
    with open(need(KAWAGUCHI), encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f)) == FACILITIES_NEW_COLUMNS


def test_facilities_round_trip(tmp_path):
    first = open_db(tmp_path / "first.db")
    import_file(first, need(KAWAGUCHI))
    out = tmp_path / "112038_preschool_export.csv"
    assert export_facilities(first, out) == 302
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    assert b"\r\n" in data
    rows = read_export(out)
    assert len(rows) == 302 and len(rows[0]) == 53
    sakae = next(r for r in rows if r["名称"] == "川口市立栄町保育所")
    assert (sakae["全国地方公共団体コード"], sakae["地方公共団体名"], sakae["電話番号"]) == (
        "",
        "川口市",
        "(048)252-4384",
    )

    second = open_db(tmp_path / "second.db")
    report = import_file(second, out)
    assert report.kind == "facilities" and report.errors == []
    assert table(second, "bases") == table(first, "bases")
    # Importing the export into the base it came from updates in place.
    import_file(first, out)
    assert first["bases"].count == 302


def test_events_round_trip(tmp_path):
    first = open_db(tmp_path / "first.db")
    import_file(first, need(OKAZAKI))
    import_file(first, DEMO)
    out = tmp_path / "events_export.csv"
    written = export_events(first, out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_export(out)
    assert len(rows) == written and len(rows[0]) == 79

    second = open_db(tmp_path / "second.db")
    report = import_file(second, out)
    assert report.errors == []
    assert table(second, "activities") == table(first, "activities")
    assert table(second, "occurrences") == table(first, "occurrences")
    assert first["activities"].count == 14 + 25

    import_file(first, out)
    assert first["activities"].count == 14 + 25


def test_event_rows_in_the_export(tmp_path):
    db = open_db(tmp_path / "kb.db")
    import_file(db, DEMO)
    out = tmp_path / "e.csv"
    export_events(db, out)
    rows = read_export(out)
    salon = [r for r in rows if r["イベント名"] == "赤ちゃんサロン"]
    assert len(salon) == 1
    assert salon[0]["全国地方公共団体コード"] == "141089"
    assert salon[0]["地方公共団体名"] == "横浜市旭区"
    assert (salon[0]["開始日"], salon[0]["終了日"], salon[0]["開始日時特記事項"]) == ("2025/04/01", "", "毎月第2火曜日")
    assert salon[0]["備考"] == SAMPLE_NOTE
    assert salon[0]["タグ"] == "0歳、保護者"
    market = [r for r in rows if r["イベント名"] == "リサイクルマーケット"]
    assert [(r["開始日"], r["終了日"]) for r in market] == [
        ("2026/05/16", "2026/05/16"),
        ("2026/11/14", "2026/11/14"),
        ("2027/05/15", "2027/05/15"),
    ]
    assert len({r["ID"] for r in market}) == 1  # one event, three dates


def test_rules_without_a_note_are_rendered_or_written_as_rrule(tmp_path):
    db = open_db(tmp_path / "kb.db")
    db["activities"].insert_all(
        [
            {
                "id": "event-000000000001",
                "title": "親子ひろば",
                "kind": "event",
                "area": "堺市西区",
                "recurrence": "FREQ=MONTHLY;BYDAY=+2TU",
                "recurrence_start": "2026-04-01",
                "sample": 0,
            },
            {
                "id": "event-000000000002",
                "title": "月末の平日",
                "kind": "event",
                "area": "堺市西区",
                "recurrence": "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR",
                "recurrence_start": "2026-04-01",
                "sample": 0,
            },
            {"id": "activity-00000000003", "title": "内部の会議", "kind": "activity", "area": "堺市西区"},
        ]
    )
    out = tmp_path / "e.csv"
    assert export_events(db, out) == 2  # only events parents can join
    rows = {r["イベント名"]: r for r in read_export(out)}
    assert rows["親子ひろば"]["開始日時特記事項"] == "毎月第2火曜日"
    assert rows["月末の平日"]["開始日時特記事項"] == "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR"
    assert rows["親子ひろば"]["全国地方公共団体コード"] == "271446"

    again = open_db(tmp_path / "again.db")
    import_file(again, out)
    got = {a["id"]: a for a in again.query("SELECT * FROM activities")}
    assert got["event-000000000001"]["recurrence"] == "FREQ=MONTHLY;BYDAY=+2TU"
    assert got["event-000000000002"]["recurrence"] == "FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR"
    assert got["event-000000000002"]["recurrence_start"] == "2026-04-01"


# --- cells Excel would run as formulas ----------------------------------------------------------

FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize(
    "value, written",
    [
        ('=HYPERLINK("http://evil.example")', '\'=HYPERLINK("http://evil.example")'),
        ("+81-45-954-6111", "'+81-45-954-6111"),  # Excel would compute it: escaped, read back as written
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "-"),  # 'none' in a phone or fee cell: no formula, left as is
        ("-33.8688", "-33.8688"),  # a negative number stays a number
        ("-12", "-12"),
        ("045-954-6111", "045-954-6111"),
        ("'quoted by the city", "'quoted by the city"),
        ("", ""),
    ],
)
def test_formula_cells_are_escaped_and_read_back(value, written):
    from knowledge.lang.csvrows import escape_cell, unescape_cell

    assert escape_cell(value) == written
    assert unescape_cell(written) == value


def test_a_leading_quote_we_did_not_add_is_kept():
    from knowledge.lang.csvrows import unescape_cell

    for cell in ("'-", "'-12", "'abc", "'", "''=1"):
        assert unescape_cell(cell) == cell


def test_exported_events_and_facilities_hold_no_formula_and_round_trip(tmp_path):
    db = open_db(tmp_path / "kb.db")
    db["activities"].insert_all(
        [
            {
                "id": "event-00000000000a",
                "title": '=HYPERLINK("http://evil.example","ひろば")',
                "kind": "event",
                "area": "堺市西区",
                "fee": "-",
                "contact": "+81-72-275-1912",
                "place": "@こども館",
                "sample": 0,
                "description": "-持ち物：タオル\n-申込不要",
                "audience": "[]",
            },
        ]
    )
    db["occurrences"].insert(
        {"id": "occ-00000000000a", "activity_id": "event-00000000000a", "date": "2026-05-01", "precision": "day"}
    )
    db["bases"].insert_all(
        [
            {
                "id": "base-00000000000b",
                "name": "+cmd|' /C calc'!A0",
                "kind": "児童館",
                "area": "堺市西区",
                "phone": "-",
                "lat": -33.8688,
                "lon": 151.2093,
                "address": "=1+1",
            },
        ]
    )
    events, facilities = tmp_path / "events.csv", tmp_path / "facilities.csv"
    export_events(db, events)
    export_facilities(db, facilities)
    for path in (events, facilities):
        with open(path, encoding="utf-8-sig", newline="") as f:
            cells = [c for row in csv.reader(f) for c in row]
        risky = [
            c for c in cells if c[:1] in FORMULA_STARTS and c != "-" and not c.lstrip("-").replace(".", "").isdigit()
        ]
        assert risky == []
    rows = read_export(facilities)
    assert (rows[0]["名称"], rows[0]["電話番号"], rows[0]["緯度"]) == ("'+cmd|' /C calc'!A0", "-", "-33.8688")

    again = open_db(tmp_path / "again.db")
    assert import_file(again, events).errors == []
    assert import_file(again, facilities).errors == []
    assert table(again, "activities") == table(db, "activities")
    assert table(again, "bases") == table(db, "bases")
