"""The matcher's own mechanics, on small hand-made indexes."""

from knowledge.answers.ask import DROP, STOPWORDS
from knowledge.search.documents import make_doc
from knowledge.search.index import build_index
from knowledge.search.query import make_query
from knowledge.search.scoring import candidates, query_grams


def test_a_title_holding_the_question_is_a_candidate_whatever_its_body():
    real = make_doc(
        "activity",
        "real",
        "real",
        "沐浴体験",
        None,
        [],
        "妊娠中のかたへ。" + "会場の案内と持ち物の説明。" * 40,
        "event",
    )
    lookalikes = [
        make_doc("activity", f"s{i}", f"s{i}", f"ひろば{i}", None, [], "沐浴体験", "event") for i in range(200)
    ]
    index = build_index(lookalikes + [real])
    query = make_query("沐浴体験", STOPWORDS, {}, DROP)
    found = [index.docs[d].id for d, _cos in candidates(index, query_grams(query), limit=10)]
    assert "real" in found


def test_space_separated_search_words_are_separate_words():
    query = make_query("就学援助 申請", STOPWORDS, {}, DROP)
    assert [c[0] for c in query.chunks] == ["就学援助", "申請"]


def test_a_run_of_verbs_counts_for_less_than_a_run_that_names_something():
    query = make_query("離乳食の進め方に悩んでいる", STOPWORDS, {}, DROP)
    weights = {c[0]: c[3] for c in query.chunks}
    assert weights["離乳食"] == 1.0 and all(w < 1.0 for f, w in weights.items() if f != "離乳食")


def _synonyms(*groups):
    """A dictionary as the base would load it, from (canonical, term) rows."""
    import sqlite_utils

    from knowledge.search.index import load_synonyms

    db = sqlite_utils.Database(memory=True)
    db["synonyms"].insert_all([{"term": t, "canonical": c} for c, t in groups])
    return load_synonyms(db)


def test_a_phrase_is_found_by_its_words_in_order_not_only_as_written():
    synonyms = _synonyms(("病児保育", "病気の子を預"))
    query = make_query("病気の子どもを施設で預かってもらえるサービス", STOPWORDS, synonyms, DROP)
    assert all(hit[2] == ("病児保育",) for hit in query.synonym_hits)
    covered = {hit[0] for hit in query.synonym_hits}
    assert {"病気", "子ドモ", "預カツ"} <= covered  # the question's own words stand for the phrase


def test_a_phrase_is_not_found_across_sentences_or_far_apart():
    synonyms = _synonyms(("病児保育", "病気の子を預"))
    apart = make_query("病気が心配。子どもを預けたい", STOPWORDS, synonyms, DROP)
    far = make_query("病気の子どもと公園や図書館や児童館に行き、友達に預けた", STOPWORDS, synonyms, DROP)
    assert not apart.synonym_hits and not far.synonym_hits


def test_an_adverb_is_a_word_of_its_own():
    query = make_query("初めて利用する人", STOPWORDS, {}, DROP)
    weights = {c[0]: c[3] for c in query.chunks}
    assert weights["初メテ"] == 0.3 and weights["利用"] == 1.0  # not one rare word 初メテ利用


def test_of_two_titles_that_cover_the_question_the_one_saying_nothing_more_is_more_precise():
    from knowledge.search.scoring import title_precision

    docs = [
        make_doc("faq", str(i), str(i), t, None, [], "", "faq")
        for i, t in enumerate(["風しんについて教えてください。", "風しん抗体検査について教えてください。"])
    ]
    index = build_index(docs)
    query = make_query("風しん", STOPWORDS, {}, DROP)
    general, specific = (title_precision(query, d, index, STOPWORDS, DROP) for d in index.docs)
    assert general == 1.0 and specific < 0.5


def test_a_light_word_frames_the_question_and_weighs_as_little_as_a_verb():
    from knowledge.answers.ask import LIGHT_WORDS

    query = make_query("妊娠届について、自分の場合に必要な対応を知りたい", STOPWORDS, {}, DROP, LIGHT_WORDS)
    weights = {c[0]: c[3] for c in query.chunks}
    assert weights["妊娠届"] == 1.0 and weights["自分"] == weights["場合"] == weights["対応"] == 0.3


def test_a_dictionary_verb_is_found_in_any_of_its_forms():
    synonyms = _synonyms(("受け取る", "交付"))
    query = make_query("母子手帳をまだ受け取っていない", STOPWORDS, synonyms, DROP)
    assert any("交付" in hit[2] for hit in query.synonym_hits)
