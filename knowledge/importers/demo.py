"""The demo base: the shipped restatements of the seed documents and sample events.

``kosodate-bot kb init --demo`` and a first ``make run`` build it; so do the tests and benches,
so every one of them answers from the same demo. The base is built in a temporary file and
moved into place only when complete: a stopped build never leaves half a demo behind.
"""

from __future__ import annotations

import logging
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable

from knowledge.importers import import_file
from knowledge.search.embed import DEFAULT_MEANING, Meaning, Progress
from knowledge.store.db import open_db

logger = logging.getLogger(__name__)

DATA = pathlib.Path(__file__).resolve().parents[1] / "data"
DEMO_DIR = DATA / "demo"
# The demo's documents, shipped in knowledge/data/demo: each restates one seed document of
# ../shared/seeds (named by its file-name prefix) in clean text, in that document's own layout,
# with the import options the document cannot state itself.
DEMO_DOCUMENTS = [
    ("mihara_key_initiative_fy2023.txt", "000_", {}),
    ("sakai_plan_3-1.txt", "001_", {"area": "堺市"}),
    ("nishi_key_initiative_fy2025.txt", "002_", {}),
    ("asahi_base_evaluation_fy2025.txt", "003_", {}),
    ("tsurumi_base_evaluation_fy2021.txt", "004_", {}),
]
# Sample events (dates are recurrences, so the demo has events in every week it is run).
DEMO_EVENTS = [DATA / "demo_events.csv", DEMO_DIR / "weekly_events.csv"]


def build_demo(
    path: str,
    seeds: pathlib.Path | None = None,
    echo: Callable[[str], None] = logger.info,
    meaning: Meaning = DEFAULT_MEANING,
    progress: Progress | None = None,
) -> None:
    """Build the demo base in a temporary file and move it into place only when complete.
    ``progress`` hears of each file's vectors (see ``import_file``).

    Each demo document comes from ``seeds`` when that directory holds the seed it restates
    (by file-name prefix), else from the shipped restatement: never both, so no program or
    activity is held twice under two ids. The sample events are imported either way.
    """
    target = pathlib.Path(path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".db", dir=target.parent)
    os.close(fd)
    try:
        db = open_db(tmp)
        for name, prefix, options in DEMO_DOCUMENTS:
            files = sorted(seeds.glob(f"{prefix}*.txt")) if seeds else []
            for file in files:
                report = import_file(db, file, meaning=meaning, progress=progress, **options)
                echo(f"imported {file.name} (seed document, in place of {name}): {counts_text(report.counts)}")
            if not files:
                report = import_file(db, DEMO_DIR / name, meaning=meaning, progress=progress, **options)
                echo(f"imported {name}: {counts_text(report.counts)}")
        for file in DEMO_EVENTS:
            report = import_file(db, file, meaning=meaning, progress=progress)
            echo(f"imported {file.name} (sample data): {counts_text(report.counts)}")
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
        db.close()
        for suffix in ("-wal", "-shm"):
            pathlib.Path(str(target) + suffix).unlink(missing_ok=True)
        shutil.move(tmp, target)
    finally:
        pathlib.Path(tmp).unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            pathlib.Path(tmp + suffix).unlink(missing_ok=True)


def counts_text(counts: dict) -> str:
    """An import's counts as one line: ``programs 1, activities 12``."""
    return ", ".join(f"{table} {n}" for table, n in counts.items()) or "nothing"
