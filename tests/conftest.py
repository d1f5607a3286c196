"""Shared fixtures: paths to ../shared, a demo knowledge base built once per session."""

from __future__ import annotations

import pathlib
import shutil

import pytest

from knowledge import open_db

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
    from bot.cli import build_demo

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
