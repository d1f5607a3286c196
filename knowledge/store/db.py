"""Connections to a knowledge base and its write transaction.

Opening a base brings its schema up to date (``knowledge.store.schema``'s migrations), so an
old base file is upgraded in place when a newer version of the bot opens it. Every writer bumps the
``meta.version`` counter in the same transaction as its change; the in-memory search index
compares that counter to know when to rebuild (see ``knowledge.search.index``).

Concurrency model: the base is in WAL mode, so any number of readers (gunicorn's workers and
threads, the CLI) read a consistent snapshot while one writer writes. There is one writer at
a time: every write goes through ``writing()``, which takes the write lock at ``BEGIN
IMMEDIATE`` and waits for it up to ``BUSY_TIMEOUT_S`` (SQLite's busy timeout) instead of
failing. A write that still cannot be made fails alone: a parent's question is answered
whether or not its log row could be written (see ``knowledge.store.unanswered``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pathlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime

import sqlite_utils

from knowledge.store.schema import migrations

logger = logging.getLogger(__name__)
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another's lock before giving up


class BaseMissing(FileNotFoundError):
    """The base file does not exist and the caller may not create it (the web process)."""


class Connection(sqlite3.Connection):
    """sqlite3's connection, knowing the newest knowledge version it wrote itself
    (``bump_version``): a question on it must see that write, while the unanswered log or an
    inbox row it wrote do not change what the index holds (``knowledge.search.index.IndexCache``)."""

    wrote_version = 0


def connect(path: str | pathlib.Path, *, create: bool = True) -> sqlite3.Connection:
    """A connection that waits up to ``BUSY_TIMEOUT_S`` for another writer's lock.

    Without ``create`` the file must exist: a mistyped path or an unmounted volume is an error,
    not a new empty base; a file that cannot be opened for writing is opened read-only. (A base
    in WAL mode on read-only media also needs its ``-shm`` file; ``kb init`` leaves a base in the
    rollback-journal mode, which needs nothing beside it, until a writer first opens it.)
    """
    path = pathlib.Path(path)
    if not create and not path.is_file():
        raise BaseMissing(f"no knowledge base at {path}")
    uri = path.resolve().as_uri()
    try:
        return sqlite3.connect(
            f"{uri}?mode={'rwc' if create else 'rw'}", uri=True, timeout=BUSY_TIMEOUT_S, factory=Connection
        )
    except sqlite3.OperationalError:
        if create:
            raise
        # read-only media: answer from it (its writes fail alone, see ``writing``'s callers)
        return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S, factory=Connection)


def open_db(path_or_conn: str | pathlib.Path | sqlite3.Connection, *, create: bool = True) -> sqlite_utils.Database:
    """Open a knowledge base and bring its schema up to date (creating the file only if
    ``create``).

    A connection belongs to one thread (sqlite3's default); callers open one per request or
    per thread rather than sharing a global. See the module docstring for the concurrency model.
    """
    if isinstance(path_or_conn, (str, pathlib.Path)) and str(path_or_conn) != ":memory:":
        db = sqlite_utils.Database(connect(path_or_conn, create=create))
    else:
        db = sqlite_utils.Database(path_or_conn)
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    db.execute("PRAGMA foreign_keys=ON")
    if not db.memory and _journal_mode(db) != "wal":
        try:
            db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            pass  # read-only media: stay in the default journal mode
    if not db.memory and _journal_mode(db) == "wal":
        # In WAL mode NORMAL cannot corrupt the base; a power cut may lose the last commits
        # (at worst an event id, so a redelivered event is answered again). FULL syncs every
        # commit, which made each webhook's event-id write the web process's bottleneck.
        db.execute("PRAGMA synchronous=NORMAL")
    if migrations.pending(db):
        try:
            with writing(db):
                if migrations.pending(db):  # another process may have migrated meanwhile
                    migrations.apply(db)
        except sqlite3.OperationalError as e:
            if not _read_only(e):
                raise
            logger.warning("the base is read-only and its schema is older than this version's: %s", e)
    from knowledge.lang.reference import load_reference_data, reference_outdated  # avoid an import cycle

    if not reference_outdated(db):
        return db  # the usual case: a read, no transaction
    try:
        with writing(db):
            if load_reference_data(db):
                bump_version(db)
    except sqlite3.OperationalError as e:
        if not _read_only(e):
            raise
        logger.info("the base is read-only: it keeps the dictionary it was built with")
    return db


KEPT_PER_THREAD = 4  # bases a thread keeps open (a deploy has one; tests open many, one after another)
_threads = threading.local()


def thread_db(path: str | pathlib.Path) -> sqlite_utils.Database:
    """This thread's connection to the base at ``path``, opened once and reused (``create=False``).

    Opening a connection per request costs more than answering (schema and dictionary checks,
    the WAL's shared memory): gunicorn's threads and the channels' event threads keep one each.
    A file swapped in at the path (a restored backup) is noticed by its inode and reopened; a
    connection is never left inside a transaction (``release``).
    """
    key = os.path.realpath(path)
    try:
        inode = os.stat(key).st_ino
    except FileNotFoundError:
        raise BaseMissing(f"no knowledge base at {path}") from None
    kept: OrderedDict = getattr(_threads, "kept", None) or OrderedDict()
    _threads.kept = kept
    entry = kept.pop(key, None)
    if entry is not None and entry[1] != inode:
        entry[0].close()
        entry = None
    if entry is None:
        entry = (open_db(path, create=False), inode)
    kept[key] = entry
    while len(kept) > KEPT_PER_THREAD:
        kept.popitem(last=False)[1][0].close()
    return entry[0]


def release(db: sqlite_utils.Database) -> None:
    """Hand a thread's connection back after a request: nothing left half-done in it."""
    if db.conn.in_transaction:
        db.rollback()


@contextlib.contextmanager
def held(path: str | pathlib.Path) -> Iterator[sqlite_utils.Database]:
    """The one way a unit of work holds the base: a web request, a LINE event, a Slack
    listener's call, a digest run. This thread's kept connection (``thread_db``), handed back
    with nothing left half-done (``release``) however the work ends."""
    db = thread_db(path)
    try:
        yield db
    finally:
        release(db)


def _journal_mode(db: sqlite_utils.Database) -> str:
    return str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower()


def _read_only(error: sqlite3.OperationalError) -> bool:
    return "readonly" in str(error) or "read-only" in str(error)


@contextlib.contextmanager
def busy_timeout(db: sqlite_utils.Database, seconds: float) -> Iterator[None]:
    """Wait at most ``seconds`` for the lock within the block (a write a request can do
    without), then the connection's own timeout again."""
    db.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")
    try:
        yield
    finally:
        db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")


@contextlib.contextmanager
def writing(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction that takes the write lock first (``BEGIN IMMEDIATE``).

    sqlite-utils' ``atomic()`` opens a deferred transaction: one that reads before it writes
    holds a snapshot, and in WAL mode its upgrade to a writer fails at once with "database is
    locked" when another writer committed meanwhile, instead of waiting. Taking the lock at
    ``BEGIN`` makes the busy timeout apply. Nested inside a transaction, it is a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    try:
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def bump_version(db: sqlite_utils.Database) -> None:
    """Mark the base as changed; call inside the writer's transaction."""
    db.execute(
        "INSERT INTO meta(key, value) VALUES ('version', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )
    if isinstance(db.conn, Connection):
        db.conn.wrote_version = version(db)


def wrote_newer(db: sqlite_utils.Database, than: int) -> bool:
    """Has this connection itself written knowledge newer than version ``than``? A connection
    not made by ``connect`` (in memory, a caller's own) counts any change it made."""
    if isinstance(db.conn, Connection):
        return db.conn.wrote_version > than
    return bool(db.conn.total_changes)


def version(db: sqlite_utils.Database) -> int:
    row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    return int(row[0]) if row else 0
