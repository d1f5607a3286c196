"""The matcher's own mechanics, on small hand-made indexes."""

from knowledge.answer import DROP, STOPWORDS
from knowledge.search import _doc, build_index, candidates, make_query, query_grams


def test_a_title_holding_the_question_is_a_candidate_whatever_its_body():
    real = _doc("activity", "real", "real", "沐浴体験", None, [], "妊娠中のかたへ。" + "会場の案内と持ち物の説明。" * 40, "event")
    lookalikes = [
        _doc("activity", f"s{i}", f"s{i}", f"ひろば{i}", None, [], "沐浴体験", "event") for i in range(200)
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
