"""The records' sentence vectors, stored in the base keyed by a hash of the text (issue 18).

Each answerable record (program, activity, base, FAQ) is embedded twice as a passage: its
title, and its title with the start of its body (``BODY_START`` characters). A vector is stored
in ``vectors`` under ``knowledge.search.embed.text_key`` (the model's name, the kind and the text), so
only new or changed texts are embedded again: at import (``refresh``, which also drops the
vectors no record uses any more), after a staff write (the next index build embeds what is
missing and stores it) and never twice for one text of one model.

Vectors are derived data: writing them does not bump ``meta.version`` (the index that asked for
them is already of the current version), except after ``refresh`` stored more than an index
build embeds itself (``BUILD_EMBED_LIMIT``): indexes built meanwhile answered by words, and the
bump makes every process build its index again with the vectors. A read-only base embeds a few
missing texts in memory and answers by words when more are missing.
"""

from __future__ import annotations

import logging
import sqlite3
import time

import numpy as np
import sqlite_utils

from knowledge.search.embed import BATCH, Embedder, Progress, text_key
from knowledge.store import db as dbmod

log = logging.getLogger(__name__)

BODY_START = 120  # characters of the body embedded with the title (what the record is about)
# An index build embeds at most this many missing texts itself (a staff-written FAQ, a few
# events: seconds). More (a file imported and its vectors not yet made, e.g. an import stopped
# halfway) would hold a web worker's model, and so every parent's question, for minutes: the
# index answers by words until ``kb import`` stores them (``refresh``), which marks the base
# changed so every process builds its index again with them.
BUILD_EMBED_LIMIT = 200
CHUNK = 500  # keys per SELECT (SQLite's variable limit)
# Missing texts are embedded and stored this many at a time: progress is told after each part
# (seconds apart), and an import stopped halfway keeps the vectors it made (the next one makes
# only the rest).
EMBED_PART = BATCH * 16
STAGE = "vectors"  # the stage ``progress`` is told of


def doc_texts(doc) -> list[str]:
    """The passages of one record: its title, and its title with the start of its body."""
    title = (doc.title or "").strip()
    body = (doc.body or "").strip()[:BODY_START]
    return [title, f"{title}\n{body}" if body else title]


def load(db: sqlite_utils.Database, model: str, keys: list[str]) -> dict[str, np.ndarray]:
    """The stored vectors of ``keys`` for ``model``."""
    if not keys or "vectors" not in db.table_names():
        return {}
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), CHUNK):
        part = unique[i : i + CHUNK]
        rows = db.execute(
            f"SELECT key, dim, vec FROM vectors WHERE model = ? AND key IN ({','.join('?' * len(part))})",
            [model, *part],
        ).fetchall()
        for key, dim, blob in rows:
            v = np.frombuffer(blob, dtype=np.float32)
            if v.size == dim:
                found[key] = v
    return found


def store(db: sqlite_utils.Database, model: str, fresh: dict[str, np.ndarray]) -> bool:
    """Keep ``fresh`` vectors in the base; False (and nothing written) on a read-only or busy base."""
    if not fresh or "vectors" not in db.table_names():
        return False
    now = dbmod.now_iso()
    rows = [(k, model, int(v.size), np.asarray(v, dtype=np.float32).tobytes(), now) for k, v in fresh.items()]
    # A file base is written through a connection of its own: the asking one must not count as
    # a writer (``IndexCache`` makes a connection that wrote wait for every rebuild).
    row = db.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    target = sqlite_utils.Database(dbmod.connect(path, create=False)) if path and not db.conn.in_transaction else db
    try:
        if target is not db:
            target.execute(f"PRAGMA busy_timeout={int(dbmod.BUSY_TIMEOUT_S * 1000)}")
        with dbmod.writing(target):
            target.conn.executemany(
                "INSERT OR REPLACE INTO vectors(key, model, dim, vec, created_at) VALUES (?, ?, ?, ?, ?)", rows
            )
        return True
    except sqlite3.OperationalError as e:  # read-only media, a writer holding the lock too long
        log.info("record vectors kept in memory only (%s)", e)
        return False
    finally:
        if target is not db:
            target.close()


class TooManyMissing(Exception):
    """More texts lack a vector than the caller will embed now."""


def matrix(
    db: sqlite_utils.Database,
    docs: list,
    embedder: Embedder,
    write: bool = True,
    limit: int | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(vectors, owner of each vector as an index into ``docs``, texts embedded now): the stored
    vectors of every record, the missing ones embedded and (with ``write``) stored; more than
    ``limit`` missing raises ``TooManyMissing`` with nothing embedded. ``progress`` hears of the
    missing texts embedded (``STAGE``), when there are any."""
    texts, owners = [], []
    for d, doc in enumerate(docs):
        for t in dict.fromkeys(doc_texts(doc)):  # a record with no body: its title once
            texts.append(t)
            owners.append(d)
    keys = [text_key(embedder.name, "passage", t) for t in texts]
    have = load(db, embedder.name, keys)
    first = {}  # each missing key once (two records of one text share its vector), with its text
    for k, t in zip(keys, texts):
        if k not in have:
            first.setdefault(k, t)
    missing = list(first)
    if limit is not None and len(missing) > limit:
        raise TooManyMissing(f"{len(missing)} record texts have no {embedder.name} vector yet")
    if missing:
        started = time.perf_counter()
        if progress:
            progress(STAGE, 0, len(missing))
        for start in range(0, len(missing), EMBED_PART):
            part = missing[start : start + EMBED_PART]
            fresh = dict(zip(part, embedder.embed([first[k] for k in part], "passage")))
            have.update(fresh)
            if write:
                store(db, embedder.name, fresh)
            if progress:
                progress(STAGE, start + len(part), len(missing))
        log.info(
            "embedded %d record texts with %s in %.1f s", len(missing), embedder.name, time.perf_counter() - started
        )
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = have[k]
    return out, np.asarray(owners, dtype=np.int32), len(missing)


def refresh(db: sqlite_utils.Database, embedder: Embedder | None = None, progress: Progress | None = None) -> int:
    """After an import: embed and store the records' new or changed texts (``progress`` hears of
    them), and drop the vectors of this model no record uses any more. Returns how many texts
    were embedded."""
    from knowledge.search.documents import load_docs
    from knowledge.search.embed import get_embedder

    embedder = embedder or get_embedder()
    if not embedder.dim or "vectors" not in db.table_names():
        return 0
    docs = load_docs(db)
    _vecs, _owners, embedded = matrix(db, docs, embedder, progress=progress)
    if embedded > BUILD_EMBED_LIMIT:  # indexes built meanwhile answered by words: build them again
        try:
            with dbmod.writing(db):
                dbmod.bump_version(db)
        except sqlite3.OperationalError as e:
            log.info("could not mark the base changed after storing its vectors (%s)", e)
    used = {text_key(embedder.name, "passage", t) for doc in docs for t in doc_texts(doc)}
    stale = [
        k for (k,) in db.execute("SELECT key FROM vectors WHERE model = ?", [embedder.name]).fetchall() if k not in used
    ]
    if stale:
        try:
            with dbmod.writing(db):
                for i in range(0, len(stale), CHUNK):
                    part = stale[i : i + CHUNK]
                    db.execute(f"DELETE FROM vectors WHERE key IN ({','.join('?' * len(part))})", part)
        except sqlite3.OperationalError as e:
            log.info("stale record vectors kept (%s)", e)
    return embedded
