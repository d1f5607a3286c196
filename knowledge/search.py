"""The matcher: an in-memory index over every answerable record, and its scoring.

Retrieval is two-stage so it scales to 100,000 records:

1. Candidates: character bigrams of both the folded text and its folded katakana reading,
   TF-IDF weighted (titles count twice), kept as one CSR of flat numpy arrays; a question's
   bigrams (plus its synonyms', less those held by more than 5% of a large base) are summed
   with ``numpy.bincount``. The best by cosine are joined by the records whose titles hold the
   most of the question's rare bigrams, so a long record is not lost among short look-alikes.
   Bigrams work for the one- and two-character terms (手当, 公園) that FTS5's trigram
   tokenizer cannot find.
2. Rerank of the best few dozen: how much of the question's content words the record covers
   (by reading, so かな meets 漢字, and through the synonym dictionary, whose phrases are found
   by their words in order), rapidfuzz ``partial_ratio`` of the question against the title,
   the first stage's cosine, and how much of the title's own content the question holds
   (``title_precision``); then area, audience and date fit.

The index is rebuilt when the base's ``meta.version`` changes (every writer bumps it).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import threading
import weakref
from array import array
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils
from rapidfuzz import fuzz

from knowledge import areas as areas_mod
from knowledge import db as dbmod
from knowledge.text import FUNCTION_POS, fold, lemmas, ngrams, parse, reading, tokens

TITLE_WEIGHT = 2.0
CANDIDATES = 30
COMMON_SHARE = 0.05  # first stage skips bigrams held by more than this share of the base ...
COMMON_MIN = 2000  # ... once that share is more than this many records
BODY_CHARS = 600
# A run of only verbs and adjectives (悩んで, 通わせ) tells how the parent is placed more than
# what is asked about; it counts for less of the question than a run that names something.
PREDICATE_POS = {"動詞", "形容詞", "副詞", "助動詞"}
VERB_WEIGHT = 0.3
# An adverb (初めて, 早く) modifies the predicate and never joins a noun into one compound:
# it is a run of its own, so 初めて市 or 初めて利用 is not matched as one rare word.
ALONE_POS = {"副詞"}
# A prefix (お, ご) leans on the word after it and names nothing itself: おすすめ is a verb.
NEUTRAL_POS = {"接頭辞"}


@dataclass
class Doc:
    kind: str  # program, activity, base, faq
    id: str  # primary key in its table
    public_id: str  # the id shown to callers (an FAQ's publisher ID)
    title: str
    area: str | None
    audience: tuple[str, ...]
    title_f: str
    title_r: str
    body_f: str
    body_r: str
    title_l: str = ""
    subkind: str | None = None
    group: str | None = None  # FAQs with the same answer share a group
    title_chunks: list[tuple] | None = None  # the title's content runs with their IDFs, made on first use


@dataclass
class Postings:
    """Per-bigram posting lists as one CSR: documents and weights of term ``t`` are
    ``docs[ptr[t]:ptr[t + 1]]`` and ``weights[...]`` (flat numpy arrays, cheap at 100k records)."""

    ptr: np.ndarray  # int64, len(vocab) + 1
    docs: np.ndarray  # int32
    weights: np.ndarray  # float32

    def of(self, term: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.ptr[term], self.ptr[term + 1]
        return self.docs[lo:hi], self.weights[lo:hi]


@dataclass
class Index:
    docs: list[Doc]
    vocab: dict[str, int]
    idf: np.ndarray
    postings: Postings  # l2-normalised TF-IDF of title + body (cosine)
    titles: Postings  # IDF of the bigrams in each title (what the title alone says)
    synonyms: dict[str, "Synonym"] = field(default_factory=dict)  # folded term -> its group
    version: int = 0
    max_idf: float = 1.0
    areas: list[tuple[str, str]] = field(default_factory=list)  # areas.mentions(), read with the index
    char_idf: dict[str, float] = field(default_factory=dict)  # one character -> its IDF (日, 園)

    def term_idf(self, gram: str) -> float:
        """A bigram no record holds weighs as much as the rarest one that exists.

        Not log(1 + N): that would grow with the base, so the same question's share of
        covered words, and with it the score against the fixed threshold, would sink as
        records are added.
        """
        if len(gram) == 1:  # a one-character word (日, 園): as rare as the records holding it
            return self.char_idf.get(gram, self.max_idf)
        i = self.vocab.get(gram)
        return float(self.idf[i]) if i is not None else self.max_idf


def _body(*parts) -> str:
    return " ".join(p for p in parts if p)[:BODY_CHARS]


def load_docs(db: sqlite_utils.Database) -> list[Doc]:
    """Every record a parent's question may be answered with, as text to match."""
    docs: list[Doc] = []
    schedules: dict[str, list[str]] = {}
    for row in db.query("SELECT program_id, text FROM schedule_items ORDER BY position"):
        schedules.setdefault(row["program_id"], []).append(row["text"])
    for p in db.query("SELECT * FROM programs"):
        body = _body(p["purpose"], p["operator"], p["situation"], p["content"], " ".join(schedules.get(p["id"], [])), p["results"])
        docs.append(_doc("program", p["id"], p["id"], p["title"], p["area"], [], body, p["kind"]))
    for a in db.query("SELECT * FROM activities"):
        body = _body(a["description"], a["ages"], a["place"], a["frequency"])
        docs.append(_doc("activity", a["id"], a["id"], a["title"], a["area"], json.loads(a["audience"] or "[]"), body, a["kind"]))
    for b in db.query("SELECT * FROM bases"):
        body = _body(b["kind"], b["operator"], b["address"], b["ages"], b["description"])
        docs.append(_doc("base", b["id"], b["id"], b["name"], b["area"], [], body, b["kind"]))
    groups: dict[str, str] = {}
    for f in db.query("SELECT * FROM faqs ORDER BY CAST(faq_id AS INTEGER), id"):
        body = _body(f["service_name"], f["category"], f["category2"], f["answer"])
        doc = _doc("faq", f["id"], f["faq_id"] or f["id"], f["question"], f["area"], [], body, f["category"])
        doc.group = groups.setdefault(f"{f['area']}\x1f{fold(f['answer'])}", f["id"])
        docs.append(doc)
    return docs


def _doc(kind, pk, public_id, title, area, audience, body, subkind) -> Doc:
    title = title or ""
    return Doc(kind, pk, str(public_id), title, area, tuple(audience), fold(title), reading(title),
               fold(body), reading(body, cache=False), lemmas(title), subkind)


def doc_grams(doc: Doc) -> dict[str, float]:
    """Bigram counts of a record, title bigrams weighted above body bigrams."""
    counts: dict[str, float] = {}
    for text, weight in ((doc.title_f, TITLE_WEIGHT), (doc.title_r, TITLE_WEIGHT), (doc.body_f, 1.0), (doc.body_r, 1.0)):
        for g in ngrams(text, 2):
            counts[g] = counts.get(g, 0.0) + weight
    return counts


def build_index(docs: list[Doc], synonyms: dict[str, "Synonym"] | None = None, version: int = 0) -> Index:
    """TF-IDF postings (sublinear tf, smoothed idf, l2 norm) and title postings, as flat arrays."""
    vocab: dict[str, int] = {}
    chars: Counter[str] = Counter()
    terms, owners, counts = array("i"), array("i"), array("d")
    title_terms, title_owners = array("i"), array("i")
    for d, doc in enumerate(docs):
        for g, c in doc_grams(doc).items():
            terms.append(vocab.setdefault(g, len(vocab)))
            owners.append(d)
            counts.append(c)
        for g in set(ngrams(doc.title_f, 2) + ngrams(doc.title_r, 2)):
            title_terms.append(vocab[g])
            title_owners.append(d)
        chars.update(set(doc.title_f) | set(doc.body_f))
    n, size = len(docs), len(vocab)
    t = np.frombuffer(terms, dtype=np.int32)
    o = np.frombuffer(owners, dtype=np.int32)
    df = np.bincount(t, minlength=size).astype(np.float64)
    idf = np.log((n + 1) / (df + 1)) + 1.0
    w = (1.0 + np.log(np.frombuffer(counts, dtype=np.float64))) * idf[t]
    norms = np.sqrt(np.bincount(o, weights=w * w, minlength=n))
    w /= np.where(norms > 0, norms, 1.0)[o]
    tt = np.frombuffer(title_terms, dtype=np.int32)
    postings = _csr(t, o, w, size)
    titles = _csr(tt, np.frombuffer(title_owners, dtype=np.int32), idf[tt], size)
    max_idf = float(idf.max()) if size else 1.0
    char_idf = {c: math.log((n + 1) / (k + 1)) + 1.0 for c, k in chars.items()}
    return Index(docs, vocab, idf, postings, titles, synonyms or {}, version, max_idf, char_idf=char_idf)


def _csr(terms: np.ndarray, owners: np.ndarray, weights: np.ndarray, size: int) -> Postings:
    order = np.argsort(terms, kind="stable")
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(terms, minlength=size), out=ptr[1:])
    return Postings(ptr, owners[order].astype(np.int32), weights[order].astype(np.float32))


@dataclass(frozen=True)
class Synonym:
    """A dictionary term with its group, folded and read once when the index is built."""

    term_r: str  # the term's folded reading
    members: tuple[str, ...]  # the other words of its groups, as written
    members_f: tuple[str, ...]
    members_r: tuple[str, ...]
    parts: tuple[tuple[str, str], ...] = ()  # (surface, lemma) folds of a phrase's content words


class Synonyms(dict):
    """Folded term -> its ``Synonym``, with the terms indexed by their first two characters."""

    @functools.cached_property
    def starts(self) -> dict[tuple[bool, str], list[str]]:
        """(by reading?, first two characters) -> terms, built once per dictionary."""
        table: dict[tuple[bool, str], list[str]] = {}
        for term, syn in self.items():
            table.setdefault((False, term[:2]), []).append(term)
            if len(term) >= 3 and len(syn.term_r) >= 2:
                table.setdefault((True, syn.term_r[:2]), []).append(term)
        return table

    @functools.cached_property
    def phrases(self) -> dict[str, list[str]]:
        """First character of a phrase's first content word -> the phrases (terms of two or
        more content words, 病気の子を預), built once per dictionary."""
        table: dict[str, list[str]] = {}
        for term, syn in self.items():
            if len(syn.parts) >= 2:
                table.setdefault(syn.parts[0][0][:1], []).append(term)
        return table


def _content_parts(text: str) -> tuple[tuple[str, str], ...]:
    """(surface, lemma) folds of the words of ``text`` that are not particles or symbols."""
    return tuple((fold(t.surface), fold(t.lemma)) for t in parse(text)
                 if t.pos not in FUNCTION_POS and t.pos != "補助記号" and fold(t.surface))


def load_synonyms(db: sqlite_utils.Database) -> Synonyms:
    """Folded term -> its groups' other words (the canonical included), pre-read."""
    groups: dict[str, set[str]] = {}
    for row in db.query("SELECT term, canonical FROM synonyms"):
        groups.setdefault(row["canonical"], {row["canonical"]}).add(row["term"])
    members_of: dict[str, list[str]] = {}
    written: dict[str, str] = {}  # folded term -> as written, to be cut into words
    for members in groups.values():
        for m in members:
            key = fold(m)
            if len(key) >= 2:
                written.setdefault(key, m)
                found = members_of.setdefault(key, [])
                found += [x for x in members if x != m and x not in found]
    return Synonyms({
        key: Synonym(fold(reading(key)), tuple(ms), tuple(fold(m) for m in ms), tuple(reading(m) for m in ms),
                     _content_parts(written[key]))
        for key, ms in members_of.items()
    })


class IndexCache:
    """The built indexes of this process, one per base, and the one place that knows which
    base an index belongs to.

    A file base is known by its real path and the file's identity on disk (device, inode), so
    two paths to one file share an index and a file replaced by another at the same path does
    not inherit it. An in-memory base has no path: its index is held for as long as the
    ``Database`` object lives (a weak reference), never by ``id()``, which a closed connection
    hands on to the next one. An index is rebuilt when the base's ``meta.version`` changes.
    """

    MAX_FILES = 16  # a process serves one base; tests and benches open many copies

    def __init__(self) -> None:
        self._files: OrderedDict[tuple, Index] = OrderedDict()
        self._memory: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, db: sqlite_utils.Database) -> Index:
        """The index of this base, rebuilt only when the base has changed since."""
        key = base_key(db)
        current = dbmod.version(db)
        with self._lock:
            cached = self._lookup(db, key)
            if cached is None or cached.version != current:
                cached = build_index(load_docs(db), load_synonyms(db), current)
                cached.areas = areas_mod.mentions(db)
                self._store(db, key, cached)
        return cached

    def _lookup(self, db: sqlite_utils.Database, key: tuple | None) -> Index | None:
        if key is None:
            return self._memory.get(db)
        found = self._files.get(key)
        if found is not None:
            self._files.move_to_end(key)
        return found

    def _store(self, db: sqlite_utils.Database, key: tuple | None, index: Index) -> None:
        if key is None:
            self._memory[db] = index
            return
        self._files[key] = index
        self._files.move_to_end(key)
        while len(self._files) > self.MAX_FILES:
            self._files.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._memory.clear()


def base_key(db: sqlite_utils.Database) -> tuple | None:
    """(real path, device, inode) of a file base; ``None`` for a base with no file."""
    row = db.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    if not path:
        return None
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return (real, None, None)
    return (real, st.st_dev, st.st_ino)


CACHE = IndexCache()


def index_for(db: sqlite_utils.Database) -> Index:
    """The index of this base (see ``IndexCache``)."""
    return CACHE.get(db)


# --- querying ----------------------------------------------------------------------------


@dataclass
class Query:
    """A question prepared for matching: its content chunks and the synonyms it names."""

    text: str
    core_f: str
    core_r: str
    chunks: list[tuple[str, str, str, float]]  # (surface, reading, lemmas, weight) of runs of content words
    expansions: list[tuple[str, str]]  # (fold, reading) of every synonym of the terms found
    synonym_hits: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=list)
    # (term fold, term reading, member folds, member readings)
    weights: dict[str, tuple[list[str], list[float]]] = field(default_factory=dict)  # chunk -> its bigrams and their IDFs

    @functools.cached_property
    def expanded_f(self) -> set[str]:
        """Bigrams of the synonyms the question names: a title saying 病児 is not saying more
        than a question saying 病気の子."""
        return {g for f, _r in self.expansions for g in ngrams(f, 2)}

    @functools.cached_property
    def expanded_r(self) -> set[str]:
        return {g for _f, r in self.expansions for g in ngrams(r, 2)}


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
                grams[g] = grams.get(g, 0.0) + 0.5
    return grams


def coverage(query: Query, doc: Doc, index: "Index") -> tuple[float, float]:
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
        _w, (tr, dr) = (_chunk_cover(query, index, chunk_r, doc.title_r, all_r, (title_r, any_r))
                        if len(chunk_f) > 1 else (0.0, (0.0, 0.0)))
        tl = _chunk_cover(query, index, chunk_l, doc.title_l, "", (set(), set()))[1][0] if chunk_l != chunk_f else 0.0
        total += weight
        # A match by reading alone counts a little less than one by the written form:
        # 養育 (ヨウイク) is inside 療育 (リヨウイク) once small kana are folded.
        in_title += weight * max(tf, 0.95 * tr, 0.9 * tl)
        in_doc += weight * max(tf, 0.95 * tr, 0.9 * tl, 0.8 * max(df, 0.95 * dr))
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


def _chunk_cover(query: Query, index: "Index", chunk: str, title: str, both: str,
                 extra: tuple[set[str], set[str]]) -> tuple[float, tuple[float, float]]:
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
            while k < len(chunk) and chunk[i:k + 1] in text:
                k += 1
            share = 1.0 if (k - i > 2 or len(chunk) == 2 or _is_kanji(chunk[i:k])) else 0.5
            credit += share * sum(weights[i:k - 1])
            i = k - 1
        else:
            if grams[i] in extra:
                credit += 0.9 * weights[i]
            i += 1
    return credit


def _is_kanji(s: str) -> bool:
    """Two kanji together are almost always a word (相談 in 相談先), unlike two kana."""
    return all("\u4e00" <= c <= "\u9fff" for c in s)


def title_similarity(query: Query, doc: Doc) -> float:
    """rapidfuzz partial_ratio of the question against the title, by surface and by reading."""
    if not doc.title_f or not query.core_f:
        return 0.0
    best = max(
        fuzz.partial_ratio(query.core_f, doc.title_f),
        fuzz.partial_ratio(query.core_r, doc.title_r) if query.core_r and doc.title_r else 0,
    ) / 100.0
    shortest = min(len(doc.title_f), len(query.core_f))
    return best * min(1.0, shortest / 4)


def title_precision(query: Query, doc: Doc, index: Index, stopwords: frozenset[str], drop: list[str],
                    light: frozenset[str] = frozenset()) -> float:
    """Share of the title's own content (IDF-weighted bigrams) that the question holds.

    Coverage asks how much of the question a record answers; this asks the reverse. Of
    風しんについて and 風しん抗体検査について, both cover the question 風しん; only the first says
    nothing the parent did not ask, so it is the better answer to a question about 風しん.
    The title's chunks are cut once per record, on first use.
    """
    if doc.title_chunks is None:  # the record belongs to this index, so its IDFs hold with it
        doc.title_chunks = [(_weighed(index, f), _weighed(index, r) if len(f) > 1 else None, factor)
                            for f, r, _l, factor in make_query(doc.title, stopwords, {}, drop, light).chunks]
    total = found = 0.0
    for by_f, by_r, factor in doc.title_chunks:
        share = _share(by_f, query.core_f, query.expanded_f)
        if by_r is not None:
            share = max(share, 0.95 * _share(by_r, query.core_r, query.expanded_r))
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


def _synonyms_in(synonyms: dict[str, Synonym], core_f: str, core_r: str):
    """The dictionary terms in the question, found through their first two characters (a few
    dozen lookups instead of a test of every one of thousands of terms)."""
    starts = synonyms.starts if isinstance(synonyms, Synonyms) else Synonyms(synonyms).starts
    seen = set()
    for text, by_reading in ((core_f, False), (core_r, True)):
        for i in range(len(text) - 1):
            for term in starts.get((by_reading, text[i:i + 2]), ()):
                syn = synonyms[term]
                key = syn.term_r if by_reading else term
                if term not in seen and text.startswith(key, i):
                    seen.add(term)
                    yield term, syn


PHRASE_SKIP = 2  # content words a phrase's words may have between them in the question
SENTENCE_END = frozenset("。！？!?")


def _phrases_in(synonyms: Synonyms, words: list[tuple[str, str, str, int]]):
    """Dictionary phrases whose content words the question holds in order, within one sentence
    and at most ``PHRASE_SKIP`` words apart: 病気の子を預 is found in 病気の子どもを施設で預かって,
    実家で産 in 実家の近くで産む. Yields each phrase with the question words it matched."""
    for start, (surface, _l, _r, _s) in enumerate(words):
        for term in synonyms.phrases.get(surface[:1], ()):
            matched = _match_parts(synonyms[term].parts, words, start)
            if matched:
                yield term, synonyms[term], matched


def _match_parts(parts, words, start: int) -> list[int] | None:
    matched, i = [], start
    for k, (p_surface, p_lemma) in enumerate(parts):
        limit = i + 1 if k == 0 else min(len(words), i + 1 + PHRASE_SKIP)
        while i < limit and not _same_word(words[i], p_surface, p_lemma):
            i += 1
        if i >= limit or words[i][3] != words[start][3]:
            return None
        matched.append(i)
        i += 1
    return matched


def _same_word(word: tuple[str, str, str, int], p_surface: str, p_lemma: str) -> bool:
    """A question word meets a phrase word written shorter (預 meets 預かって, 子 meets 子ども)
    or in another form of the same word (産む meets 産んで by its lemma)."""
    surface, lemma = word[0], word[1]
    return surface.startswith(p_surface) or lemma.startswith(p_lemma)


def _content_words(text: str) -> list[tuple[str, str, str, int]]:
    """(surface, lemma, reading folds, sentence number) of the question's content words."""
    out, sentence = [], 0
    for tok in _words(text):
        if tok is None:
            continue
        if tok.surface in SENTENCE_END:
            sentence += 1
        elif tok.pos not in FUNCTION_POS and tok.pos != "補助記号" and fold(tok.surface):
            out.append((fold(tok.surface), fold(tok.lemma), tok.reading, sentence))
    return out


def _words(text: str):
    """The morphemes of each space-separated part, with ``None`` between parts: terse search
    words (就学援助 申請) are separate words, never one run."""
    for i, part in enumerate(text.split()):
        if i:
            yield None
        yield from tokens(part)


def make_query(text: str, stopwords: frozenset[str], synonyms: dict[str, Synonym], drop: list[str],
               light: frozenset[str] = frozenset()) -> Query:
    """Fold the question, drop question phrases (いつ, 教えて …), cut it into content chunks.

    ``light`` words (自分, 場合, 確認) frame a question without naming its subject: like an
    adverb, each is a run of its own at ``VERB_WEIGHT``.
    """
    core = text
    for phrase in drop:
        core = core.replace(phrase, " ")
    chunks: list[tuple[str, str, str, float]] = []
    run_f, run_r, run_l, named = "", "", "", False
    for tok in _words(core):
        surface = fold(tok.surface) if tok is not None else ""
        stop = tok is None or tok.pos in FUNCTION_POS or not surface or surface in stopwords or fold(tok.lemma) in stopwords
        alone = tok is not None and (tok.pos in ALONE_POS or fold(tok.lemma) in light or surface in light)
        if stop or alone:
            if run_f:
                chunks.append((run_f, run_r, run_l, 1.0 if named else VERB_WEIGHT))
            run_f, run_r, run_l, named = "", "", "", False
            if stop:
                continue
        named = named or tok.pos not in PREDICATE_POS | NEUTRAL_POS
        run_f += surface
        run_r += tok.reading
        lemma = fold(tok.lemma)
        # a verb by its stem: 受け取る meets the noun 受け取り, 遊ぶ meets 遊び
        run_l += lemma[:-1] if tok.pos == "動詞" and len(lemma) >= 3 else lemma
        if alone:
            chunks.append((run_f, run_r, run_l, VERB_WEIGHT))
            run_f, run_r, run_l, named = "", "", "", False
    if run_f:
        chunks.append((run_f, run_r, run_l, 1.0 if named else VERB_WEIGHT))
    core_f = fold(core)
    core_r = reading(core)
    expansions: dict[tuple[str, str], None] = {}  # (fold, reading) of the groups' members, in order, once
    hits = []
    for term, syn in _synonyms_in(synonyms, core_f, core_r):
        expansions.update(dict.fromkeys(zip(syn.members_f, syn.members_r)))
        hits.append((term, syn.term_r, syn.members_f, syn.members_r))
    if isinstance(synonyms, Synonyms) and synonyms:
        words = _content_words(text)
        found = {h[0] for h in hits}
        # a word by its dictionary form: 受け取った meets the term 受け取る
        by_lemma = [(w[1], synonyms[w[1]], [i]) for i, w in enumerate(words) if w[1] != w[0] and w[1] in synonyms]
        for term, syn, matched in by_lemma + list(_phrases_in(synonyms, words)):
            if term in found:
                continue
            found.add(term)
            expansions.update(dict.fromkeys(zip(syn.members_f, syn.members_r)))
            # the question's own words that the phrase stands for are the ones it covers
            hits += [(words[i][0], words[i][2], syn.members_f, syn.members_r) for i in matched]
    chunks = [c for c in chunks if len(c[0]) >= 2 or "\u4e00" <= c[0] <= "\u9fff"]
    return Query(text, core_f, core_r, chunks, list(expansions), hits)
