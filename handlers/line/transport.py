"""How LINE events arrive and replies leave: the webhook's parse, the event threads, the reply.

``LineChannel.parse`` and ``accept`` run in the web request: the SDK's ``WebhookParser`` checks
the signature and parses the body, the events are queued, and the request returns at once, as
LINE asks of a webhook. A small pool of threads per process then takes each event: holds the
base (``knowledge.store.db.held``), claims its ``webhookEventId`` (``knowledge.store.inbox``: a
redelivered or duplicated event is claimed once, so it is never answered or applied twice), asks
``handlers.line.conversation.respond`` what to say and replies. A failed reply (an expired token,
4xx/5xx, a timeout) is logged with the event id and recorded in the inbox; the question itself
was already answered and logged by ``knowledge.ask``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor, wait

import sqlite_utils
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, Message, MessagingApi, ReplyMessageRequest
from linebot.v3.webhooks import Event

from handlers.line.client import REQUEST_TIMEOUT_S, configuration
from handlers.line.conversation import kind_of, respond
from knowledge.settings import DEFAULTS, Settings
from knowledge.store import inbox
from knowledge.store.db import busy_timeout, held

logger = logging.getLogger(__name__)
CHANNEL = "line"
WORKERS = 4  # threads per process handling events (each opens its own connection)
CLAIM_WAIT_S = 0.5  # how long the webhook waits for the write lock to record a body's event ids
# Outcomes not written back to the inbox: its row already says the event was received, the log
# line says how it ended, and a second write per event halved the webhook's throughput under
# load (every event thread and request queued on SQLite's one write lock). Failures are written.
QUIET_OUTCOMES = ("done",)
RECENT_IDS = 10_000  # event ids a process remembers, for when the base's lock cannot be had


class BadRequest(ValueError):
    """A webhook request LINE did not send as it sends them (signature, body)."""


class LineChannel:
    """One process's LINE channel: the parser, the reply client and the event threads."""

    def __init__(
        self,
        *,
        secret: str,
        token: str,
        db_path: str,
        base_url: str | None = None,
        default_area: str | None = None,
        settings: Settings = DEFAULTS,
    ):
        self.parser = WebhookParser(secret)
        self.token, self.base_url = token, base_url
        self.db_path, self.default_area, self.settings = db_path, default_area, settings
        self._pool: ThreadPoolExecutor | None = None
        self._client: ApiClient | None = None
        self._pid = 0
        self._pending: set[Future] = set()
        self._queues: dict[str, deque] = {}
        self._recent: OrderedDict[str, bool] = OrderedDict()  # ids claimed by this process, newest last
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

    def accept(self, events: list[Event]) -> int:
        """Queue a body's events for the event threads; the request itself writes nothing, so
        the 200 goes back at once whatever the base is doing."""
        for event in events:
            self._submit(event)
        return len(events)

    def _first_time(self, db: sqlite_utils.Database, event: Event) -> bool:
        """Whether this event is seen for the first time (a redelivery or a duplicate is not)."""
        event_id = getattr(event, "webhook_event_id", None)
        if not event_id:  # not a LINE event as documented: nothing to dedupe by
            logger.warning("line event without webhookEventId (%s) handled", kind_of(event))
            return True
        if event_id in self._claim(db, [event]):
            return True
        redelivery = getattr(getattr(event, "delivery_context", None), "is_redelivery", False)
        logger.info(
            "line event %s (%s) already received; %s skipped",
            event_id,
            kind_of(event),
            "redelivery" if redelivery else "duplicate",
        )
        return False

    def _claim(self, db: sqlite_utils.Database, events: list[Event]) -> set[str]:
        """The ids first seen now, recorded in the base in one short transaction. While a long
        import holds the write lock, this process's own memory of recent ids stands in, so the
        parent is answered without waiting on the import and repeats are still caught."""
        pairs = [(e.webhook_event_id, kind_of(e)) for e in events if getattr(e, "webhook_event_id", None)]
        if not pairs:
            return set()
        try:
            with busy_timeout(db, CLAIM_WAIT_S):
                fresh = inbox.claim_many(db, CHANNEL, pairs)
        except sqlite3.OperationalError as e:
            with self._lock:
                fresh = {i for i, _ in pairs if i not in self._recent}
            logger.warning("line events %s recorded in memory only (%s)", ", ".join(sorted(fresh)) or "-", e)
        with self._lock:
            for event_id in fresh:
                self._recent[event_id] = True
            while len(self._recent) > RECENT_IDS:
                self._recent.popitem(last=False)
        return fresh

    # --- in the event threads ------------------------------------------------------------

    def _submit(self, event: Event) -> None:
        """Queue an event behind the earlier ones of the same chat: LINE sends a chat's events in
        order (follow, then the ward chosen, then the child's month), and they must be applied
        in that order even when one body or quick taps bring several at once."""
        key = _chat_of(event)
        with self._lock:
            if self._pool is None or self._pid != os.getpid():  # made after gunicorn's fork
                self._pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="line-event")
                self._client = ApiClient(configuration(self.token, self.base_url))
                self._pid = os.getpid()
                self._pending, self._queues = set(), {}
            queue = self._queues.get(key)
            if queue is not None:  # a runner is draining this chat's queue: it will take this one
                queue.append(event)
                return
            self._queues[key] = deque([event])
            future = self._pool.submit(self._run_chat, key)
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _run_chat(self, key: str) -> None:
        """Handle one chat's queued events one after another, until its queue is empty."""
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    return
                event = queue.popleft()
            self.handle(event)

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event is handled (tests, a graceful stop); False on timeout."""
        with self._lock:
            pending = set(self._pending)
        done, not_done = wait(pending, timeout=timeout)
        return not not_done

    def handle(self, event: Event) -> None:
        """Answer one event and reply; never raises (a thread has no one to raise to).

        The base is held for the claim and the answer only; the outcome is written after it is
        handed back (``held`` rolls back whatever a failure left half-done, so the failure's own
        row is not rolled back with it). A missing base fails the event like any other error."""
        started = time.perf_counter()
        event_id = getattr(event, "webhook_event_id", None) or "-"
        kind = kind_of(event)
        db, detail = None, None
        try:
            with held(self.db_path) as db:
                if not self._first_time(db, event):
                    return
                status, detail = self._answer(db, event, event_id)
        except Exception as e:
            logger.exception("line event %s (%s) could not be handled", event_id, kind)
            status, detail = "failed", f"{type(e).__name__}: {e}"
        if db is not None and event_id != "-" and status not in QUIET_OUTCOMES:
            inbox.settle(db, CHANNEL, event_id, status, detail)
        logger.info("line event %s (%s) %s in %.0f ms", event_id, kind, status, (time.perf_counter() - started) * 1000)

    def _answer(self, db: sqlite_utils.Database, event: Event, event_id: str) -> tuple[str, str | None]:
        """Respond to a first-seen event and send the reply; the outcome as the inbox keeps it.
        A chat in standby belongs to another module channel: it is left unanswered."""
        if getattr(event, "mode", "active") == "standby":
            return "standby", None
        messages = respond(db, event, self.default_area, self.settings)
        return self._reply(event, messages, event_id) if messages else ("done", None)

    def _reply(self, event: Event, messages: list[Message], event_id: str) -> tuple[str, str | None]:
        """Send the reply: ("done", None), or ("reply_failed", what LINE or the network said)."""
        token = getattr(event, "reply_token", None)
        if not token:
            logger.info("line event %s: %d messages not sent (no reply token)", event_id, len(messages))
            return "done", None
        try:
            # the raw response: a 2xx is delivered, whatever extra fields LINE's answer grows
            MessagingApi(self._client).reply_message_with_http_info(
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


def _chat_of(event: Event) -> str:
    """The chat an event belongs to (a user, a group, a room), whose events keep their order."""
    source = getattr(event, "source", None)
    for attr in ("user_id", "group_id", "room_id"):
        value = getattr(source, attr, None)
        if value:
            return f"{attr}:{value}"
    return "-"
