"""The demo stands alone: built from the files the project ships, with no seed documents, it
answers about programs, bases, schedules and events, and every week has events in every ward."""

from __future__ import annotations

import json
import pathlib
import sqlite3
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from conftest import SEEDS

from bot.cli import cli
from bot.cli.options import seeds_dir
from knowledge import ask
from knowledge.answers.schedule import dates_in
from knowledge.importers.demo import DEMO_DIR, DEMO_DOCUMENTS, DEMO_EVENTS

DEMO_WARDS = ["横浜市旭区", "横浜市鶴見区", "堺市美原区", "堺市西区"]


@pytest.fixture
def no_seeds(monkeypatch, tmp_path):
    """As on a fresh clone: no KOSODATE_SEEDS, and no ../shared beside the working directory."""
    monkeypatch.delenv("KOSODATE_SEEDS", raising=False)
    monkeypatch.delenv("KOSODATE_DB", raising=False)
    work = tmp_path / "clone"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_the_shipped_files_exist_and_are_package_data():
    for name, _prefix, _options in DEMO_DOCUMENTS:
        assert (DEMO_DIR / name).is_file(), name
    assert all(p.is_file() for p in DEMO_EVENTS)
    pyproject = (pathlib.Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"data/demo/*.txt"' in pyproject and '"data/demo/*.csv"' in pyproject


def test_kb_init_demo_without_seeds(no_seeds):
    assert seeds_dir(None) is None
    result = CliRunner().invoke(cli, ["kb", "init", "--demo", "--db", "demo.db"])
    assert result.exit_code == 0, result.output
    assert "seed" not in result.output and "demo knowledge base ready" in result.output
    conn = sqlite3.connect(no_seeds / "demo.db")
    sources = {row[0] for row in conn.execute("SELECT name FROM sources")}
    assert sources == {name for name, _p, _o in DEMO_DOCUMENTS} | {p.name for p in DEMO_EVENTS}
    areas = {row[0] for row in conn.execute("SELECT DISTINCT area FROM activities")}
    assert set(DEMO_WARDS) <= areas


def test_the_default_base_is_built_without_seeds(no_seeds):
    """`ask` with no base at the default path builds the demo first, as `make run` does."""
    result = CliRunner().invoke(cli, ["ask", "ぷちキャラバン隊は何曜日？", "--area", "鶴見区", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output.strip().splitlines()[-1])
    assert answer["answered"] and answer["items"][0]["title"] == "ぷちキャラバン隊"
    assert (no_seeds / "kosodate.db").exists()


def test_a_seeds_directory_that_is_not_there_is_an_error(no_seeds, monkeypatch):
    monkeypatch.setenv("KOSODATE_SEEDS", str(no_seeds / "missing"))
    result = CliRunner().invoke(cli, ["kb", "init", "--demo", "--db", "demo.db"])
    assert result.exit_code == 1 and "KOSODATE_SEEDS" in result.output


def test_an_empty_seeds_directory_gives_the_shipped_demo(no_seeds, monkeypatch):
    (no_seeds / "seeds").mkdir()
    monkeypatch.setenv("KOSODATE_SEEDS", str(no_seeds / "seeds"))
    result = CliRunner().invoke(cli, ["kb", "init", "--demo", "--db", "demo.db"])
    assert result.exit_code == 0 and "seed document" not in result.output


def test_seeds_replace_their_restatements_never_both(tmp_path):
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present")
    from knowledge.importers.demo import build_demo

    path = tmp_path / "seeded.db"
    build_demo(str(path), SEEDS, echo=lambda _m: None)
    conn = sqlite3.connect(path)
    sources = {row[0] for row in conn.execute("SELECT name FROM sources")}
    assert not sources & {name for name, _p, _o in DEMO_DOCUMENTS}
    assert len([s for s in sources if s.endswith(".txt")]) == len(DEMO_DOCUMENTS)
    # one program per title and area: a document was not imported twice under two names
    assert (
        conn.execute("SELECT COUNT(*) FROM programs").fetchone()[0]
        == conn.execute("SELECT COUNT(*) FROM (SELECT DISTINCT area, title FROM programs)").fetchone()[0]
    )


@pytest.mark.parametrize(
    "question, area, title, text",
    [
        # a key-initiative program, its schedule and its progress
        ("西区のこどもの居場所の支援事業について教えて", "堺市西区", "西区こどもの居場所等支援事業", None),
        ("こどもの居場所研究会はいつ開かれますか", "堺市西区", "こどもの居場所研究会", "5月"),
        ("子ども家庭フォーラムはいつ？", "堺市美原区", "子ども家庭フォーラム", None),
        # a support base and its operator
        ("旭区の子育て支援拠点を運営しているのはどこ？", "横浜市旭区", "地域子育て支援拠点", "子そだちしえん・あさひ"),
        # activities with counts and ages stated in the evaluation
        ("キッズクッキングの対象年齢は？", "横浜市旭区", "キッズクッキング", "年中"),
        ("マタニティの本を借りられる？", "横浜市鶴見区", "マタニティコーナー", None),
        # a related program of the city plan and its facts
        ("地域子育て支援センターは何か所ある？", "堺市", "地域子育て支援", "14"),
        ("ファミサポについて教えて", "堺市", "ファミリー・サポート・センター", None),
        # events by name
        ("はんどめいどくらぶはいつ？", "横浜市鶴見区", "はんどめいどくらぶ", None),
        ("リサイクルマーケットはいつ？", "横浜市旭区", "リサイクルマーケット", None),
    ],
)
def test_the_seedless_demo_answers(demo_db, question, area, title, text):
    answer = ask(demo_db, question, area=area, today=date(2026, 11, 24), log=False)
    assert answer.answered, answer.text
    assert title in answer.items[0].title
    if text:
        assert text in answer.text


def test_an_operator_question_near_the_bar_answers_or_offers_the_base(demo_db):
    """鶴見区の拠点の運営法人 stands just under the decision's bar (issue 26): answered, it names
    the operator; declined, the ward's base leads the 「もしかして」 list."""
    answer = ask(demo_db, "鶴見区の拠点の運営法人", area="横浜市鶴見区", today=date(2026, 11, 24), log=False)
    if answer.answered:
        assert "青い鳥" in answer.text
    else:
        assert answer.suggestions[0].title.startswith("鶴見区地域子育て支援拠点"), answer.text


def _events_by_ward(db) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in db.query("SELECT id, area FROM activities WHERE kind = 'event'"):
        out.setdefault(row["area"], []).append(row["id"])
    return out


def test_every_week_has_an_event_in_every_demo_ward(demo_db):
    """今週のイベント never lists nothing: from the demo's first season (April 2025) through 2035,
    and in a few weeks far from now, each ward has at least one dated event in every week."""
    events = _events_by_ward(demo_db)
    first, last = date(2025, 3, 31), date(2035, 12, 30)  # Mondays
    for ward in DEMO_WARDS:
        weeks = set()
        for activity_id in events[ward]:
            weeks |= {
                (o.day - timedelta(days=o.day.weekday()))
                for o in dates_in(demo_db, activity_id, first, last + timedelta(days=6))
                if o.precision == "day"
            }
        missing = [
            first + timedelta(weeks=i)
            for i in range((last - first).days // 7 + 1)
            if first + timedelta(weeks=i) not in weeks
        ]
        assert not missing, (ward, missing[:5])
        for monday in (date(2047, 6, 3), date(2071, 12, 28), date(2099, 12, 21)):
            monday -= timedelta(days=monday.weekday())
            assert any(
                o.precision == "day"
                for a in events[ward]
                for o in dates_in(demo_db, a, monday, monday + timedelta(days=6))
            ), (ward, monday)


@pytest.mark.parametrize(
    "area, title, today",
    [
        ("横浜市旭区", "そとあそび", date(2026, 12, 1)),
        ("横浜市鶴見区", "ぷちキャラバン隊", date(2031, 2, 17)),
        ("堺市美原区", "ピアサポート交流会", date(2038, 9, 8)),
        ("堺市西区", "放課後の学びの場", date(2044, 5, 3)),
    ],
)
def test_this_weeks_event_is_answered_with_a_date_in_this_week(demo_db, area, title, today):
    answer = ask(demo_db, f"今週の{title}はいつ？", area=area, today=today, log=False)
    assert answer.answered and answer.items[0].title == title, answer.text
    monday = today - timedelta(days=today.weekday())
    days = [o.day for o in dates_in(demo_db, answer.items[0].id, monday, monday + timedelta(days=6))]
    assert days, (title, today)
    assert any(f"{d.month}月{d.day}日" in answer.text for d in days), answer.text
