"""LINE webhook events turned into calls on ``knowledge`` and replies through ``MessagingApi``.

``LineChannel.receive`` runs in the web request: it checks the signature and parses the body
with the SDK's ``WebhookParser``, claims each event's ``webhookEventId`` (``knowledge.inbox``:
a redelivered or duplicated event is claimed once, so it is never answered or applied twice),
queues the claimed events and returns at once, as LINE asks of a webhook. A small pool of
threads per process then handles them (``respond``) and replies. A failed reply (an expired
token, 4xx/5xx, a timeout) is logged with the event id and recorded in the inbox; the question
itself was already answered and logged by ``knowledge.ask``.
"""

from __future__ import annotations

import logging
from collections import deque
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

import sqlite_utils
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.models.events import UnknownEvent
from linebot.v3.messaging import ApiClient, LocationAction, Message, MessagingApi, ReplyMessageRequest
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from handlers import line_setup as setup
from handlers import line_words as words
from handlers.line_client import REQUEST_TIMEOUT_S, configuration
from handlers.line_render import answer_messages, finish, follow_ups, place_carousel, say, text_message
from knowledge import ask, clock, inbox, open_db, parents, places, topics
from knowledge.db import busy_timeout
from knowledge.text import nfkc

logger = logging.getLogger(__name__)
CHANNEL = "line"
WORKERS = 4  # threads per process handling events (each opens its own connection)
CLAIM_WAIT_S = 2.0  # how long the webhook waits for the write lock to record an event id


class BadRequest(ValueError):
    """A webhook request LINE did not send as it sends them (signature, body)."""


class LineChannel:
    """One process's LINE channel: the parser, the reply client and the event threads."""

    def __init__(self, *, secret: str, token: str, db_path: str, base_url: str | None = None,
                 default_area: str | None = None):
        self.parser = WebhookParser(secret)
        self.token, self.base_url = token, base_url
        self.db_path, self.default_area = db_path, default_area
        self._pool: ThreadPoolExecutor | None = None
        self._client: ApiClient | None = None
        self._pid = 0
        self._pending: set[Future] = set()
        self._queues: dict[str, deque] = {}
        self._lock = threading.Lock()

    # --- in the request ------------------------------------------------------------------

    def receive(self, db: sqlite_utils.Database, body: str, signature: str | None) -> int:
        """Verify and queue a webhook body; the number of new events queued. Raises
        ``BadRequest`` for a missing or wrong signature or a body that is not LINE's."""
        if not signature:
            raise BadRequest("no X-Line-Signature header")
        try:
            events = self.parser.parse(body, signature)
        except InvalidSignatureError:
            raise BadRequest("the X-Line-Signature does not match the body") from None
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise BadRequest(f"the body is not a LINE webhook ({type(e).__name__}: {str(e)[:120]})") from None
        queued = 0
        for event in events:
            if self._claim(db, event):
                self._submit(event)
                queued += 1
        return queued

    def _claim(self, db: sqlite_utils.Database, event: Event) -> bool:
        event_id = getattr(event, "webhook_event_id", None)
        kind = getattr(event, "type", None) or "unknown"
        if not event_id:  # not a LINE event as documented: nothing to dedupe by, handled once here
            logger.warning("line event without webhookEventId (type %s)", kind)
            return True
        try:
            with busy_timeout(db, CLAIM_WAIT_S):
                if inbox.claim(db, CHANNEL, event_id, kind):
                    return True
        except sqlite3.OperationalError as e:
            # a long import holds the lock: answer anyway. The webhook still answers 200, so
            # LINE does not redeliver, and the parent is not left without a reply.
            logger.warning("line event %s (%s) handled unrecorded: %s", event_id, kind, e)
            return True
        redelivery = getattr(getattr(event, "delivery_context", None), "is_redelivery", False)
        logger.info("line event %s (%s) already received; %s skipped", event_id, kind,
                    "redelivery" if redelivery else "duplicate")
        return False

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
        """Answer one event and reply; never raises (a thread has no one to raise to)."""
        started = time.perf_counter()
        event_id = getattr(event, "webhook_event_id", None) or "-"
        kind = _kind(event)
        db = None
        try:
            db = open_db(self.db_path, create=False)
            messages = respond(db, event, self.default_area)
            status = self._reply(event, messages, event_id) if messages else "done"
        except Exception:
            logger.exception("line event %s (%s) could not be handled", event_id, kind)
            status = "failed"
        if db is not None:
            if event_id != "-":
                inbox.settle(db, CHANNEL, event_id, status)
            db.close()
        logger.info("line event %s (%s) %s in %.0f ms", event_id, kind, status, (time.perf_counter() - started) * 1000)

    def _reply(self, event: Event, messages: list[Message], event_id: str) -> str:
        token = getattr(event, "reply_token", None)
        if not token or getattr(event, "mode", "active") == "standby":
            logger.info("line event %s: %d messages not sent (no reply token or standby mode)", event_id, len(messages))
            return "done"
        try:
            # the raw response: a 2xx is delivered, whatever extra fields LINE's answer grows
            MessagingApi(self._client).reply_message_with_http_info(
                ReplyMessageRequest(reply_token=token, messages=messages),
                _request_timeout=REQUEST_TIMEOUT_S, _preload_content=False)
        except Exception as e:  # ApiException (4xx/5xx), urllib3's timeouts and connection errors
            status = getattr(e, "status", None)
            detail = getattr(e, "body", None) or str(e)
            logger.error("line event %s: reply failed (%s): %s", event_id, status or type(e).__name__, str(detail)[:300])
            return "reply_failed"
        return "done"


def _chat_of(event: Event) -> str:
    """The chat an event belongs to (a user, a group, a room), whose events keep their order."""
    source = getattr(event, "source", None)
    for attr in ("user_id", "group_id", "room_id"):
        value = getattr(source, attr, None)
        if value:
            return f"{attr}:{value}"
    return "-"


def _kind(event: Event) -> str:
    kind = getattr(event, "type", None) or "unknown"
    message = getattr(event, "message", None)
    return f"{kind}/{message.type}" if message is not None and getattr(message, "type", None) else kind


# --- what the bot says -----------------------------------------------------------------------


def respond(db: sqlite_utils.Database, event: Event, default_area: str | None = None) -> list[Message]:
    """The reply to one event (empty when there is nothing to say or no one to say it to)."""
    user_id = getattr(getattr(event, "source", None), "user_id", None)
    if isinstance(event, FollowEvent) and user_id:
        parents.follow(db, user_id, step=setup.STEP_AREA)
        return [text_message(words.WELCOME)] + setup.area_question(db)
    if isinstance(event, UnfollowEvent) and user_id:
        parents.forget(db, user_id)
        return []
    if isinstance(event, PostbackEvent) and user_id:
        postback = event.postback
        reply = setup.on_postback(db, user_id, postback.data, postback.params)
        return reply if reply is not None else [text_message(words.HELP)]
    if isinstance(event, MessageEvent):
        content = event.message
        if isinstance(content, TextMessageContent):
            return on_text(db, user_id, content.text or "", default_area)
        if isinstance(content, LocationMessageContent):
            return on_location(db, user_id, content.latitude, content.longitude, default_area)
        return finish([text_message(words.UNSUPPORTED)], follow_ups())
    if isinstance(event, UnknownEvent):  # a type or shape this SDK version does not know
        logger.warning("line event %s (%s) not understood by the SDK: no reply", getattr(event, "webhook_event_id", "-"),
                       _kind(event))
    else:
        logger.info("line event %s (%s) needs no reply", getattr(event, "webhook_event_id", "-"), _kind(event))
    return []


COMMANDS: dict[str, Callable] = {}


def command(*names: str):
    def register(fn):
        for name in names:
            COMMANDS[_key(name)] = fn
        return fn
    return register


def _key(text: str) -> str:
    return "".join(nfkc(text).split()).lower().rstrip("。.!！")


def on_text(db: sqlite_utils.Database, user_id: str | None, text: str, default_area: str | None) -> list[Message]:
    parent = parents.get(db, user_id) if user_id else None
    handler = COMMANDS.get(_key(text))
    if handler is not None and user_id:
        return handler(db, user_id, parent)
    if parent is not None and parent.step == setup.STEP_AREA:
        chosen = setup.typed_area(db, user_id, text.strip())
        if chosen is not None:
            return chosen
    area = (parent.area if parent else None) or default_area
    answer = ask(db, text, area=area, asker=f"line:{user_id}" if user_id else None)
    messages = answer_messages(db, answer, clock.today())
    if parent is not None and not parent.area and len(messages) < 5:
        messages = messages + setup.area_question(db)[-1:]  # the ward question (its quick replies last)
    return messages


@command(*words.CMD_SETUP)
def _setup(db, user_id, parent) -> list[Message]:
    return setup.start(db, user_id, again=True)


@command(*words.CMD_HELP)
def _help(db, user_id, parent) -> list[Message]:
    return finish([text_message(words.HELP)], follow_ups())


@command(*words.CMD_STOP)
def _stop(db, user_id, parent) -> list[Message]:
    parents.update(db, user_id, digest_off=True)
    return finish([text_message(words.DIGEST_STOPPED)], follow_ups())


@command(*words.CMD_RESUME)
def _resume(db, user_id, parent) -> list[Message]:
    parent = parents.update(db, user_id, digest_off=False)
    if not parent.area:
        return [text_message(words.DIGEST_RESUMED), text_message(words.DIGEST_NEEDS_AREA)] + setup.area_question(db)[-1:]
    return finish([text_message(words.DIGEST_RESUMED)], follow_ups())


@command(*words.CMD_NEAR)
def _near(db, user_id, parent) -> list[Message]:
    return finish([text_message(words.ASK_LOCATION)], [LocationAction(label=words.QR_SEND_LOCATION)])


@command(*words.CMD_FAQ)
def _faq(db, user_id, parent) -> list[Message]:
    categories = topics.faq_categories(db, parent.area if parent else None)
    if not categories:
        return finish([text_message(words.FAQ_NONE)], follow_ups())
    return finish([text_message(words.FAQ_HEAD)], [say(c) for c in categories])


def on_location(db: sqlite_utils.Database, user_id: str | None, lat: float, lon: float,
                default_area: str | None) -> list[Message]:
    """The nearest bases; where no base has coordinates, say so and list the ward's bases."""
    parent = parents.get(db, user_id) if user_id else None
    area = (parent.area if parent else None) or default_area
    try:
        near = places.nearest_bases(db, float(lat), float(lon))
    except (TypeError, ValueError):
        return finish([text_message(words.BAD_LOCATION)], follow_ups())
    if near:
        return finish(place_carousel(near, words.NEAREST_HEAD), follow_ups())
    head = words.NO_NEAR_BASE if places.located_bases(db) else words.NO_COORDINATES
    listed = places.bases_in(db, area)
    tail = words.AREA_BASES.format(area=area) if area and listed else (words.NO_BASES if not listed else "")
    messages = place_carousel(listed, f"{head}\n{tail}".strip())
    return finish(messages, follow_ups())
