"""A source is what a file is (kind, area, name or an explicit label), not its base name.

Two files of one name from two folders or two councils keep all their records; re-importing
one file stays idempotent; FAQ ids are kept per source; an old base moves to the new identity.
"""

from __future__ import annotations

import json
import logging
import pathlib

import pytest
import sqlite_utils
from click.testing import CliRunner

from bot.cli import cli
from knowledge import ask
from knowledge.importers import ImportRejected, SourceClash, import_file, parse_path, source_id
from knowledge.store.db import migrations, open_db
from tests.test_import_opendata import OLD_EVENT_COLUMNS, csv_text

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEMO = ROOT / "knowledge" / "data" / "demo_events.csv"


@pytest.fixture
def db(tmp_path):
    d = open_db(tmp_path / "kb.db")
    yield d
    d.close()


def ward_event(ward: str, title: str, day: str) -> dict:
    return {
        "都道府県コード又は市区町村コード": "271403",
        "都道府県名": "大阪府",
        "市区町村名": f"堺市{ward}",
        "イベント名": title,
        "開始日": day,
        "終了日": day,
    }


def events_file(folder: pathlib.Path, *rows: dict, name: str = "events.csv") -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(csv_text(OLD_EVENT_COLUMNS, list(rows)), encoding="utf-8")
    return path


def faq_opendata(path: pathlib.Path, rows: list[tuple[str, str, str]]) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    items = [
        {"faq_id": i, "question": q, "answer": a, "category1": "保育", "category2": "64", "service_name": "null"}
        for i, q, a in rows
    ]
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def counts(db) -> tuple[int, int]:
    return db["activities"].count, db["occurrences"].count


def ids(db, table: str) -> list[str]:
    return [r["id"] for r in db.query(f"SELECT id FROM [{table}] ORDER BY id")]


# --- 1. source identity -----------------------------------------------------------------------


def test_two_wards_files_of_one_name_keep_all_their_events(db, tmp_path):
    nishi = events_file(
        tmp_path / "nishi",
        ward_event("西区", "親子ひろば", "2026/05/01"),
        ward_event("西区", "おはなし会", "2026/05/02"),
    )
    mihara = events_file(tmp_path / "mihara", ward_event("美原区", "親子ひろば", "2026/05/08"))
    import_file(db, nishi)
    import_file(db, mihara)
    assert counts(db) == (3, 3)
    areas = sorted(r["area"] for r in db.query("SELECT area FROM activities"))
    assert areas == ["堺市美原区", "堺市西区", "堺市西区"]
    sources = {r["id"]: r for r in db.query("SELECT * FROM sources")}
    assert set(sources) == {"events:堺市西区:events.csv", "events:堺市美原区:events.csv"}
    assert {s["name"] for s in sources.values()} == {"events.csv"}


def test_the_area_option_tells_two_councils_files_apart(db, tmp_path):
    rows = [{"都道府県コード又は市区町村コード": "000000", "イベント名": "親子ひろば", "開始日": "2026/05/01"}]
    first = events_file(tmp_path / "a", *rows)
    second = events_file(tmp_path / "b", *[r | {"開始日": "2026/06/01"} for r in rows])
    import_file(db, first, area="西区")
    import_file(db, second, area="美原区")
    assert counts(db) == (2, 2)


def test_reimport_is_idempotent_and_an_update_replaces_its_records(db, tmp_path):
    folder = tmp_path / "nishi"
    path = events_file(
        folder, ward_event("西区", "親子ひろば", "2026/05/01"), ward_event("西区", "おはなし会", "2026/05/02")
    )
    other = events_file(tmp_path / "mihara", ward_event("美原区", "体操", "2026/05/03"))
    import_file(db, path)
    import_file(db, other)
    before = (ids(db, "activities"), ids(db, "occurrences"))
    import_file(db, path)
    assert (ids(db, "activities"), ids(db, "occurrences")) == before
    assert db["sources"].count == 2
    # The next version of the nishi file drops おはなし会: only that goes, mihara's stays.
    events_file(folder, ward_event("西区", "親子ひろば", "2026/05/01"))
    import_file(db, path)
    assert sorted(r["title"] for r in db.query("SELECT title FROM activities")) == ["体操", "親子ひろば"]
    assert db["sources"].count == 2


def test_same_name_from_another_folder_is_refused_unless_replace_or_labelled(db, tmp_path):
    first = events_file(tmp_path / "a", ward_event("西区", "親子ひろば", "2026/05/01"))
    second = events_file(tmp_path / "b", ward_event("西区", "おはなし会", "2026/05/02"))
    import_file(db, first)
    with pytest.raises(SourceClash, match="--replace"):
        import_file(db, second)  # would silently replace the first folder's events
    assert [r["title"] for r in db.query("SELECT title FROM activities")] == ["親子ひろば"]
    import_file(db, second, replace=True)  # a newer version of the same source, said so
    assert [r["title"] for r in db.query("SELECT title FROM activities")] == ["おはなし会"]
    import_file(db, second)  # the same file again: its folder is now the source's
    assert counts(db) == (1, 1)

    report_a = import_file(db, first, source="西区 子育て支援センター")
    report_b = import_file(db, second, source="西区 図書館")
    assert report_a.source == "events:堺市西区:西区 子育て支援センター"
    assert report_b.source == "events:堺市西区:西区 図書館"
    assert sorted(r["title"] for r in db.query("SELECT title FROM activities")) == ["おはなし会", "親子ひろば"]
    # Re-importing a labelled file stays idempotent.
    import_file(db, first, source="西区 子育て支援センター")
    assert counts(db) == (2, 2)
    labels = {r["label"] for r in db.query("SELECT label FROM sources")}
    assert labels == {None, "西区 子育て支援センター", "西区 図書館"}


def test_source_id_is_kind_area_and_name_or_label():
    assert source_id("events", "堺市西区", "events.csv") == "events:堺市西区:events.csv"
    assert source_id("faq_opendata", None, "faq.json") == "faq_opendata::faq.json"
    assert source_id("events", "堺市西区", "events.csv", label=" 西区 ") == "events:堺市西区:西区"


def test_cli_source_option_and_stats_keep_the_name(tmp_path):
    runner = CliRunner()
    base = str(tmp_path / "kb.db")
    first = events_file(tmp_path / "a", ward_event("西区", "親子ひろば", "2026/05/01"))
    second = events_file(tmp_path / "b", ward_event("西区", "おはなし会", "2026/05/02"))
    for path, label in ((first, "センター"), (second, "図書館")):
        result = runner.invoke(cli, ["kb", "import", str(path), "--source", label, "--db", base])
        assert result.exit_code == 0, result.output
        assert f"events:堺市西区:{label}" in result.output
    stats = json.loads(runner.invoke(cli, ["kb", "stats", "--json", "--db", base]).output)
    assert stats["counts"]["activities"] == {"堺市西区": 2}
    assert [(s["name"], s["label"]) for s in stats["sources"]] == [("events.csv", "センター"), ("events.csv", "図書館")]
    text = runner.invoke(cli, ["kb", "stats", "--db", base]).output
    assert text.count("events.csv") == 2 and "センター" in text and "図書館" in text


# --- 2. FAQ ids per source --------------------------------------------------------------------


def test_two_councils_faq_files_with_the_same_ids_both_stay(db, tmp_path):
    first = faq_opendata(
        tmp_path / "a" / "faq_council_a.json",
        [
            ("1", "母子手帳はどこでもらえますか？", "区役所の窓口で交付します。"),
            ("2", "児童手当はいつ振り込まれますか？", "6月、10月、2月に振り込みます。"),
        ],
    )
    second = faq_opendata(
        tmp_path / "b" / "faq_council_b.json",
        [
            ("1", "一時預かりを利用したい", "保育園の一時預かりをご利用ください。"),
            ("2", "病児保育の申し込み方法は？", "事前登録が必要です。"),
        ],
    )
    import_file(db, first)
    import_file(db, second)
    assert db["faqs"].count == 4
    assert sorted(r["faq_id"] for r in db.query("SELECT faq_id FROM faqs")) == ["1", "1", "2", "2"]
    import_file(db, first)  # idempotent
    assert db["faqs"].count == 4
    # The answer still shows the publisher's ID.
    answer = ask(db, "一時預かりを利用したい", area="堺市西区", log=False)
    assert answer.answered and answer.items[0].id == "1" and answer.items[0].title == "一時預かりを利用したい"


def test_our_layout_faq_ids_are_kept_per_source(db, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("id,question,answer\nQ1,母子手帳はどこでもらえますか？,区役所の窓口で交付します。\n", encoding="utf-8")
    b.write_text("id,question,answer\nQ1,病児保育の申し込み方法は？,事前登録が必要です。\n", encoding="utf-8")
    import_file(db, a)
    import_file(db, b)
    assert db["faqs"].count == 2
    assert {r["faq_id"] for r in db.query("SELECT faq_id FROM faqs")} == {"Q1"}
    answer = ask(db, "病児保育の申し込み方法", area="堺市西区", log=False)
    assert answer.answered and answer.items[0].id == "Q1"


def test_faq_without_id_column_keeps_its_derived_public_id(db, tmp_path):
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\n母子手帳はどこでもらえますか？,区役所の窓口で交付します。\n", encoding="utf-8")
    import_file(db, path)
    import_file(db, path)
    row = next(db.query("SELECT * FROM faqs"))
    assert db["faqs"].count == 1 and row["faq_id"].startswith("faq-") and row["id"].endswith(row["faq_id"])


# --- migration of an existing base ------------------------------------------------------------


def old_base(path: pathlib.Path, files: list[tuple[pathlib.Path, dict]]) -> None:
    """A base as the previous version wrote it: sources keyed by file name, FAQs by faq_id."""
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m003_source_identity")
    db["areas"].insert_all([{"name": n, "city": "堺市", "ward": n[2:]} for n in ("堺市西区", "堺市美原区")], pk="name")
    for file, options in files:
        parsed, _data = parse_path(file, **options)
        for table, rows in parsed.records.items():
            # that version wrote its own columns: the fields later migrations add are left out
            # (m008 adds capacity and how_to_apply, which today's events parser fills)
            later = {"capacity", "how_to_apply"} | {k for r in rows for k in r if k.startswith("apply_")}
            rows = [{k: v for k, v in r.items() if k not in later} for r in rows]
            for r in rows:
                r["source"] = file.name
                if table == "faqs":
                    r["id"] = f"{options['area']}:{r['faq_id']}" if options.get("area") else r["faq_id"]
            db[table].upsert_all(rows, pk="id", alter=True)
        db["sources"].insert(
            {
                "name": file.name,
                "kind": parsed.kind,
                "area": parsed.area or options.get("area"),
                "rows": parsed.rows,
                "imported_at": "2026-01-01T00:00:00+00:00",
            }
        )
    db.close()


def test_migration_moves_sources_and_records_to_the_new_identity(tmp_path):
    events = events_file(
        tmp_path / "nishi",
        ward_event("西区", "親子ひろば", "2026/05/01"),
        ward_event("西区", "おはなし会", "2026/05/02"),
    )
    faq = faq_opendata(tmp_path / "faq.json", [("7", "母子手帳はどこでもらえますか？", "区役所の窓口で交付します。")])
    path = tmp_path / "old.db"
    old_base(path, [(events, {}), (faq, {})])

    db = open_db(path)
    assert {r["id"]: r["name"] for r in db.query("SELECT id, name FROM sources")} == {
        "events:堺市西区:events.csv": "events.csv",
        "faq_opendata::faq.json": "faq.json",
    }
    assert {r["source"] for r in db.query("SELECT source FROM activities")} == {"events:堺市西区:events.csv"}
    assert {r["source"] for r in db.query("SELECT source FROM occurrences")} == {"events:堺市西区:events.csv"}
    faq_row = next(db.query("SELECT * FROM faqs"))
    assert faq_row["faq_id"] == "7" and faq_row["source"] == "faq_opendata::faq.json"
    assert faq_row["id"] == "faq_opendata::faq.json#7"
    assert counts(db) == (2, 2) and db["faqs"].count == 1
    # Re-importing after the upgrade updates in place: nothing is duplicated, nothing lost.
    before = (ids(db, "activities"), ids(db, "occurrences"), ids(db, "faqs"))
    import_file(db, events)
    import_file(db, faq)
    assert (ids(db, "activities"), ids(db, "occurrences"), ids(db, "faqs")) == before
    assert db["sources"].count == 2


# --- logging ----------------------------------------------------------------------------------


def test_each_import_is_logged_and_a_rejected_file_warns(db, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="knowledge.importers")
    good = events_file(tmp_path / "nishi", ward_event("西区", "親子ひろば", "2026/05/01"))
    import_file(db, good)
    records = [r for r in caplog.records if r.name == "knowledge.importers"]
    assert [r.levelname for r in records] == ["INFO"]
    message = records[0].getMessage()
    assert "events:堺市西区:events.csv" in message and "events" in message
    assert "activities 1" in message and "occurrences 1" in message

    caplog.clear()
    bad = events_file(tmp_path / "bad", ward_event("西区", "", "2026/05/01"), ward_event("西区", "体操", "2026/13/01"))
    with pytest.raises(ImportRejected):
        import_file(db, bad)
    records = [r for r in caplog.records if r.name == "knowledge.importers"]
    assert [r.levelname for r in records] == ["WARNING"]
    assert "events.csv" in records[0].getMessage() and "2 bad row(s)" in records[0].getMessage()
