"""The base's tables: the one place that knows them, as sqlite-utils ``Migrations``.

Each migration is applied once, in order, the first time a version of the bot that has it
opens a base (``knowledge.store.db.open_db``), so an old base file is upgraded in place. A
migration is never edited once released: a change to the tables is a new one at the end.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("kosodate")


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
    db["synonyms"].create({"term": str, "canonical": str, "source": str}, pk=("term", "canonical"))
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
    from ``ages`` (対象者) once, at import (``knowledge.lang.audience.age_columns``); rows already in
    the base are read here. ``status`` is 'cancelled' (状態 中止) or 'postponed' (延期), else
    NULL. Occurrences are found by date, activities by area and kind.
    """
    from knowledge.lang.audience import age_columns  # the reader of this version, for existing rows

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
    """The weekly digest's ledger (``knowledge.parents.digest``): exactly one delivery per user a week.

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
    """The records' sentence vectors (``knowledge.search.vectors``), keyed by a hash of the model, the
    kind (query or passage) and the text: only new or changed texts are embedded again."""
    db["vectors"].create(
        {"key": str, "model": str, "dim": int, "vec": bytes, "created_at": str},
        pk="key",
    )
    db["vectors"].create_index(["model"], if_not_exists=True)


@migrations()
def m013_applying(db: sqlite_utils.Database) -> None:
    """What the standard events layout says about applying, kept beside ``how_to_apply`` (参加申込方法)
    and ``capacity`` (定員 with 定員備考) of m008: when applications open (申込開始日, 申込開始時刻)
    and close (参加申込終了日, 参加申込終了時間), each a date as YYYY-MM-DD or the text the city
    wrote, and where to apply online (申込URL).

    Staff events wrote their 定員 and 申込 into the description as lines of their own (``定員：…``,
    ``申込：…``) because no reply showed those fields; replies show them now, so those lines leave
    the descriptions of staff events that hold the fields themselves.
    """
    activities = db["activities"]
    for column in ("apply_start", "apply_start_time", "apply_end", "apply_end_time", "apply_url"):
        if column not in activities.columns_dict:
            activities.add_column(column, str)
    rows = db.query(
        "SELECT id, description FROM activities WHERE source = 'staff' AND description IS NOT NULL "
        "AND (capacity IS NOT NULL OR how_to_apply IS NOT NULL)"
    )
    for row in list(rows):
        kept = "\n".join(line for line in row["description"].splitlines() if not line.startswith(("定員：", "申込：")))
        if kept != row["description"]:
            db.execute("UPDATE activities SET description = ? WHERE id = ?", [kept or None, row["id"]])


@migrations()
def m014_pending(db: sqlite_utils.Database) -> None:
    """Channel events taken off the queue and not yet worked (``knowledge.store.pending``), who
    works each chat now (``chat_leases``), and when a parent last unfollowed (``unfollows``: a keyed
    hash of the user id and LINE's time of the event, nothing else)."""
    db["pending_events"].create(
        {"channel": str, "event_id": str, "chat": str, "ts": int, "payload": str, "staged_at": str},
        pk=("channel", "event_id"),
    )
    db["pending_events"].create_index(["channel", "chat", "ts"], if_not_exists=True)
    db["chat_leases"].create({"channel": str, "chat": str, "holder": str, "until": float}, pk=("channel", "chat"))
    db["unfollows"].create({"key": str, "at_ms": int, "recorded_at": str}, pk="key")
