"""Shared fixtures: paths to ../shared, a demo knowledge base built once per session."""

from __future__ import annotations

import pathlib
import shutil

import pytest

from knowledge import open_db

pytest_plugins = [
    "line_fake",  # the fake_line fixture: a LINE API that refuses what LINE would
    "slack_fake",  # the Slack tests' fixtures: base_path, base, fake (Slack's Web API), slack (signed requests)
    "digest_helpers",  # the digest tests' fixtures: west, waits, staff_report (a fake Slack report channel)
]

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"


def seed(prefix: str) -> pathlib.Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present")
    return next(SEEDS.glob(f"{prefix}*.txt"))


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory):
    """The demo base as `kb init --demo` builds it: the shipped documents, no seeds."""
    from knowledge.importers.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(str(path), None, echo=lambda _m: None)
    return path


@pytest.fixture
def demo_db(demo_db_path, tmp_path):
    """A private copy of the demo base, so a test may write to it."""
    from knowledge import open_db

    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    db = open_db(path)
    yield db
    db.close()


FAQ = SHARED / "faq" / "kosodate_opendata_faq.json"


@pytest.fixture(scope="session")
def faq_db_path(tmp_path_factory):
    """A base holding only the FAQ open data, built once per session."""
    from knowledge.importers import import_file

    if not FAQ.exists():
        pytest.skip("../shared/faq is not present")
    path = tmp_path_factory.mktemp("faq") / "faq.db"
    db = open_db(path)
    import_file(db, FAQ)
    db.close()
    return path


@pytest.fixture
def faq_db(faq_db_path):
    db = open_db(faq_db_path)
    yield db
    db.close()


# --- a fresh base of events, for listings ----------------------------------------------------

EVENT_COLUMNS = [
    "全国地方公共団体コード",
    "ID",
    "地方公共団体名",
    "イベント名",
    "状態",
    "開始日",
    "終了日",
    "開始時間",
    "終了時間",
    "開始日時特記事項",
    "説明",
    "対象者",
    "場所名称",
]


def events_csv(rows: list[dict]) -> str:
    """A standard events CSV (newer layout, the columns a listing reads) from dicts of its columns."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, EVENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({"全国地方公共団体コード": "271446", "地方公共団体名": "堺市"} | row)
    return out.getvalue()


@pytest.fixture
def events_db(tmp_path):
    """A fresh base; ``events_db.add(area, rows)`` imports an events CSV of those rows for the area."""
    from knowledge.importers import import_file

    db = open_db(tmp_path / "events.db")
    count = iter(range(1000))

    def add(area: str, rows: list[dict]) -> None:
        path = tmp_path / f"events_{next(count)}.csv"
        path.write_text(events_csv(rows), encoding="utf-8")
        report = import_file(db, path, area=area)
        assert not report.errors, report.errors

    db.add = add
    yield db
    db.close()


@pytest.fixture(autouse=True)
def _queue_workers_stopped():
    """Every app a test made with LINE runs the queue's worker threads (``bot.queue.Workers``):
    they are stopped when the test ends, so no test leaves threads polling a deleted queue."""
    yield
    from bot.queue import Workers

    for workers in list(Workers.running):
        workers.stop()
