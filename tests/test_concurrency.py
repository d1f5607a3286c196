"""One writer at a time, many readers: writes wait for the lock and no question fails for it."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from datetime import date

from click.testing import CliRunner

from bot.cli import cli
from knowledge import ask, open_db
from knowledge.answers import placeholders
from knowledge.store import db as dbmod
from knowledge.store.db import writing

DECLINED = ["宝くじの当選番号", "中古車の買取相場", "歯医者の口コミ", "今日の天気は"]
TODAY = date(2026, 11, 25)


def _hold_write_lock(path, seconds: float, started: threading.Event) -> None:
    db = open_db(path)
    with writing(db):
        placeholders.set_value(db, "（電話番号）", "045-000-0000", None)
        started.set()
        time.sleep(seconds)
    db.close()


def test_read_then_write_waits_for_another_writer_instead_of_failing(demo_db_path, tmp_path):
    """A deferred transaction that read before another writer committed fails at once in WAL
    mode ("database is locked"); ``writing`` takes the lock first, so the other writer waits."""
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    a = open_db(path)
    errors: list[Exception] = []

    def other_writer():
        b = open_db(path)
        try:
            with writing(b):
                b["unanswered"].insert({"text": "B", "asked_at": dbmod.now_iso(), "best_score": 0})
        except Exception as e:  # pragma: no cover - the failure this test guards against
            errors.append(e)

    with writing(a):
        before = a["unanswered"].count  # a read ...
        thread = threading.Thread(target=other_writer)
        thread.start()
        time.sleep(0.3)  # ... while the other writer tries to commit ...
        a["unanswered"].insert({"text": "A", "asked_at": dbmod.now_iso(), "best_score": 0})  # ... then a write
    thread.join()
    assert not errors
    assert [r["text"] for r in a.query("SELECT text FROM unanswered ORDER BY id")][before:] == ["A", "B"]


def test_declined_questions_under_concurrent_writes_all_answered_and_logged(demo_db_path, tmp_path):
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    base = open_db(path)  # the base in WAL mode, as the web process keeps it
    before = base["unanswered"].count
    base.close()
    threads, per_thread = 8, 12
    failures: list[BaseException] = []
    stop = threading.Event()

    def parent(n: int):
        db = open_db(path)
        try:
            for i in range(per_thread):
                answer = ask(db, DECLINED[i % len(DECLINED)], area="堺市西区", today=TODAY, asker=f"t{n}")
                assert not answer.answered and answer.text
        except BaseException as e:
            failures.append(e)
        finally:
            db.close()

    def staff():
        db = open_db(path)
        i = 0
        while not stop.is_set():
            placeholders.set_value(db, "（電話番号）", f"045-000-{i:04d}", None)
            i += 1
            time.sleep(0.02)  # 50 writes a second: far above any staff, still a lock taken all the time
        db.close()

    writer = threading.Thread(target=staff)
    writer.start()
    workers = [threading.Thread(target=parent, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    writer.join()
    assert not failures
    db = open_db(path)
    assert db["unanswered"].count == before + threads * per_thread


def test_read_only_base_still_answers_declined_questions(demo_db_path, caplog):
    conn = sqlite3.connect(f"{demo_db_path.resolve().as_uri()}?mode=ro", uri=True)
    db = open_db(conn)
    answer = ask(db, "宝くじの当選番号", area="堺市西区", today=TODAY)
    assert not answer.answered and "お問い合わせ" in answer.text
    assert any("could not log an unanswered question" in r.getMessage() for r in caplog.records)
    assert ask(db, "あかちゃんさろん", area="旭区", today=TODAY).answered


def _import_while_locked(demo_db_path, tmp_path, hold_seconds: float):
    """``kb import`` of a one-row FAQ file while another connection holds the write lock."""
    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    faq = tmp_path / "faq.csv"
    faq.write_text("question,answer\n母子手帳はどこでもらえますか,区役所で交付します\n", encoding="utf-8")
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, hold_seconds, started))
    holder.start()
    started.wait()
    result = CliRunner().invoke(cli, ["kb", "import", str(faq), "--db", str(path)])
    holder.join()
    return result, open_db(path).execute("SELECT count(*) FROM faqs").fetchone()[0]


def test_import_waits_for_a_writer_that_holds_the_lock(demo_db_path, tmp_path):
    result, faqs = _import_while_locked(demo_db_path, tmp_path, 1.0)
    assert result.exit_code == 0, result.output
    assert faqs == 1


def test_import_against_a_lock_held_too_long_is_one_clear_line(demo_db_path, tmp_path, monkeypatch):
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_S", 0.2)
    result, faqs = _import_while_locked(demo_db_path, tmp_path, 1.5)
    assert result.exit_code == 1
    assert "locked by another writer" in result.output and "Traceback" not in result.output
    assert faqs == 0


def test_a_declined_question_does_not_wait_out_a_long_import(demo_db_path, tmp_path, caplog):
    """The log write waits ``unanswered.LOCK_WAIT_S``, not the import's timeout: with the lock
    held for 3 s, the question is answered and its row given up (an import holding the lock
    for 30 s must not hold every web thread with it)."""
    from knowledge.store import unanswered

    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    db = open_db(path)
    before = db["unanswered"].count
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, unanswered.LOCK_WAIT_S + 2, started))
    holder.start()
    started.wait()
    answer = ask(db, "宝くじの当選番号", area="堺市西区", today=TODAY)
    still_held = holder.is_alive()
    holder.join()
    assert still_held and not answer.answered and "お問い合わせ" in answer.text
    assert db["unanswered"].count == before
    assert any("could not log an unanswered question" in r.getMessage() for r in caplog.records)


def test_a_base_that_cannot_be_opened_for_writing_is_served_read_only(demo_db_path, tmp_path, monkeypatch):
    """Read-only media: the path opens read-only, the web process answers, declined questions too;
    the health check says the base cannot be written (配信停止 and follows would be lost)."""
    from bot.app import create_app
    from bot.config import Config

    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    real_connect = sqlite3.connect

    def no_writing(database, *args, **kwargs):
        if "mode=rw" in str(database):
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", no_writing)
    client = create_app(Config(db_path=str(path))).test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and "cannot be written" in health.get_json()["reason"]
    declined = client.get("/api/ask", query_string={"q": "宝くじの当選番号", "area": "堺市西区"})
    assert declined.status_code == 200 and declined.get_json()["answered"] is False
