"""One run of the weekly digest over LINE: plan, check the quota, send, record, report.

The order of a run, and why:

1. Take the digest lock (``knowledge.parents.digest.take_lock``): a second run at once stops there
   (``LOCKED``) and sends nothing.
2. Find what is due: first the batches an earlier run stored a key for but did not finish
   (``unfinished``: a crash, a kill, a batch given up), then the plan for every subscriber the
   ledger does not hold yet. An unfinished batch whose key is older than LINE keeps keys
   (``digest.KEY_TTL_S``) is not resent: it is marked uncertain and reported to staff, since
   LINE may have delivered it and would take the old key as new.
3. Read the month's quota and consumption. If the new recipients exceed what is left, send
   nothing and report the shortfall (``SHORT``). Unfinished batches do not make a run refuse:
   LINE may have accepted them already (their consumption is then counted, and the resend is a
   free 409); if not, LINE refuses a call over the limit whole, so nothing is sent beyond it.
   With ``allow_partial``, the unfinished batches that fit in what is left are resent, then as
   many parents as the rest allows in ``Subscriber.priority`` order (expecting parents,
   youngest children first, then parents without a child set; earliest followers first),
   leaving the rest for a later run: never more than what is left.
4. Send: each group's messages are rendered and stored once; each batch of ≤ 500 gets its key
   stored before its call; its outcome is recorded after. ``IN_FLIGHT`` calls run at once on
   worker threads (a batch backing off holds up no other); the ledger is written only on the
   run's own thread, which owns the connection. A failed batch does not stop the others.
5. Report: a summary to the log and to the staff's Slack channel.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date

import sqlite_utils
import urllib3
from linebot.v3.messaging import MessagingApi
from linebot.v3.messaging.exceptions import ApiException

from handlers.line import digest as line_digest
from handlers.line import push as line_push
from knowledge.parents import digest as digest_mod
from knowledge.parents.digest import Batch, Group

logger = logging.getLogger(__name__)

OK = 0  # everything due was sent, or had been sent
ERROR = 1  # the run could not start (no token, the quota could not be read)
LOCKED = 3  # another run holds the lock: this one sent nothing
SHORT = 4  # the quota does not cover what is due (nothing sent, or the rest left with --allow-partial)
FAILED = 5  # some batches failed after their retries (a rerun retries them with their keys)
IN_FLIGHT = 4  # calls at once: one batch backing off does not hold up the others
HEARTBEAT_S = 30.0  # how often a run tells the lock it is alive (see digest.LOCK_STALE_S)
RERUN_COMMAND = "kosodate-bot digest send --week {week}"  # what staff run to resume a week
QUOTA_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError)  # an answer, a time-out, no connection


@dataclass
class Summary:
    week: date
    due: int = 0  # recipients due in this run (unfinished batches and new ones)
    sent: int = 0  # recipients delivered by this run (409: delivered by an earlier attempt)
    already: int = 0  # recipients the ledger held as sent before this run
    skipped_empty: int = 0  # no events that week (and no note configured)
    opted_out: int = 0
    failed: int = 0  # recipients of batches given up
    uncertain: int = 0  # recipients of batches whose key expired unfinished: not resent, told to staff
    unknown_area: int = 0  # parents whose ward the base no longer knows: told to staff
    left: int = 0  # recipients not sent for lack of quota (--allow-partial)
    messages_used: int = 0  # counted against the quota by this run's accepted calls
    quota_left: int | None = None  # after the run; None: no monthly limit
    shortfall: int = 0
    groups: int = 0
    calls: int = 0  # batches sent (each one call, retries aside)
    code: int = OK
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """The staff's summary, in Japanese."""
        left = "上限なし" if self.quota_left is None else f"{self.quota_left:,}通"
        lines = [
            f"週1回のお知らせ（{digest_mod.period(self.week)}）：送信 {self.sent:,}人／送信済み {self.already:,}人／"
            f"対象なし {self.skipped_empty:,}人／配信停止 {self.opted_out:,}人／失敗 {self.failed:,}人"
            + (f"／地区不明 {self.unknown_area:,}人" if self.unknown_area else "")
            + (f"／送信不明 {self.uncertain:,}人" if self.uncertain else "")
            + (f"／上限のため未送信 {self.left:,}人" if self.left else "")
            + f"。使用 {self.messages_used:,}通、今月の残り {left}。"
        ]
        return "\n".join(lines + self.notes)


def run(
    db: sqlite_utils.Database,
    api: MessagingApi | None,
    week: date,
    *,
    note: str | None = None,
    allow_partial: bool = False,
    notify: Callable[[str], None] | None = None,
    today: date | None = None,
) -> Summary:
    """Send the week's digest; see the module docstring. ``api`` None: the quota is not read
    and nothing is sent (the caller's dry run uses ``dry_plan`` instead). ``today`` is the
    parents' day on the deploy's clock (what the cards call 今週 or 来週; Japan's by default)."""
    summary = Summary(week)
    try:
        run_id = digest_mod.take_lock(db, week)
    except digest_mod.LockHeld as e:
        # Staff are told: a lock left by a clock killed on another host holds runs off until
        # it goes stale (digest.LOCK_STALE_S), and the week would otherwise go out silently late.
        logger.warning("digest for %s not sent by this run: %s", week, e)
        summary.code = LOCKED
        text = (
            f"週1回のお知らせ（{digest_mod.period(week)}）：別の配信処理が実行中のため、この処理では"
            f"送信しませんでした（{e}）。その処理が止まっている場合、ロックは{digest_mod.LOCK_STALE_S // 60}分で"
            f"解除されます。その後「{RERUN_COMMAND.format(week=week.isoformat())}」で再実行できます"
            f"（送信済みの人には送りません）。"
        )
        summary.notes.append(text)
        if notify:
            notify(text)
        return summary
    try:
        _run_locked(db, api, summary, run_id, note, allow_partial, today)
    finally:
        digest_mod.release_lock(db, run_id)
    if summary.code in (FAILED, SHORT) and (summary.failed or summary.left):
        summary.notes.append(
            f"残りを送るには「{RERUN_COMMAND.format(week=week.isoformat())}」を実行してください"
            "（送信済みの人には送りません）。"
        )
    logger.info("digest summary: %s", summary.text())
    if notify:
        notify(summary.text())
    return summary


def _run_locked(db, api, summary: Summary, run_id: str, note, allow_partial: bool, today: date | None) -> None:
    week = summary.week
    digest_mod.purge_forgotten(db, today)
    _expire(db, summary)
    pending = _pending(db, week)
    plan = digest_mod.plan(db, week, note=note, exclude=digest_mod.handled(db, week))
    summary.already = digest_mod.counts(db, week).get(digest_mod.SENT, 0)
    summary.skipped_empty, summary.opted_out, summary.groups = plan.skipped_empty, plan.opted_out, len(plan.groups)
    summary.unknown_area = plan.unknown_area
    if plan.unknown_area:
        summary.notes.append(
            f"登録された区が見つからない保護者が {plan.unknown_area:,}人います（区の名前の変更・削除）。"
            "この人たちには送っていません。"
        )
    waiting = sum(len(b.user_ids) for b in pending)
    summary.due = waiting + plan.recipients
    if not summary.due:
        summary.quota_left = _quota_left(api)
        return
    try:
        quota = line_push.quota(api)
    except QUOTA_ERRORS as e:
        logger.exception("could not read the message quota: nothing sent")
        summary.code = ERROR
        why = e.status if isinstance(e, ApiException) else type(e).__name__
        summary.notes.append(
            f"LINEの送信上限を確認できなかったため、送信しませんでした（{why}）。"
            f"「{RERUN_COMMAND.format(week=week.isoformat())}」で再実行できます。"
        )
        return
    groups = plan.groups
    if quota.left is not None and summary.due > quota.left:
        groups, pending = _short(summary, quota.left, groups, pending, waiting, allow_partial)
        if groups is None:
            return
    with _Sender(db, api, summary, run_id) as sender:
        for batch in pending:
            _send_stored(db, sender, batch)
        for group in groups:
            _send_group(db, sender, summary.week, group, today)
    if summary.failed and summary.code == OK:
        summary.code = FAILED
    summary.quota_left = _quota_left(api)


def _short(
    summary: Summary, left: int, groups: list[Group], pending: list[Batch], waiting: int, allow_partial: bool
) -> tuple[list[Group] | None, list[Batch]]:
    """What to send when what is due exceeds the month's rest; (None, []) to send nothing."""
    week, new = summary.week, summary.due - waiting
    if not allow_partial and new <= left:
        # Only the unfinished batches go beyond: LINE may have counted them already (a resend
        # is then a free 409); if it did not, it refuses them whole (monthly limit).
        logger.warning(
            "digest for %s: %d new and %d unfinished recipient(s), %d left this month: "
            "resending the unfinished batches (free if LINE accepted them before)",
            week,
            new,
            waiting,
            left,
        )
        return groups, pending
    summary.shortfall = summary.due - left
    text = (
        f"週1回のお知らせ（{digest_mod.period(week)}）：送信予定 {summary.due:,}通に対し、今月の残りは "
        f"{left:,}通です（{summary.shortfall:,}通不足）。"
    )
    if not allow_partial:
        logger.error(
            "digest for %s: %d messages due, %d left this month (short by %d); nothing sent",
            week,
            summary.due,
            left,
            summary.shortfall,
        )
        summary.code = SHORT
        summary.notes.append(text + "送信していません。上限を増やすか、--allow-partial で優先順に送ってください。")
        summary.quota_left = left
        return None, []
    logger.error(
        "digest for %s: %d messages due, %d left this month (short by %d); sending in priority order",
        week,
        summary.due,
        left,
        summary.shortfall,
    )
    summary.code = SHORT
    budget, kept = left, []
    for batch in pending:  # capped too: a resend that LINE did not accept before costs its size
        if len(batch.user_ids) <= budget:
            kept.append(batch)
            budget -= len(batch.user_ids)
        else:
            summary.left += len(batch.user_ids)
    groups, rest = digest_mod.limit(groups, budget)
    summary.left += rest
    summary.notes.append(text + f"優先順に送り、{summary.left:,}人は未送信です。")
    return groups, kept


def _expire(db, summary: Summary) -> None:
    """Unfinished batches whose retry key LINE no longer honours: not resent; staff are told."""
    batches, users = digest_mod.expire_keys(db, summary.week)
    uncertain = digest_mod.counts(db, summary.week).get(digest_mod.UNCERTAIN, 0)
    summary.uncertain = uncertain
    if batches:
        logger.error(
            "digest for %s: %d unfinished batch(es) (%d recipient(s)) have a retry key older than %d h; "
            "not resent (LINE may have delivered them)",
            summary.week,
            batches,
            users,
            digest_mod.KEY_TTL_S // 3600,
        )
    if uncertain:
        summary.notes.append(
            f"送信が完了したか確認できないまま再送キーの有効期限（24時間）を過ぎた送信があり、"
            f"{uncertain:,}人には届いたかどうか分かりません。二重送信を避けるため再送していません。"
        )


def _pending(db, week: date) -> list[Batch]:
    """Unfinished batches, less the users who turned the digest off since."""
    out = []
    for batch in digest_mod.unfinished(db, week):
        digest_mod.drop_unsubscribed(db, batch)
        out.append(batch)
    return out


def _send_group(db, sender: _Sender, week: date, group: Group, today: date | None) -> None:
    payload = line_digest.payload(line_digest.messages(group.digest, today))
    content_id = group.digest.key
    digest_mod.store_content(db, week, content_id, payload)
    for chunk in digest_mod.batches([s.user_id for s in group.recipients], line_push.MAX_MULTICAST):
        sender.submit(digest_mod.open_batch(db, week, content_id, chunk), payload)  # the key, before the call


def _send_stored(db, sender: _Sender, batch: Batch) -> None:
    if not batch.user_ids:  # everyone of it unfollowed or stopped the digest since
        digest_mod.record(db, batch, digest_mod.SENT, attempts=0, detail="no recipients left")
        return
    logger.info(
        "digest batch %s: resuming with its stored key %s (%d recipients)",
        batch.batch_id,
        batch.retry_key,
        len(batch.user_ids),
    )
    sender.submit(batch, digest_mod.content(db, batch.week, batch.content_id))


class _Sender:
    """Up to ``IN_FLIGHT`` calls at once on worker threads; the ledger is written on the run's
    own thread (its connection), each batch's key before its call is submitted and its outcome
    as the call completes. Leaving the block waits for every call and records it."""

    def __init__(self, db, api, summary: Summary, run_id: str):
        self.db, self.api, self.summary, self.run_id = db, api, summary, run_id
        self.pool = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="digest-send")
        self.flying: dict[Future, Batch] = {}
        self.beat = time.monotonic()

    def __enter__(self) -> _Sender:
        return self

    def __exit__(self, kind, error, tb) -> None:
        try:
            if kind is None:
                while self.flying:
                    self._collect()
        finally:
            self.pool.shutdown(wait=True)

    def submit(self, batch: Batch, payload: str) -> None:
        while len(self.flying) >= IN_FLIGHT:
            self._collect()
        messages = line_digest.from_payload(payload)
        future = self.pool.submit(line_push.send, self.api, list(batch.user_ids), messages, batch.retry_key)
        self.flying[future] = batch

    def _collect(self) -> None:
        done, _ = wait(list(self.flying), return_when=FIRST_COMPLETED)
        for future in done:
            batch = self.flying.pop(future)
            _record(self.db, self.summary, batch, future.result())  # a crash of the call ends the run
        if time.monotonic() - self.beat > HEARTBEAT_S:
            digest_mod.heartbeat(self.db, self.run_id)
            self.beat = time.monotonic()


def _record(db, summary: Summary, batch: Batch, outcome: line_push.Outcome) -> None:
    state = digest_mod.SENT if outcome.sent else digest_mod.FAILED
    digest_mod.record(
        db,
        batch,
        state,
        status=outcome.status,
        attempts=outcome.attempts,
        request_id=outcome.request_id,
        detail=outcome.detail,
    )
    n = len(batch.user_ids)
    summary.calls += 1
    if outcome.sent:
        summary.sent += n
        summary.messages_used += 0 if outcome.status == line_push.CONFLICT else n
        log = logger.info
    else:
        summary.failed += n
        log = logger.error
    log(
        "digest batch %s: %s to %d recipient(s) (first %s), key %s, status %s, %d attempt(s)%s",
        batch.batch_id,
        state,
        n,
        batch.user_ids[0],
        batch.retry_key,
        outcome.status,
        outcome.attempts,
        f": {outcome.detail}" if outcome.detail else "",
    )


def _quota_left(api) -> int | None:
    if api is None:
        return None
    try:
        return line_push.quota(api).left
    except QUOTA_ERRORS:
        logger.warning("could not read the quota after the run", exc_info=True)
        return None


def dry_plan(db: sqlite_utils.Database, week: date, note: str | None = None) -> tuple[digest_mod.Plan, list[Batch]]:
    """What a run would send now, without sending or writing anything."""
    pending = digest_mod.unfinished(db, week)
    return digest_mod.plan(db, week, note=note, exclude=digest_mod.handled(db, week)), pending
