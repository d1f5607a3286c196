"""The in-memory index over every answerable record, and the cache that keeps one per base.

What is indexed: each program, activity, base and FAQ as a ``Doc`` (folded title and body, and
their folded katakana readings, so かな meets 漢字). Character bigrams of all four are TF-IDF
weighted (sublinear tf, smoothed idf, l2 norm; title bigrams count ``TITLE_WEIGHT`` times) and
kept as one CSR of flat numpy arrays, with a second CSR of the bigrams each title holds. Bigrams
find the one- and two-character terms (手当, 公園) that FTS5's trigram tokenizer cannot, and flat
arrays stay cheap at 100,000 records. The synonym dictionary and the area names a parent may
type are read with the records, so one index answers every question of one base version.

Why a cache: building takes about a second on the demo base and minutes at 200,000 records,
a question a few milliseconds. ``IndexCache`` keeps the built index per base and rebuilds it
when the base's ``meta.version`` changes (every writer bumps it in its transaction): for a file
base in a background thread while the old index keeps answering, so a write does not stall
the questions of every worker (see ``IndexCache`` for when a question waits instead).
"""

from __future__ import annotations

import functools
import logging
import math
import os
import threading
import time
import weakref
from array import array
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from knowledge.lang.text import FUNCTION_POS, fold, ngrams, parse, reading
from knowledge.search import embed
from knowledge.search.documents import Doc, load_docs
from knowledge.search.embed import DEFAULT_MEANING, Meaning, Progress
from knowledge.search.weights import TITLE_WEIGHT
from knowledge.store import db as dbmod
from knowledge.store.areas import mentions

log = logging.getLogger(__name__)


RECENT_ANSWERS = 2048  # answers kept per index: parents ask the same things (今週のイベント) again and again


class Recent:
    """The answers of one index, by (question, area, day, base version), the most recent kept.

    An answer depends on nothing else, so the same question asked again (a rich menu button
    tapped by a thousand parents) is not matched again. It lives on the index: a new version of
    the base brings a new index and a new, empty ``Recent``; the key's base version covers the
    writes made while the old index still serves. Safe across threads.
    """

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)


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
    synonyms: dict[str, Synonym] = field(default_factory=dict)  # folded term -> its group
    version: int = 0
    max_idf: float = 1.0
    areas: list[tuple[str, str]] = field(default_factory=list)  # areas.mentions(), read with the index
    char_idf: dict[str, float] = field(default_factory=dict)  # one character -> its IDF (日, 園)
    answers: Recent = field(default_factory=lambda: Recent(RECENT_ANSWERS), repr=False)  # see ``Recent``
    # The meaning stage (``knowledge.search.embed``, ``knowledge.search.vectors``): every record's passage
    # vectors as one matrix, the record each row belongs to, and the model that made them;
    # ``None`` when the matcher runs lexical only.
    vectors: np.ndarray | None = field(default=None, repr=False)
    vector_owner: np.ndarray | None = field(default=None, repr=False)
    embedder: object | None = field(default=None, repr=False)

    def meaning(self, question: str) -> np.ndarray | None:
        """Per record, the cosine of the question's vector and the nearest of the record's
        vectors; ``None`` without the meaning stage."""
        if self.vectors is None or self.embedder is None or not len(self.docs) or not question.strip():
            return None
        q = self.embedder.embed([question], "query")[0]
        sims = self.vectors @ q
        starts = self._vector_starts()
        if starts is not None:  # each record's rows side by side (as ``vectors.matrix`` makes them)
            return np.maximum.reduceat(sims, starts)
        best = np.full(len(self.docs), -1.0, dtype=np.float32)
        np.maximum.at(best, self.vector_owner, sims)  # any order: slower, same result
        return best

    def _vector_starts(self) -> np.ndarray | None:
        """Where each record's rows begin, when every record has rows and they run in record
        order; ``None`` otherwise. Made once per matrix."""
        owner = self.vector_owner
        cached = getattr(self, "_starts", None)
        if cached is not None and cached[0] is owner:
            return cached[1]
        starts = None
        if len(owner) and owner[0] == 0 and owner[-1] == len(self.docs) - 1:
            steps = np.diff(owner)
            if ((steps == 0) | (steps == 1)).all():
                starts = np.concatenate(([0], np.flatnonzero(steps) + 1))
        self._starts = (owner, starts)
        return starts

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


def doc_grams(doc: Doc) -> dict[str, float]:
    """Bigram counts of a record, title bigrams weighted above body bigrams."""
    counts: dict[str, float] = {}
    for text, weight in (
        (doc.title_f, TITLE_WEIGHT),
        (doc.title_r, TITLE_WEIGHT),
        (doc.body_f, 1.0),
        (doc.body_r, 1.0),
    ):
        for g in ngrams(text, 2):
            counts[g] = counts.get(g, 0.0) + weight
    return counts


def build_index(docs: list[Doc], synonyms: dict[str, Synonym] | None = None, version: int = 0) -> Index:
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
    canonicals: tuple[str, ...] = ()  # its groups' canonical names as written, when not the term itself


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
    return tuple(
        (fold(t.surface), fold(t.lemma))
        for t in parse(text)
        if t.pos not in FUNCTION_POS and t.pos != "補助記号" and fold(t.surface)
    )


def load_synonyms(db: sqlite_utils.Database) -> Synonyms:
    """Folded term -> its groups' other words (the canonical included), pre-read."""
    groups: dict[str, set[str]] = {}
    for row in db.query("SELECT term, canonical FROM synonyms"):
        groups.setdefault(row["canonical"], {row["canonical"]}).add(row["term"])
    members_of: dict[str, list[str]] = {}
    canonical_of: dict[str, list[str]] = {}
    written: dict[str, str] = {}  # folded term -> as written, to be cut into words
    for canonical, members in groups.items():
        for m in members:
            key = fold(m)
            if len(key) >= 2:
                written.setdefault(key, m)
                found = members_of.setdefault(key, [])
                found += [x for x in members if x != m and x not in found]
                if fold(canonical) != key and canonical not in canonical_of.setdefault(key, []):
                    canonical_of[key].append(canonical)
    return Synonyms(
        {
            key: Synonym(
                fold(reading(key)),
                tuple(ms),
                tuple(fold(m) for m in ms),
                tuple(reading(m) for m in ms),
                _content_parts(written[key]),
                tuple(canonical_of.get(key, ())),
            )
            for key, ms in members_of.items()
        }
    )


def build_for(
    db: sqlite_utils.Database, version: int, meaning: Meaning = DEFAULT_MEANING, progress: Progress | None = None
) -> Index:
    """Read every answerable record, the synonym dictionary and the area names of ``db``; with
    the meaning stage ``meaning`` asks for, the records' vectors too. ``progress`` hears of the
    records read and of the vectors made, if any."""
    started = time.perf_counter()
    index = build_index(load_docs(db, progress), load_synonyms(db), version)
    index.areas = mentions(db)
    _add_vectors(db, index, meaning, progress)
    log.info(
        "index built: %d records, version %d, in %.2f s%s",
        len(index.docs),
        version,
        time.perf_counter() - started,
        f", with {index.embedder.name} vectors" if index.embedder is not None else "",
    )
    return index


def _add_vectors(db: sqlite_utils.Database, index: Index, meaning: Meaning, progress: Progress | None = None) -> None:
    """The records' vectors as one matrix, when ``meaning`` names an embedder (stored ones read,
    missing ones embedded and stored); a failure leaves the index lexical only."""
    from knowledge.search import vectors

    embedder = embed.get_embedder(meaning)  # looked up at call time: tests put a fake in its place
    if not embedder.dim or not index.docs:
        return
    try:
        index.vectors, index.vector_owner, _ = vectors.matrix(
            db, index.docs, embedder, limit=vectors.BUILD_EMBED_LIMIT, progress=progress
        )
        index.embedder = embedder
    except vectors.TooManyMissing as e:
        log.warning("%s: this index answers by words only until `kosodate-bot kb import` stores them", e)
    except Exception:
        log.exception("the records' vectors could not be made; this index is lexical only")


class _Entry:
    """One base's index, and the lock that lets only one build of it run at a time."""

    def __init__(self) -> None:
        self.index: Index | None = None
        self.building = threading.Lock()  # held for the whole of a build, in a request or in the background
        self.rebuild: threading.Thread | None = None  # the background rebuild under way, if any

    def swap(self, index: Index) -> None:
        """Serve ``index`` from now on: it was built from the base's current version, which may
        be lower than the served one's (a backup restored in place); builds of one base are
        serialised, so the latest build is the base as it is."""
        self.index = index  # one reference assignment: a question sees the old index or the new


class IndexCache:
    """The built indexes of this process, one per base, and the one place that knows which
    base an index belongs to and when it is rebuilt.

    Which base: a file base is known by its real path and the file's identity on disk (device,
    inode), so two paths to one file share an index and a file swapped in at the same path does
    not inherit it. An in-memory base has no path: its index is held for as long as its
    ``Database`` object lives (a weak reference), never by ``id()``, which a closed connection
    hands on to the next one.

    When: an index is rebuilt when the base's ``meta.version`` changes. A rebuild takes about a
    second on the demo base and minutes at 200,000 records, so questions never wait for one
    when they need not: while a file base's new index is built in a background thread (with its
    own connection: sqlite3 connections belong to their thread), the old one keeps answering,
    and the new one is swapped in whole when done. One build of a base runs at a time in a
    process. A failed rebuild is logged with its traceback and tried again at the next question;
    the old index keeps answering meanwhile. A question waits for the build when

    - the base has no index yet in this process (the first question after start-up);
    - the base is in memory (no other connection can read it);
    - the asking connection has itself written newer knowledge than the index holds (it reads
      its own writes: a staff write followed by a question on the same connection sees the
      write; a declined question's log row is not knowledge, so a web thread's connection that
      logged one does not wait for every rebuild after it); or
    - the caller asks to wait: ``index_for(db, wait=True)``, or ``background = False`` for the
      whole process (a test or a script that writes on one connection and asks on another; a
      ``kosodate-bot`` command is a new process, so its first question builds anyway).
    """

    MAX_FILES = 16  # a process serves one base; tests and benches open many copies

    def __init__(self, background: bool = True) -> None:
        self.background = background
        self._files: OrderedDict[tuple, _Entry] = OrderedDict()
        self._memory: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()  # guards the two tables and each entry's ``rebuild``

    def get(
        self,
        db: sqlite_utils.Database,
        wait: bool = False,
        meaning: Meaning = DEFAULT_MEANING,
        progress: Progress | None = None,
    ) -> Index:
        """The index of this base built with ``meaning``'s stage, current or (see the class) the
        one being replaced; ``progress`` hears of a build made in this call."""
        key = base_key(db)
        current = dbmod.version(db)
        entry = self._entry(db, key, meaning)
        index = entry.index
        if index is not None and index.version == current:
            return index
        if (
            index is not None
            and key is not None
            and self.background
            and not wait
            and not dbmod.wrote_newer(db, index.version)
        ):
            self._rebuild_in_background(entry, key[0], meaning)
            return index
        with entry.building:  # waits for a build of this base under way, in a request or in the background
            current = dbmod.version(db)
            if entry.index is None or entry.index.version != current:
                told = {"progress": progress} if progress else {}  # as builds were called before it was told
                entry.swap(build_for(db, current, meaning, **told))
            return entry.index

    def _entry(self, db: sqlite_utils.Database, key: tuple | None, meaning: Meaning) -> _Entry:
        with self._lock:
            if key is None:
                return self._memory.setdefault(db, {}).setdefault(meaning, _Entry())
            key = (*key, meaning)
            entry = self._files.get(key)
            if entry is None:
                entry = self._files[key] = _Entry()
                while len(self._files) > self.MAX_FILES:
                    self._files.popitem(last=False)
            self._files.move_to_end(key)
            return entry

    def _rebuild_in_background(self, entry: _Entry, path: str, meaning: Meaning) -> None:
        with self._lock:
            if entry.rebuild is not None:
                return  # one rebuild at a time; it reads the newest version when it starts
            thread = entry.rebuild = threading.Thread(
                target=self._rebuild,
                args=(entry, path, meaning),
                daemon=True,
                name=f"index-rebuild {os.path.basename(path)}",
            )
        log.debug("base %s changed: rebuilding its index in the background", path)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had (interpreter shutting down): the old index answers
            log.exception("could not start the index rebuild of %s", path)
            with self._lock:
                entry.rebuild = None

    def _rebuild(self, entry: _Entry, path: str, meaning: Meaning) -> None:
        try:
            with entry.building:
                db = sqlite_utils.Database(dbmod.connect(path, create=False))
                try:
                    current = dbmod.version(db)
                    if entry.index is None or entry.index.version != current:
                        entry.swap(build_for(db, current, meaning))
                finally:
                    db.close()
        except Exception:
            old = entry.index.version if entry.index is not None else None
            log.exception(
                "rebuilding the index of %s failed; version %s keeps answering, retried at the next question", path, old
            )
        finally:
            with self._lock:
                entry.rebuild = None

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait for the background rebuilds under way; False if one is still running after ``timeout``."""
        with self._lock:
            entries = list(self._files.values()) + [e for kept in self._memory.values() for e in kept.values()]
            threads = [e.rebuild for e in entries if e.rebuild]
        for thread in threads:
            thread.join(timeout)
        return not any(t.is_alive() for t in threads)


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


def index_for(
    db: sqlite_utils.Database, wait: bool = False, meaning: Meaning = DEFAULT_MEANING, progress: Progress | None = None
) -> Index:
    """The index of this base with ``meaning``'s stage (the deploy's, ``Settings.meaning``); with
    ``wait``, the one of its current version, built now if need be (see ``IndexCache``), and
    ``progress`` told of that build."""
    return CACHE.get(db, wait, meaning, progress)
