"""How LINE events arrive and replies leave: the webhook's parse, the queue, the reply.

``LineChannel.parse`` and ``accept`` run in the web request: the SDK's ``WebhookParser`` checks
the signature and parses the body, and the body is put on the queue (``bot.queue``: Huey, its
tasks in SQLite or Redis) before the request answers 200, so an event LINE was told it delivered
is never only in a process's memory. A queue worker then works the body (``work_body``): it
stages the events in the base (``knowledge.store.pending``: each ``webhookEventId`` claimed once,
so a redelivered or duplicated event is never applied twice) and works each chat's staged events
one at a time, oldest first by LINE's ``timestamp``, whatever process received them: it asks
``handlers.line.conversation.respond`` what to say and replies. An event older than its reply
token is still applied but not answered (counted in one log line); an event the base cannot take
now (read-only, full, locked past the wait) stays staged and its task is tried again later. A
failed reply (an expired token, 4xx/5xx, a timeout) is logged with the event id and recorded in
the inbox; the question itself was already answered and logged by ``knowledge.ask``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time

from huey.api import Huey
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    Message,
    MessagingApi,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhooks import Event

from handlers.line.client import REQUEST_TIMEOUT_S, configuration
from handlers.line.conversation import kind_of, respond
from knowledge.settings import DEFAULTS, Settings
from knowledge.store import inbox, pending
from knowledge.store.db import held

logger = logging.getLogger(__name__)
CHANNEL = "line"
TASK = "line.body"  # the queue's task name for one webhook body: stage its events
CHAT_TASK = "line.chat"  # … for one chat: work its staged events
RESUME_TASK = "line.resume"  # … for the chats a stop or a crash left with staged events
RETRIES = 1000  # a body the base cannot take now is tried again (every RETRY_DELAY_S) until it can
RETRY_DELAY_S = 5
# Outcomes not written back to the inbox: its row already says the event was received, the log
# line says how it ended. Failures are written.
QUIET_OUTCOMES = ("done",)
REPLY_TOKEN_S = 50  # LINE's reply token lasts about a minute: an event older than this gets no reply
DRAIN_POLL_S = 0.05
STALE_LOG_S = 60.0  # events too old to answer are counted in one warning at most this often
LOADING_AFTER_S = 2.0  # an event that waited this long in the queue shows LINE's loading animation
LOADING_S = 20  # seconds the animation shows (a multiple of 5, at most 60); the reply ends it
# Errors that say the base cannot be written now (read-only, full, locked past the wait): the event
# stays staged and is worked when it can be
UNWRITABLE = (sqlite3.OperationalError,)


class BadRequest(ValueError):
    """A webhook request LINE did not send as it sends them (signature, body)."""


class LineChannel:
    """One process's LINE channel: the parser, the queue's task and the reply client."""

    def __init__(
        self,
        *,
        secret: str,
        token: str,
        db_path: str,
        huey: Huey,
        base_url: str | None = None,
        default_area: str | None = None,
        settings: Settings = DEFAULTS,
    ):
        self.parser = WebhookParser(secret)
        self.token, self.base_url = token, base_url
        self.db_path, self.default_area, self.settings = db_path, default_area, settings
        self.huey = huey
        retried = {"retries": RETRIES, "retry_delay": RETRY_DELAY_S}
        self._task = huey.task(name=TASK, **retried)(self.work_body)
        self._chat_task = huey.task(name=CHAT_TASK, **retried)(self.work_chat_task)
        self._resume = huey.task(name=RESUME_TASK, **retried)(self.resume)
        self._client: ApiClient | None = None
        self._pid = 0
        self._outstanding = 0  # bodies this process queued and no worker has finished (``drain``)
        self._working = 0  # bodies this process's workers are working now (``drain``)
        self._stale, self._stale_said = 0, -STALE_LOG_S  # events too old to answer, not yet logged
        self._lock = threading.Lock()

    # --- in the request ------------------------------------------------------------------

    def parse(self, body: str, signature: str | None) -> list[Event]:
        """The events of a webhook body, after the SDK checked its signature. Raises
        ``BadRequest`` for a missing or wrong signature or a body that is not LINE's."""
        if not signature:
            raise BadRequest("no X-Line-Signature header")
        try:
            return self.parser.parse(body, signature)
        except InvalidSignatureError:
            raise BadRequest("the X-Line-Signature does not match the body") from None
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            first = (str(e).splitlines() or [""])[0][:120]
            raise BadRequest(f"the body is not a LINE webhook ({type(e).__name__}: {first})") from None

    def accept(self, body: str, events: list[Event]) -> int:
        """Put a body with events on the queue (one write); raises when the queue cannot take it,
        and the webhook then answers 503 so that LINE sends it again."""
        if events:
            with self._lock:
                self._outstanding += 1
            try:
                self._task(body)
            except BaseException:
                with self._lock:
                    self._outstanding -= 1
                raise
        return len(events)

    # --- in the queue's workers ----------------------------------------------------------

    def work_body(self, body: str) -> None:
        """Stage a body's events and queue the work of every chat it holds. The queue is first in,
        first out: a chat's work is queued behind every body already waiting, so a parent's events
        queued together (a backlog after a restart, a burst) are staged before their chat is
        worked, in LINE's order whichever worker took which body; and a burst of bodies never
        starves the replies (a priority for staging did, tried first). With no backlog the chats
        are worked at once, in this task (no second trip through the queue).

        Raises (and the queue tries the body again later) while the base cannot be written:
        nothing of it is lost. Any other failure is logged with its traceback and not tried
        again."""
        with self._lock:
            self._working += 1
        try:
            self._work(body)
        except UNWRITABLE:
            raise  # tried again later: still outstanding
        except Exception:
            logger.exception("line webhook body could not be worked (%d bytes)", len(body))
        finally:
            with self._lock:
                self._working -= 1
        with self._lock:
            self._outstanding = max(0, self._outstanding - 1)

    def _work(self, body: str) -> None:
        raw = [_clean(e) for e in (json.loads(body).get("events") or []) if isinstance(e, dict)]
        staged = [_staged(e) for e in raw]
        with held(self.db_path) as db:
            fresh = pending.stage(db, CHANNEL, staged)
        for event, s in zip(raw, staged):
            if s.event_id in fresh:
                self._show_loading(event)
            else:
                again = (event.get("deliveryContext") or {}).get("isRedelivery")
                logger.info(
                    "line event %s (%s) already received; %s skipped",
                    s.event_id,
                    s.kind,
                    "redelivery" if again else "duplicate",
                )
        chats = list(dict.fromkeys(s.chat for s in staged))
        if self.huey.pending_count():  # a backlog: the chats' turn comes behind it (see above)
            for chat in chats:
                self._chat_task(chat)
        else:  # nothing waits that could hold an older event of theirs: work them now
            for chat in chats:
                self.work_chat_task(chat)

    def work_chat_task(self, chat: str) -> None:
        """The queue's task for one chat (``work_chat``), counted for ``drain``."""
        with self._lock:
            self._working += 1
        try:
            stale = self.work_chat(chat)
        finally:
            with self._lock:
                self._working -= 1
        if stale:
            self._count_stale(stale)

    def _count_stale(self, n: int) -> None:
        """One warning line for many events too old to answer (a burst outliving its tokens):
        at most one each ``STALE_LOG_S``, with the count since the last."""
        with self._lock:
            self._stale += n
            now = time.monotonic()
            if now - self._stale_said < STALE_LOG_S:
                return
            count, self._stale, self._stale_said = self._stale, 0, now
        logger.warning("line: %d events older than their reply token applied without a reply", count)

    def work_chat(self, chat: str) -> int:
        """Work a chat's staged events one at a time, oldest first, under the chat's lease; the
        number of them too old to answer. Another worker holding the lease works them instead
        (it looks again after letting go)."""
        holder = f"{os.getpid()}:{threading.get_ident()}"
        stale = 0
        while True:
            with held(self.db_path) as db:
                if pending.next_event(db, CHANNEL, chat) is None or not pending.lease(db, CHANNEL, chat, holder):
                    return stale
            try:
                stale += self._work_leased(chat, holder)
            finally:
                self._let_go(chat, holder)

    def _work_leased(self, chat: str, holder: str) -> int:
        stale = 0
        while True:
            with held(self.db_path) as db:
                found = pending.next_event(db, CHANNEL, chat)
            if found is None:
                return stale
            event_id, payload = found
            stale += self.handle(event_id, payload)
            with held(self.db_path) as db:
                pending.done(db, CHANNEL, event_id)
                pending.lease(db, CHANNEL, chat, holder)  # renewed: still at work

    def _let_go(self, chat: str, holder: str) -> None:
        try:
            with held(self.db_path) as db:
                pending.release(db, CHANNEL, chat, holder)
        except UNWRITABLE:  # the lease runs out by itself
            logger.warning("line chat lease not released (the base cannot be written); it expires")

    def resume_later(self) -> None:
        """Queue ``resume`` when events are left staged (a process starting); a base that cannot
        be read yet is the health check's to report."""
        try:
            with held(self.db_path) as db:
                waiting = pending.count(db, CHANNEL)
            if waiting:
                self._resume()
                logger.info("line: %d staged events left by an earlier process queued to be worked", waiting)
        except Exception as e:  # the base missing or unreadable: nothing to resume from here
            logger.warning("line: staged events not looked for (%s)", type(e).__name__)

    def resume(self) -> int:
        """Work the chats whose events a stop or a crash left staged (at a worker's start)."""
        with held(self.db_path) as db:
            chats = pending.waiting_chats(db, CHANNEL)
        for chat in chats:
            self.work_chat(chat)
        if chats:
            logger.info("line: resumed %d chats with staged events", len(chats))
        return len(chats)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until the queue is empty and every staged event is worked (tests, a graceful
        stop): quiet twice in a row, a poll apart; False on timeout."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            quiet = quiet + 1 if self._quiet() else 0
            if quiet >= 2:
                return True
            time.sleep(DRAIN_POLL_S)
        return False

    def _quiet(self) -> bool:
        with self._lock:
            busy = self._outstanding or self._working
        if busy or self.huey.pending_count() or self.huey.scheduled_count():
            return False
        with held(self.db_path) as db:
            return not pending.count(db, CHANNEL)

    def handle(self, event_id: str, payload: str) -> int:
        """Answer one staged event and reply; 1 when it was too old to answer, else 0. Raises
        only when the base cannot be written now (the event stays staged); any other failure
        is logged with its traceback and recorded, and the event is done."""
        started = time.perf_counter()
        kind, status, detail, stale = "unknown", "failed", None, 0
        try:
            raw = json.loads(payload)
            event = _event_of(raw)
            kind = kind_of(event)
            with held(self.db_path) as db:
                messages = self._respond(db, event)
            stale = int(bool(messages) and _age_s(raw) > REPLY_TOKEN_S)
            status, detail = ("done", None) if stale else self._reply(event, messages, event_id)
        except UNWRITABLE as e:
            logger.warning("line event %s (%s) kept for later: the base cannot be written (%s)", event_id, kind, e)
            raise
        except Exception as e:
            logger.exception("line event %s (%s) could not be handled", event_id, kind)
            status, detail = "failed", f"{type(e).__name__}: {e}"
        if status not in QUIET_OUTCOMES:
            with held(self.db_path) as db:
                inbox.settle(db, CHANNEL, event_id, status, detail)
        logger.info(
            "line event %s (%s) %s%s in %.0f ms",
            event_id,
            kind,
            status,
            " (too old to reply)" if stale else "",
            (time.perf_counter() - started) * 1000,
        )
        return stale

    def _respond(self, db, event: Event) -> list[Message]:
        """What to say; nothing to a chat in standby (it belongs to another module channel)."""
        if getattr(event, "mode", "active") == "standby":
            return []
        return respond(db, event, self.default_area, self.settings)

    def _api(self) -> MessagingApi:
        with self._lock:
            if self._client is None or self._pid != os.getpid():  # made after gunicorn's fork
                self._client = ApiClient(configuration(self.token, self.base_url))
                self._pid = os.getpid()
            return MessagingApi(self._client)

    def _show_loading(self, raw: dict) -> None:
        """LINE's loading animation for a parent whose message waited in the queue (one-to-one
        chats only); best effort: the reply is what matters."""
        source = raw.get("source") or {}
        if raw.get("type") not in ("message", "postback") or source.get("type") != "user" or not source.get("userId"):
            return
        if not LOADING_AFTER_S <= _age_s(raw) <= REPLY_TOKEN_S:
            return
        try:
            self._api().show_loading_animation(
                ShowLoadingAnimationRequest(chat_id=source["userId"], loading_seconds=LOADING_S),
                _request_timeout=REQUEST_TIMEOUT_S,
            )
        except Exception as e:  # the animation is a courtesy: say so and go on
            logger.warning("line loading animation not shown (%s)", getattr(e, "status", None) or type(e).__name__)

    def _reply(self, event: Event, messages: list[Message], event_id: str) -> tuple[str, str | None]:
        """Send the reply: ("done", None), or ("reply_failed", what LINE or the network said)."""
        if not messages:
            return "done", None
        token = getattr(event, "reply_token", None)
        if not token:
            logger.info("line event %s: %d messages not sent (no reply token)", event_id, len(messages))
            return "done", None
        try:
            # the raw response: a 2xx is delivered, whatever extra fields LINE's answer grows
            self._api().reply_message_with_http_info(
                ReplyMessageRequest(reply_token=token, messages=messages),
                _request_timeout=REQUEST_TIMEOUT_S,
                _preload_content=False,
            )
        except Exception as e:  # ApiException (4xx/5xx), urllib3's timeouts and connection errors
            status = getattr(e, "status", None)
            detail = getattr(e, "body", None) or str(e)
            said = f"{status or type(e).__name__}: {str(detail)[:300]}"
            logger.error("line event %s: reply failed (%s)", event_id, said)
            return "reply_failed", said
        return "done", None


def _staged(raw: dict) -> pending.Staged:
    """One raw event as the base stages it. An event without a ``webhookEventId`` (not LINE's
    as documented) is known by a hash of its body, so its repeats are still caught."""
    payload = json.dumps(raw, ensure_ascii=False, sort_keys=True)
    event_id = raw.get("webhookEventId") or "body-" + hashlib.sha256(payload.encode()).hexdigest()[:26]
    message = raw.get("message") if isinstance(raw.get("message"), dict) else None
    kind = f"{raw.get('type')}/{message.get('type')}" if message and message.get("type") else str(raw.get("type"))
    ts = raw.get("timestamp")
    return pending.Staged(event_id, kind[:40], _chat_of_raw(raw), ts if isinstance(ts, int) else 0, payload)


def _clean(value):
    """``value`` with every lone surrogate (``\\ud83d`` cut from its pair, valid JSON but not
    text) made U+FFFD: such a string cannot be stored or sent, and would lose its whole body."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _event_of(raw: dict) -> Event:
    """The SDK's model of a staged event, as its ``WebhookParser`` makes it: a type this SDK
    version does not know is an ``UnknownEvent``."""
    try:
        return Event.from_dict(raw)
    except ValueError:
        return UnknownEvent.new_from_json_dict(raw)


def _age_s(raw: dict) -> float:
    """How long ago LINE says the event happened (0 without a timestamp)."""
    ts = raw.get("timestamp")
    return max(0.0, time.time() - ts / 1000) if isinstance(ts, int) else 0.0


def _chat_of_raw(raw: dict) -> str:
    """The chat an event belongs to (a user, a group, a room), whose events keep their order."""
    source = raw.get("source") if isinstance(raw.get("source"), dict) else {}
    kind = source.get("type")
    field = {"user": "userId", "group": "groupId", "room": "roomId"}.get(kind)
    return f"{kind}:{source[field]}" if field and source.get(field) else "-"
