"""Open a knowledge base and keep its schema: the one place that knows the tables.

Tables are created and evolved with sqlite-utils' ``Migrations``, so an old base file is
upgraded in place when a newer version of the bot opens it. Every writer bumps the
``meta.version`` counter in the same transaction as its change; the in-memory search index
compares that counter to know when to rebuild (see ``knowledge.index``).

Concurrency model: the base is in WAL mode, so any number of readers (gunicorn's workers and
threads, the CLI) read a consistent snapshot while one writer writes. There is one writer at
a time: every write goes through ``writing()``, which takes the write lock at ``BEGIN
IMMEDIATE`` and waits for it up to ``BUSY_TIMEOUT_S`` (SQLite's busy timeout) instead of
failing. A write that still cannot be made fails alone: a parent's question is answered
whether or not its log row could be written (see ``knowledge.unanswered``).
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
from datetime import datetime, timezone

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("kosodate")
logger = logging.getLogger(__name__)
BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another's lock before giving up


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["areas"].create(
        {
            "name": str,  # full name: 堺市美原区, or the city itself: 堺市
            "city": str,
            "ward": str,  # None for a city-wide area
            "code": str,  # 全国地方公共団体コード with check digit
            "contact": str,  # where a parent should ask when the bot does not know
        },
        pk="name",
    )
    db["sources"].create(
        {
            "name": str,  # file name, or a stable label
            "kind": str,  # sheet, plan, evaluation, events, facilities, faq, faq_opendata, ...
            "area": str,
            "fiscal_year": int,
            "credit": str,  # attribution a licence asks for (CC BY)
            "sha256": str,
            "rows": int,
            "imported_at": str,
        },
        pk="name",
    )
    db["programs"].create(
        {
            "id": str,
            "title": str,
            "area": str,
            "fiscal_year": int,
            "kind": str,  # key_initiative, plan, related, base_program
            "purpose": str,
            "situation": str,
            "content": str,
            "operator": str,
            "departments": str,  # JSON list
            "plan_policy": str,  # 施策 3-(1) ...
            "sdg_goal": str,
            "goals": str,
            "results": str,
            "issues": str,
            "next_goals": str,
            "parent_id": str,  # a related program points at the plan that lists it
            "source": str,
        },
        pk="id",
        foreign_keys=[("area", "areas", "name")],
    )
    db["schedule_items"].create(
        {
            "id": str,
            "program_id": str,
            "period": str,  # 前期 / 中期 / 後期 / 次年度以降
            "period_end_month": int,
            "position": int,
            "text": str,
            "months": str,  # JSON list of "YYYY-MM" resolved in the fiscal year
            "status": str,  # planned / done
            "source": str,
        },
        pk="id",
        foreign_keys=[("program_id", "programs", "id")],
    )
    db["progress"].create(
        {
            "id": str,
            "program_id": str,
            "period": str,  # may be empty: a progress note not tied to a period
            "text": str,
            "posted_by": str,
            "posted_at": str,
            "origin": str,  # import / slack
            "source": str,  # the imported file, for an imported entry
        },
        pk="id",
        foreign_keys=[("program_id", "programs", "id")],
    )
    db["bases"].create(
        {
            "id": str,
            "name": str,
            "kind": str,  # 地域子育て支援拠点, サテライト, 区役所, 保育所 ...
            "area": str,
            "operator": str,
            "address": str,
            "lat": float,
            "lon": float,
            "phone": str,
            "hours": str,
            "ages": str,
            "url": str,
            "description": str,
            "program_id": str,
            "source": str,
        },
        pk="id",
    )
    db["activities"].create(
        {
            "id": str,
            "title": str,
            "kind": str,  # event (parents can join) or activity (work of the ward/base)
            "area": str,
            "base_id": str,
            "program_id": str,
            "description": str,
            "audience": str,  # JSON list of audience tags
            "ages": str,  # as stated: 年中～小3, 1歳～2歳0か月
            "frequency": str,  # as stated: 本拠点12回, 年間各2～10回
            "place": str,
            "fee": str,
            "contact": str,
            "url": str,
            "recurrence": str,  # RRULE (RFC 5545) for recurring events, expanded on demand
            "recurrence_start": str,
            "recurrence_until": str,
            "start_time": str,
            "end_time": str,
            "sample": int,  # 1 for shipped demo data
            "source": str,
        },
        pk="id",
    )
    db["occurrences"].create(
        {
            "id": str,
            "activity_id": str,
            "date": str,  # YYYY-MM-DD (first of the month when precision is month)
            "precision": str,  # day / month
            "start_time": str,
            "end_time": str,
            "source": str,
        },
        pk="id",
        foreign_keys=[("activity_id", "activities", "id")],
    )
    db["faqs"].create(
        {
            "id": str,
            "faq_id": str,  # the ID in the publisher's file, shown as the answer's id
            "question": str,
            "answer": str,
            "area": str,  # None: serves every area
            "category": str,
            "category2": str,
            "service_name": str,
            "department": str,
            "source": str,
        },
        pk="id",
    )
    db["synonyms"].create(
        {"term": str, "canonical": str, "source": str}, pk=("term", "canonical")
    )
    db["unanswered"].create(
        {"id": int, "text": str, "area": str, "asked_at": str, "best_score": float},
        pk="id",
    )
    for table, cols in {
        "schedule_items": ["program_id"],
        "progress": ["program_id"],
        "occurrences": ["activity_id"],
        "activities": ["area"],
        "bases": ["area"],
        "programs": ["area"],
        "faqs": ["area"],
    }.items():
        db[table].create_index(cols, if_not_exists=True)


@migrations()
def m002_placeholders(db: sqlite_utils.Database) -> None:
    """Values staff set for FAQ template placeholders, per area ('' : every area)."""
    db["placeholders"].create(
        {"area": str, "placeholder": str, "value": str, "source": str, "updated_at": str},
        pk=("area", "placeholder"),
        not_null={"area", "placeholder", "value"},
        defaults={"area": ""},
    )


@migrations()
def m003_source_identity(db: sqlite_utils.Database) -> None:
    """Sources are identified by kind, area and name, not by the file's base name alone.

    ``sources`` gets the primary key ``id`` = ``kind:area:name`` (``knowledge.importers.source_id``;
    written out here so this migration stays what it was when the formula moves on) and a
    ``label`` column; ``name`` stays the file name. Every record whose ``source`` named a file
    now names that identity, so a re-import after the upgrade updates the same rows. Values that
    name no imported file ('shipped', 'cli') are left as they are. FAQ rows get the key
    ``source#faq_id``, their public ``faq_id`` unchanged.
    """
    identity = "s.kind || ':' || coalesce(s.area, '') || ':' || s.name"
    db["sources_v3"].create(
        {
            "id": str,  # kind:area:name, or kind:area:label
            "name": str,  # the file's name
            "label": str,  # the deployer's label for the source, when given
            "kind": str,
            "area": str,
            "fiscal_year": int,
            "credit": str,
            "sha256": str,
            "rows": int,
            "imported_at": str,
        },
        pk="id",
    )
    db.execute(
        "INSERT INTO sources_v3 (id, name, label, kind, area, fiscal_year, credit, sha256, rows, imported_at) "
        f"SELECT {identity}, name, NULL, kind, area, fiscal_year, credit, sha256, rows, imported_at FROM sources AS s"
    )
    for table in db.table_names():
        if table in ("sources", "sources_v3") or "source" not in db[table].columns_dict:
            continue
        db.execute(
            f"UPDATE [{table}] SET source = (SELECT {identity} FROM sources AS s WHERE s.name = [{table}].source) "
            f"WHERE source IN (SELECT name FROM sources)"
        )
    # FAQs were keyed by the publisher's bare ID (or area:ID): the key becomes source#faq_id
    # (``knowledge.importers.faq_key``), and our own layout's id moves into faq_id.
    db.execute(
        "UPDATE faqs SET faq_id = coalesce(faq_id, id), id = source || '#' || coalesce(faq_id, id) "
        "WHERE source IN (SELECT id FROM sources_v3)"
    )
    db["sources"].drop()
    db.execute("ALTER TABLE sources_v3 RENAME TO sources")


class BaseMissing(FileNotFoundError):
    """The base file does not exist and the caller may not create it (the web process)."""


class Connection(sqlite3.Connection):
    """sqlite3's connection, knowing the newest knowledge version it wrote itself
    (``bump_version``): a question on it must see that write, while the unanswered log or an
    inbox row it wrote do not change what the index holds (``knowledge.index.IndexCache``)."""

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
        return sqlite3.connect(f"{uri}?mode={'rwc' if create else 'rw'}", uri=True, timeout=BUSY_TIMEOUT_S,
                               factory=Connection)
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
    from knowledge.reference import load_reference_data, reference_outdated  # avoid an import cycle

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
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


@migrations()
def m004_unanswered_asker(db: sqlite_utils.Database) -> None:
    """Who asked (a short hash, for the per-asker rate limit) and indexes for the retention purge."""
    db["unanswered"].add_column("asker", str)
    db["unanswered"].create_index(["asked_at"], if_not_exists=True)
    db["unanswered"].create_index(["asker", "asked_at"], if_not_exists=True)


@migrations()
def m005_listings(db: sqlite_utils.Database) -> None:
    """What a listing needs: who an activity is for as age ranges, its status, and indexes.

    ``age_min_months`` / ``age_max_months`` (either may be open) and ``for_pregnancy`` are read
    from ``ages`` (対象者) once, at import (``knowledge.audience.age_columns``); rows already in
    the base are read here. ``status`` is 'cancelled' (状態 中止) or 'postponed' (延期), else
    NULL. Occurrences are found by date, activities by area and kind.
    """
    from knowledge.audience import age_columns  # the reader of this version, for existing rows

    activities = db["activities"]
    for column, kind in (("age_min_months", int), ("age_max_months", int), ("for_pregnancy", int), ("status", str)):
        if column not in activities.columns_dict:
            activities.add_column(column, kind)
    for row in list(db.query("SELECT id, ages FROM activities WHERE ages IS NOT NULL AND ages != ''")):
        cols = age_columns(row["ages"])
        db.execute(
            "UPDATE activities SET age_min_months = ?, age_max_months = ?, for_pregnancy = ? WHERE id = ?",
            [cols["age_min_months"], cols["age_max_months"], cols["for_pregnancy"], row["id"]],
        )
    db["occurrences"].create_index(["date", "activity_id"], if_not_exists=True)
    activities.create_index(["area", "kind"], if_not_exists=True)


@migrations()
def m006_source_folder(db: sqlite_utils.Database) -> None:
    """The folder a source was read from: the same name from another folder is another file."""
    db["sources"].add_column("folder", str)


@migrations()
def m007_parents(db: sqlite_utils.Database) -> None:
    """What a channel keeps of a parent, the events it has received, and anonymous counts.

    ``parents``: one row per followed LINE user (the user id is the only identifier kept),
    deleted when they unfollow. ``inbox``: each received webhook event's id, so a redelivered
    event is never applied twice. ``counts``: anonymous totals (follows, unfollows) that
    outlive the rows they count.
    """
    db["parents"].create(
        {
            "user_id": str,
            "area": str,  # the ward chosen at setup; None until chosen
            "child_month": str,  # YYYY-MM: the child's birth month, or the due month
            "child_due": int,  # 1 when child_month is a due month (pregnancy)
            "child_asked": int,  # 1 once the parent answered or skipped the child question
            "digest_off": int,  # 1 after 配信停止
            "step": str,  # what setup waits for: area, city:<city>, child; None when done
            "followed_at": str,
            "updated_at": str,
        },
        pk="user_id",
    )
    db["inbox"].create(
        {"channel": str, "event_id": str, "kind": str, "received_at": str, "status": str, "detail": str},
        pk=("channel", "event_id"),
    )
    db["inbox"].create_index(["received_at"], if_not_exists=True)
    db["counts"].create({"name": str, "count": int}, pk="name")


@migrations()
def m008_staff(db: sqlite_utils.Database) -> None:
    """What staff writes from Slack need: the audit log, and the fields their records carry.

    ``audit``: one row per staff write (who, when, what, the record before and after, as JSON),
    written in the same transaction as the write. ``unanswered.resolved_faq``: the FAQ staff
    wrote for a declined question, so the question leaves the list of those still open.
    ``activities.capacity`` / ``how_to_apply``: what a staff-made event states besides the
    open-data columns.
    """
    db["audit"].create(
        {
            "id": int,
            "at": str,  # UTC, ISO 8601, seconds
            "actor": str,  # slack:U0123
            "area": str,
            "action": str,  # progress.add, faq.add, event.add, event.edit, event.cancel
            "target": str,  # table:id
            "before": str,  # JSON, None for a new record
            "after": str,  # JSON
        },
        pk="id",
    )
    db["audit"].create_index(["area", "at"], if_not_exists=True)
    db["unanswered"].add_column("resolved_faq", str)
    db["activities"].add_column("capacity", str)
    db["activities"].add_column("how_to_apply", str)


@migrations()
def m009_digest(db: sqlite_utils.Database) -> None:
    """The weekly digest's ledger (``knowledge.digest``): exactly one delivery per user a week.

    ``digest_contents``: each distinct digest of a week as the channel rendered it, so a retried
    call sends the same payload. ``digest_batches``: one call each, with the retry key stored
    before the call is made, its state (sending / sent / failed) and LINE's answer.
    ``digest_deliveries``: per (week, user) the state and the batch and key that carried it.
    ``digest_lock``: the one run allowed at a time, and who holds it.
    """
    db["digest_contents"].create(
        {"week": str, "content_id": str, "payload": str, "created_at": str},
        pk=("week", "content_id"),
    )
    db["digest_batches"].create(
        {
            "batch_id": str,
            "week": str,  # YYYY-MM-DD: the week's first day
            "content_id": str,
            "retry_key": str,  # a UUID, sent as X-Line-Retry-Key on every attempt of this batch
            "recipients": int,
            "state": str,  # sending / sent / failed
            "attempts": int,
            "http_status": int,  # the last answer's status (409: an earlier attempt was accepted)
            "request_id": str,  # LINE's X-Line-Request-Id (or the accepted one for a 409)
            "detail": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="batch_id",
    )
    db["digest_batches"].create_index(["retry_key"], unique=True, if_not_exists=True)
    db["digest_batches"].create_index(["week", "state"], if_not_exists=True)
    db["digest_deliveries"].create(
        {"week": str, "user_id": str, "batch_id": str, "retry_key": str, "state": str, "updated_at": str},
        pk=("week", "user_id"),
    )
    db["digest_deliveries"].create_index(["batch_id"], if_not_exists=True)
    db["digest_deliveries"].create_index(["user_id"], if_not_exists=True)
    db["digest_lock"].create(
        {"name": str, "run_id": str, "host": str, "pid": int, "week": str, "started_at": str, "heartbeat_at": str},
        pk="name",
    )


@migrations()
def m012_vectors(db: sqlite_utils.Database) -> None:
    """The records' sentence vectors (``knowledge.vectors``), keyed by a hash of the model, the
    kind (query or passage) and the text: only new or changed texts are embedded again."""
    db["vectors"].create(
        {"key": str, "model": str, "dim": int, "vec": bytes, "created_at": str},
        pk="key",
    )
    db["vectors"].create_index(["model"], if_not_exists=True)
