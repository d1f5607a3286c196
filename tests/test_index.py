"""The index cache: which base an index belongs to, and when it is rebuilt."""

import gc

from knowledge import ask, open_db
from knowledge.store.db import bump_version


def _faq_base(path, question: str, answer: str, faq_id: str = "1"):
    db = open_db(path)
    with db.atomic():
        db["faqs"].insert({"id": f"f{faq_id}", "faq_id": faq_id, "question": question, "answer": answer})
        bump_version(db)
    return db


def test_a_closed_in_memory_base_never_lends_its_index_to_another():
    first = _faq_base(":memory:", "図書館の開館時間を教えてください", "9時から17時です。")
    assert ask(first, "図書館の開館時間", log=False).answered
    old = id(first.conn)
    first.close()
    del first
    gc.collect()
    # a new connection often takes the closed one's address: try until it does (or give up)
    others = []
    for _ in range(50):
        second = _faq_base(":memory:", "予防接種の受け方を教えてください", "かかりつけ医で受けられます。")
        if id(second.conn) == old:
            break
        others.append(second)
    answer = ask(second, "予防接種", log=False)
    assert answer.answered and answer.items[0].title == "予防接種の受け方を教えてください"


def test_two_in_memory_bases_at_one_version_keep_their_own_indexes():
    a = _faq_base(":memory:", "図書館の開館時間を教えてください", "9時から17時です。")
    b = _faq_base(":memory:", "予防接種の受け方を教えてください", "かかりつけ医で受けられます。")
    assert ask(a, "図書館の開館時間", log=False).items[0].title.startswith("図書館")
    assert ask(b, "予防接種", log=False).items[0].title.startswith("予防接種")
    assert ask(a, "図書館の開館時間", log=False).items[0].title.startswith("図書館")


def test_a_file_replaced_at_the_same_path_gets_its_own_index(tmp_path):
    import os

    path, new = tmp_path / "kb.db", tmp_path / "new.db"
    first = _faq_base(path, "図書館の開館時間を教えてください", "9時から17時です。")
    assert ask(first, "図書館の開館時間", log=False).answered
    first.close()
    _faq_base(new, "予防接種の受け方を教えてください", "かかりつけ医で受けられます。").close()
    os.replace(new, path)  # a deploy swaps in a rebuilt base: same path, same version number
    second = open_db(path)
    answer = ask(second, "予防接種", log=False)
    assert answer.answered and answer.items[0].title == "予防接種の受け方を教えてください"


# --- rebuilds after a write ------------------------------------------------------------------

import threading  # noqa: E402

import pytest  # noqa: E402

from knowledge.search import index as index_mod  # noqa: E402

LIBRARY = ("図書館の開館時間を教えてください", "9時から17時です。")
VACCINE = ("予防接種の受け方を教えてください", "かかりつけ医で受けられます。")


@pytest.fixture
def cache(monkeypatch):
    """A cache of this test's own, with background rebuilds on (the default)."""
    fresh = index_mod.IndexCache()
    monkeypatch.setattr(index_mod, "CACHE", fresh)
    yield fresh
    fresh.wait_idle(30)


@pytest.fixture
def held_rebuilds(monkeypatch):
    """Background builds wait for ``release`` to be set; builds in the asking thread do not."""
    release, started = threading.Event(), []
    build = getattr(index_mod, "build_for", None)

    def held(db, version, meaning):
        if threading.current_thread() is not threading.main_thread():
            started.append(version)
            assert release.wait(30)
        return build(db, version, meaning)

    monkeypatch.setattr(index_mod, "build_for", held, raising=False)
    yield release, started
    release.set()


def _write(path, question, answer, faq_id):
    """A staff write on a connection of its own, as another request or process makes it."""
    _faq_base(path, question, answer, faq_id).close()


def _titles(db, question):
    return [i.title for i in ask(db, question, log=False).items]


def test_a_write_elsewhere_never_stalls_a_question_and_the_new_index_follows(tmp_path, cache, held_rebuilds):
    release, started = held_rebuilds
    path = tmp_path / "kb.db"
    _faq_base(path, *LIBRARY).close()
    reader = open_db(path)
    assert _titles(reader, "図書館の開館時間") == [LIBRARY[0]]  # the first build, in the question
    _write(path, *VACCINE, faq_id="2")
    for _ in range(3):  # answered from the old index while the new one is built, once
        assert VACCINE[0] not in _titles(reader, "予防接種の受け方")
    for _ in range(500):
        if started:
            break
        threading.Event().wait(0.01)
    assert len(started) == 1
    release.set()
    assert cache.wait_idle(30)
    assert _titles(reader, "予防接種の受け方")[0] == VACCINE[0]


def test_a_connection_reads_its_own_writes_and_wait_gives_the_current_index(tmp_path, cache, held_rebuilds):
    path = tmp_path / "kb.db"
    writer = _faq_base(path, *LIBRARY)
    assert ask(writer, "図書館の開館時間", log=False).answered
    with writer.atomic():
        writer["faqs"].insert({"id": "f2", "faq_id": "2", "question": VACCINE[0], "answer": VACCINE[1]})
        bump_version(writer)
    assert _titles(writer, "予防接種の受け方")[0] == VACCINE[0]  # built in the question: it wrote
    _write(path, "児童手当の申請方法を教えてください", "区役所で申請します。", faq_id="3")
    reader = open_db(path)
    version = index_mod.index_for(reader, wait=True).version
    assert version == index_mod.dbmod.version(reader)
    assert _titles(reader, "児童手当の申請")[0].startswith("児童手当")


def test_a_connection_that_only_logged_a_declined_question_never_waits_for_a_rebuild(tmp_path, cache, held_rebuilds):
    """A web thread keeps its connection (``thread_db``): the unanswered log row it wrote is not
    knowledge, so after a write elsewhere it answers from the old index like any reader."""
    release, started = held_rebuilds
    path = tmp_path / "kb.db"
    _faq_base(path, *LIBRARY).close()
    web = open_db(path)
    declined = ask(web, "宝くじの当選番号", asker="U1")  # writes its log row on this connection
    assert not declined.answered and web.conn.total_changes
    assert web["unanswered"].count == 1
    _write(path, *VACCINE, faq_id="2")
    assert VACCINE[0] not in _titles(web, "予防接種の受け方")  # not held by the build under way
    for _ in range(500):
        if started:
            break
        threading.Event().wait(0.01)
    assert started
    release.set()
    assert cache.wait_idle(30)
    assert _titles(web, "予防接種の受け方")[0] == VACCINE[0]


def test_a_failed_rebuild_is_logged_and_tried_again_while_the_old_index_answers(tmp_path, cache, monkeypatch, caplog):
    path = tmp_path / "kb.db"
    _faq_base(path, *LIBRARY).close()
    reader = open_db(path)
    assert ask(reader, "図書館の開館時間", log=False).answered
    build = getattr(index_mod, "build_for", None)

    def broken(db, version, meaning):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(index_mod, "build_for", broken)
    _write(path, *VACCINE, faq_id="2")
    with caplog.at_level("ERROR", logger="knowledge.search.index"):
        assert VACCINE[0] not in _titles(reader, "予防接種の受け方")
        assert cache.wait_idle(30)
    failed = [r for r in caplog.records if r.name == "knowledge.search.index" and r.levelname == "ERROR"]
    assert failed and failed[0].exc_info and "disk on fire" in str(failed[0].exc_info[1])
    assert _titles(reader, "図書館の開館時間") == [LIBRARY[0]]  # the old index still answers
    monkeypatch.setattr(index_mod, "build_for", build)
    _titles(reader, "予防接種の受け方")  # the next question tries again
    assert cache.wait_idle(30)
    assert _titles(reader, "予防接種の受け方")[0] == VACCINE[0]


def test_an_in_memory_base_is_rebuilt_in_the_question(cache):
    db = _faq_base(":memory:", *LIBRARY)
    assert ask(db, "図書館の開館時間", log=False).answered
    other = open_db(db.conn)  # another wrapper of the same connection: it has not written
    with db.atomic():
        db["faqs"].insert({"id": "f2", "faq_id": "2", "question": VACCINE[0], "answer": VACCINE[1]})
        bump_version(db)
    assert _titles(other, "予防接種の受け方")[0] == VACCINE[0]


def test_a_backup_restored_in_place_is_served_though_its_version_is_lower(tmp_path):
    """``cp backup.db kosodate.db`` keeps the inode and lowers ``meta.version``: the index must
    follow the base as it now is, not keep the newer-numbered one it had."""
    import shutil

    from knowledge.search.index import index_for

    path, backup = tmp_path / "kb.db", tmp_path / "backup.db"
    db = _faq_base(path, "図書館の開館時間を教えてください", "9時から17時です。")
    db.close()
    shutil.copyfile(path, backup)
    db = _faq_base(path, "予防接種の受け方を教えてください", "かかりつけ医で受けられます。", faq_id="2")
    assert len(index_for(db, wait=True).docs) == 2
    db.close()
    shutil.copyfile(backup, path)  # the same file on disk, an older content
    restored = open_db(path)
    assert len(index_for(restored, wait=True).docs) == 1
    assert not ask(restored, "予防接種の受け方", log=False).answered
