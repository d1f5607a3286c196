"""Scoring: which records may answer a question, and how well each does.

Two stages, so a question stays in milliseconds at 100,000 records:

1. ``candidates``: the question's bigrams (plus its synonyms', at ``SYNONYM_GRAM_WEIGHT``, less
   those held by more than ``COMMON_SHARE`` of a large base) are summed over the index's
   postings with ``numpy.bincount``. The best by cosine are joined by the records whose titles
   hold the most of the question's rare bigrams, so a long record is not lost among short
   look-alikes.
2. Rerank of those few dozen: ``coverage`` (how much of the question's content the record and
   its title hold, by reading too, and through the synonym dictionary), ``title_similarity``
   (rapidfuzz ``partial_ratio`` against the title), the first stage's cosine, and
   ``title_precision`` (how much of the title's own content the question holds), combined by
   ``combine``. Area, kind, audience and date fits are applied by ``knowledge.answers.ask.rank``,
   which knows what the question asks. Every weight and credit is in ``knowledge.search.weights``.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np
from rapidfuzz import fuzz

from knowledge.lang.text import ngrams
from knowledge.search.documents import Doc
from knowledge.search.index import Index, Postings
from knowledge.search.query import Query, make_query
from knowledge.search.weights import (
    BODY_CREDIT,
    EXPANSION_CREDIT,
    LEMMA_CREDIT,
    LONE_BIGRAM_CREDIT,
    READING_CREDIT,
    SIMILARITY_FULL_CHARS,
    SYNONYM_GRAM_WEIGHT,
    W_COS,
    W_DOC,
    W_PREC,
    W_SIM,
    W_TITLE,
)

CANDIDATES = 30  # records rescored by cosine (and half as many more by title)
COMMON_SHARE = 0.05  # first stage skips bigrams held by more than this share of the base ...
COMMON_MIN = 2000  # ... once that share is more than this many records


def combine(cov_doc: float, cov_title: float, sim: float, cos: float, prec: float) -> float:
    """A record's score before the fits (see ``knowledge.search.weights``)."""
    return (1 - W_PREC) * (W_DOC * cov_doc + W_TITLE * cov_title + W_SIM * sim + W_COS * min(1.0, cos)) + W_PREC * prec


def candidates(index: Index, grams: dict[str, float], limit: int = CANDIDATES) -> list[tuple[int, float]]:
    """Records worth rescoring, with their TF-IDF cosine: the best by cosine over title and
    body, joined by the best by what their titles alone hold of the question.

    Cosine alone loses a long real record among thousands of short ones that share its words
    (at 100,000 records 沐浴体験 fell to 2,119th); a title that holds the question's rare
    words is a candidate whatever its body.
    """
    n = len(index.docs)
    if not n or not grams:
        return []
    terms, qws = _selective_terms(index, grams)
    if not terms:
        return []
    qw = np.asarray(qws) * index.idf[terms]
    cosine = _accumulate(index.postings, terms, qw, n) / (float(np.linalg.norm(qw)) or 1.0)
    in_title = _accumulate(index.titles, terms, np.minimum(np.asarray(qws), 1.0), n)
    chosen = np.union1d(_top(cosine, limit), _top(in_title, limit // 2))
    chosen = chosen[np.argsort(-cosine[chosen], kind="stable")]
    return [(int(d), float(cosine[d])) for d in chosen]


def _selective_terms(index: Index, grams: dict[str, float]) -> tuple[list[int], list[float]]:
    """The question's bigrams that the base holds, less the very common ones.

    A bigram found in more than ``COMMON_SHARE`` of a large base adds about as much to every
    record's score and costs the most to sum; the rarer bigrams decide the candidates. The
    rerank still sees every bigram of the question.
    """
    found = [(index.vocab[g], qw) for g, qw in grams.items() if g in index.vocab]
    n = len(index.docs)
    floor = math.log((n + 1) / (max(COMMON_MIN, COMMON_SHARE * n) + 1)) + 1.0  # the idf of that df
    kept = [(t, qw) for t, qw in found if index.idf[t] >= floor]
    if len(kept) < 3:  # a question of common words only: keep its rarest few
        kept = sorted(found, key=lambda p: -index.idf[p[0]])[:6]
    return [t for t, _ in kept], [qw for _, qw in kept]


def _accumulate(postings: Postings, terms: list[int], qw: np.ndarray, n: int) -> np.ndarray:
    docs, weights = [], []
    for t, w in zip(terms, qw):
        ds, ws = postings.of(t)
        docs.append(ds)
        weights.append(ws * w)
    return np.bincount(np.concatenate(docs), weights=np.concatenate(weights), minlength=n)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best positive scores (unordered); partitions only the records the
    question touched, a fraction of a large base."""
    touched = np.flatnonzero(scores)
    if len(touched) <= k:
        return touched
    return touched[np.argpartition(-scores[touched], k - 1)[:k]]


def query_grams(query: Query) -> dict[str, float]:
    grams: dict[str, float] = {}
    for text, weight in ((query.core_f, 1.0), (query.core_r, 1.0)):
        for g in ngrams(text, 2):
            grams[g] = grams.get(g, 0.0) + weight
    for pair in query.expansions:
        for text in pair:
            for g in ngrams(text, 2):
                grams[g] = grams.get(g, 0.0) + SYNONYM_GRAM_WEIGHT
    return grams


def coverage(query: Query, doc: Doc, index: Index) -> tuple[float, float]:
    """Share of the question's content (IDF-weighted bigrams) found in the title and in the record.

    Bigrams are taken within chunks (runs of content words), by surface and by reading, and a
    chunk counts by whichever of the two matches better, so かな meets 漢字 and a particle never
    glues two words into a false match. A term of the synonym dictionary is covered when the
    record holds any word of its group (ファミサポ meets ファミリー・サポート・センター).
    """
    # bigrams of the question's dictionary terms whose group the title (or the whole record) holds
    title_f, title_r, any_f, any_r = set(), set(), set(), set()
    held: dict[tuple[str, ...], tuple[bool, bool]] = {}  # a phrase's words share one group: test it once
    for term_f, term_r, members_f, members_r in query.synonym_hits:
        if members_f not in held:
            t = _holds(members_f, members_r, doc.title_f, doc.title_r)
            held[members_f] = (t, t or _holds(members_f, members_r, doc.body_f, doc.body_r))
        in_title, in_any = held[members_f]
        if in_any:
            any_f.update(ngrams(term_f, 2))
            any_r.update(ngrams(term_r, 2))
            if in_title:
                title_f.update(ngrams(term_f, 2))
                title_r.update(ngrams(term_r, 2))
    total = in_title = in_doc = 0.0
    all_f, all_r = f"{doc.title_f}\x00{doc.body_f}", f"{doc.title_r}\x00{doc.body_r}"
    for chunk_f, chunk_r, chunk_l, factor in query.chunks:
        weight, (tf, df) = _chunk_cover(query, index, chunk_f, doc.title_f, all_f, (title_f, any_f))
        weight *= factor
        # a one-character word's reading (日: ヒ) is inside too many other words to count
        _w, (tr, dr) = (
            _chunk_cover(query, index, chunk_r, doc.title_r, all_r, (title_r, any_r))
            if len(chunk_f) > 1
            else (0.0, (0.0, 0.0))
        )
        tl = _chunk_cover(query, index, chunk_l, doc.title_l, "", (set(), set()))[1][0] if chunk_l != chunk_f else 0.0
        total += weight
        in_title += weight * max(tf, READING_CREDIT * tr, LEMMA_CREDIT * tl)
        in_doc += weight * max(tf, READING_CREDIT * tr, LEMMA_CREDIT * tl, BODY_CREDIT * max(df, READING_CREDIT * dr))
    if not total:
        return 0.0, 0.0
    return in_title / total, in_doc / total


def _holds(members_f: tuple[str, ...], members_r: tuple[str, ...], text_f: str, text_r: str) -> bool:
    found_f, found_r = _group_patterns(members_f, members_r)
    return bool((found_f and found_f(text_f)) or (found_r and found_r(text_r)))


@functools.lru_cache(maxsize=8192)
def _group_patterns(members_f: tuple[str, ...], members_r: tuple[str, ...]):
    """One compiled alternation per synonym group and form: a single C-level scan of a record
    instead of one substring test per member (groups have dozens of members)."""

    def search(words):
        words = sorted({w for w in words if w}, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, words))).search if words else None

    return search(members_f), search([m for m in members_r if len(m) >= 2])


def _chunk_cover(
    query: Query, index: Index, chunk: str, title: str, both: str, extra: tuple[set[str], set[str]]
) -> tuple[float, tuple[float, float]]:
    """(the chunk's IDF weight, (share found in the title, share found in title or body)).

    ``both`` is the title and body joined by a NUL, so one ``in`` test looks at both and no
    match runs across the seam.
    """
    cached = query.weights.get(chunk)
    if cached is None:  # once per question, not once per candidate
        grams = ngrams(chunk, 2)
        cached = query.weights[chunk] = (grams, [index.term_idf(g) for g in grams])
    grams, weights = cached
    if not grams:
        return 0.0, (0.0, 0.0)
    total = sum(weights)
    in_title = _covered(chunk, grams, weights, title, extra[0])
    in_any = max(in_title, _covered(chunk, grams, weights, both, extra[1])) if both else in_title
    return total, (in_title / total, in_any / total)


def _covered(chunk: str, grams: list[str], weights: list[float], text: str, extra: set[str]) -> float:
    """IDF weight of the chunk's bigrams found as parts of contiguous matches in ``text``.

    The chunk is walked left to right, extending each match while the longer substring is
    still in the text. A lone two-character match inside a longer chunk earns half:
    テンキ (天気) must not be found in シエン|キョテン (支援拠点) from two unrelated bigrams.
    """
    if len(chunk) < 2:
        return weights[0] if chunk in text else 0.0
    credit = 0.0
    i = 0
    while i < len(grams):
        k = i + 2
        if grams[i] in text:
            while k < len(chunk) and chunk[i : k + 1] in text:
                k += 1
            share = 1.0 if (k - i > 2 or len(chunk) == 2 or _is_kanji(chunk[i:k])) else LONE_BIGRAM_CREDIT
            credit += share * sum(weights[i : k - 1])
            i = k - 1
        else:
            if grams[i] in extra:
                credit += EXPANSION_CREDIT * weights[i]
            i += 1
    return credit


def _is_kanji(s: str) -> bool:
    """Two kanji together are almost always a word (相談 in 相談先), unlike two kana."""
    return all("\u4e00" <= c <= "\u9fff" for c in s)


def title_similarity(query: Query, doc: Doc) -> float:
    """rapidfuzz partial_ratio of the question against the title, by surface and by reading."""
    if not doc.title_f or not query.core_f:
        return 0.0
    best = (
        max(
            fuzz.partial_ratio(query.core_f, doc.title_f),
            fuzz.partial_ratio(query.core_r, doc.title_r) if query.core_r and doc.title_r else 0,
        )
        / 100.0
    )
    shortest = min(len(doc.title_f), len(query.core_f))
    return best * min(1.0, shortest / SIMILARITY_FULL_CHARS)


def title_precision(
    query: Query,
    doc: Doc,
    index: Index,
    stopwords: frozenset[str],
    drop: list[str],
    light: frozenset[str] = frozenset(),
) -> float:
    """Share of the title's own content (IDF-weighted bigrams) that the question holds.

    Coverage asks how much of the question a record answers; this asks the reverse. Of
    風しんについて and 風しん抗体検査について, both cover the question 風しん; only the first says
    nothing the parent did not ask, so it is the better answer to a question about 風しん.
    The title's chunks are cut once per record, on first use.
    """
    if doc.title_chunks is None:  # the record belongs to this index, so its IDFs hold with it
        doc.title_chunks = [
            (_weighed(index, f), _weighed(index, r) if len(f) > 1 else None, factor)
            for f, r, _l, factor in make_query(doc.title, stopwords, {}, drop, light).chunks
        ]
    total = found = 0.0
    for by_f, by_r, factor in doc.title_chunks:
        share = _share(by_f, query.core_f, query.expanded_f)
        if by_r is not None:
            share = max(share, READING_CREDIT * _share(by_r, query.core_r, query.expanded_r))
        total += by_f[3] * factor
        found += by_f[3] * factor * share
    return found / total if total else 0.0


def _weighed(index: Index, chunk: str) -> tuple[str, list[str], list[float], float]:
    grams = ngrams(chunk, 2)
    weights = [index.term_idf(g) for g in grams]
    return chunk, grams, weights, sum(weights)


def _share(weighed: tuple[str, list[str], list[float], float], text: str, extra: set[str]) -> float:
    """The share of a chunk's IDF weight found in ``text``."""
    chunk, grams, weights, total = weighed
    return _covered(chunk, grams, weights, text, extra) / total if total else 0.0
