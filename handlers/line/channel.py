"""LINE webhook events turned into calls on ``knowledge`` and replies through ``MessagingApi``.

``LineChannel.parse`` and ``accept`` run in the web request: the SDK's ``WebhookParser`` checks
the signature and parses the body, the events are queued, and the request returns at once, as
LINE asks of a webhook. A small pool of threads per process then takes each event: claims its
``webhookEventId`` (``knowledge.store.inbox``: a redelivered or duplicated event is claimed once, so
it is never answered or applied twice), handles it (``respond``) and replies. A failed reply (an expired
token, 4xx/5xx, a timeout) is logged with the event id and recorded in the inbox; the question
itself was already answered and logged by ``knowledge.ask``.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

import sqlite_utils
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, LocationAction, Message, MessagingApi, ReplyMessageRequest
from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    JoinEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from handlers.line import setup, words
from handlers.line.client import REQUEST_TIMEOUT_S, configuration
from handlers.line.render import (
    ACTION_ALL,
    MAX_MESSAGES,
    answer_messages,
    finish,
    follow_ups,
    place_carousel,
    say,
    text_message,
)
from knowledge import ask
from knowledge.answers import places, topics
from knowledge.answers import wording as render
from knowledge.lang import clock
from knowledge.lang.text import nfkc
from knowledge.parents import profiles as parents
from knowledge.store import inbox, unanswered
from knowledge.store.areas import AreaError
from knowledge.store.db import busy_timeout, release, thread_db

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
        self, *, secret: str, token: str, db_path: str, base_url: str | None = None, default_area: str | None = None
    ):
        self.parser = WebhookParser(secret)
        self.token, self.base_url = token, base_url
        self.db_path, self.default_area = db_path, default_area
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
            logger.warning("line event without webhookEventId (%s) handled", _kind(event))
            return True
        if event_id in self._claim(db, [event]):
            return True
        redelivery = getattr(getattr(event, "delivery_context", None), "is_redelivery", False)
        logger.info(
            "line event %s (%s) already received; %s skipped",
            event_id,
            _kind(event),
            "redelivery" if redelivery else "duplicate",
        )
        return False

    def _claim(self, db: sqlite_utils.Database, events: list[Event]) -> set[str]:
        """The ids first seen now, recorded in the base in one short transaction. While a long
        import holds the write lock, this process's own memory of recent ids stands in, so the
        parent is answered without waiting on the import and repeats are still caught."""
        pairs = [(e.webhook_event_id, _kind(e)) for e in events if getattr(e, "webhook_event_id", None)]
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
        """Answer one event and reply; never raises (a thread has no one to raise to)."""
        started = time.perf_counter()
        event_id = getattr(event, "webhook_event_id", None) or "-"
        kind = _kind(event)
        db, detail = None, None
        try:
            db = thread_db(self.db_path)
            if not self._first_time(db, event):
                return
            if getattr(event, "mode", "active") == "standby":  # another module channel has the chat
                messages, status = [], "standby"
            else:
                messages = respond(db, event, self.default_area)
                status, detail = self._reply(event, messages, event_id) if messages else ("done", None)
        except Exception as e:
            logger.exception("line event %s (%s) could not be handled", event_id, kind)
            status, detail = "failed", f"{type(e).__name__}: {e}"
        if db is not None:
            release(db)
            if event_id != "-" and status not in QUIET_OUTCOMES:
                inbox.settle(db, CHANNEL, event_id, status, detail)
        logger.info("line event %s (%s) %s in %.0f ms", event_id, kind, status, (time.perf_counter() - started) * 1000)

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


def _kind(event: Event) -> str:
    kind = getattr(event, "type", None) or "unknown"
    message = getattr(event, "message", None)
    return f"{kind}/{message.type}" if message is not None and getattr(message, "type", None) else kind


# --- what the bot says -----------------------------------------------------------------------


def respond(db: sqlite_utils.Database, event: Event, default_area: str | None = None) -> list[Message]:
    """The reply to one event (empty when there is nothing to say or no one to say it to).

    The bot talks with one parent at a time: in a group or a room it only says, once invited,
    that it answers in a one-to-one chat, so no one's ward or child is shown to a group."""
    source = getattr(event, "source", None)
    user_id = getattr(source, "user_id", None) if getattr(source, "type", None) == "user" else None
    if user_id is None:
        return [text_message(words.GROUP_HINT)] if isinstance(event, JoinEvent) else _no_reply(event)
    if isinstance(event, FollowEvent):
        parents.follow(db, user_id, step=setup.STEP_AREA)
        return [text_message(words.WELCOME)] + setup.area_question(db)
    if isinstance(event, UnfollowEvent):
        parents.forget(db, user_id)
        unanswered.forget(db, asker_of(user_id))
        return []
    if isinstance(event, PostbackEvent):
        return on_postback(db, user_id, event.postback.data, event.postback.params, default_area)
    if isinstance(event, MessageEvent):
        content = event.message
        if isinstance(content, TextMessageContent):
            return on_text(db, user_id, content.text or "", default_area)
        if isinstance(content, LocationMessageContent):
            return on_location(db, user_id, content.latitude, content.longitude, default_area)
        return finish([text_message(words.UNSUPPORTED)], follow_ups())
    return _no_reply(event)


def _no_reply(event: Event) -> list[Message]:
    if isinstance(event, UnknownEvent):  # a type or shape this SDK version does not know
        logger.warning(
            "line event %s (%s) not understood by the SDK: no reply",
            getattr(event, "webhook_event_id", "-"),
            _kind(event),
        )
    else:
        logger.info("line event %s (%s) needs no reply", getattr(event, "webhook_event_id", "-"), _kind(event))
    return []


def asker_of(user_id: str) -> str:
    """How a LINE user is named to the unanswered log (which keeps only a pseudonym of it)."""
    return f"line:{user_id}"


def on_postback(
    db: sqlite_utils.Database, user_id: str, data: str, params: dict | None, default_area: str | None
) -> list[Message]:
    reply = setup.on_postback(db, user_id, data, params)
    if reply is not None:
        return reply
    fields = setup.data_of(data)
    if fields.get("a") == ACTION_ALL and fields.get("q"):
        return all_events(db, user_id, fields["q"], default_area)
    return finish([text_message(words.HELP)], follow_ups())


def all_events(db: sqlite_utils.Database, user_id: str, question: str, default_area: str | None) -> list[Message]:
    """Every event of a listing as text (the carousel shows ten): the "more" bubble's button."""
    answer = _ask(db, user_id, question, _area_of(db, user_id, default_area))
    if answer.listing is None or not answer.listing.entries:
        return answer_messages(db, answer, clock.today())
    return finish([text_message(render.all_entries_text(answer.listing))], follow_ups())


COMMANDS: dict[str, Callable] = {}
SKIP_WORDS = ("スキップ", "すきっぷ", "skip", "あとで", "後で")


def command(*names: str):
    def register(fn):
        for name in names:
            COMMANDS[_key(name)] = fn
        return fn

    return register


def _key(text: str) -> str:
    return "".join(nfkc(text).split()).lower().rstrip("。.!！")


def on_text(db: sqlite_utils.Database, user_id: str, text: str, default_area: str | None) -> list[Message]:
    parent = parents.get(db, user_id)
    handler = COMMANDS.get(_key(text))
    if handler is not None:
        return handler(db, user_id, parent)
    if parent is not None and parent.step == setup.STEP_AREA:
        chosen = setup.typed_area(db, user_id, text.strip())
        if chosen is not None:
            return chosen
    if parent is not None and parent.step == setup.STEP_CHILD and _key(text) in SKIP_WORDS:
        return setup.on_postback(db, user_id, f"a={setup.ACTION_SKIP}", None)
    answer = _ask(db, user_id, text, (parent.area if parent else None) or default_area)
    messages = answer_messages(db, answer, clock.today())
    if (parent is None or not parent.area) and len(messages) < MAX_MESSAGES:
        if parent is None:  # a friend from before the webhook was connected: set up now
            parents.update(db, user_id, step=setup.STEP_AREA)
        messages = messages + setup.area_question(db)[-1:]  # the ward question (its quick replies last)
    return messages


def _ask(db: sqlite_utils.Database, user_id: str, text: str, area: str | None):
    """``knowledge.ask`` for this parent; an area the base no longer knows is not an error."""
    try:
        return ask(db, text, area=area, asker=asker_of(user_id))
    except AreaError:
        logger.warning("area %r is not in the base: answering without an area", area)
        return ask(db, text, area=None, asker=asker_of(user_id))


def _area_of(db: sqlite_utils.Database, user_id: str, default_area: str | None) -> str | None:
    parent = parents.get(db, user_id)
    return (parent.area if parent else None) or default_area


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
        return [text_message(words.DIGEST_RESUMED), text_message(words.DIGEST_NEEDS_AREA)] + setup.area_question(db)[
            -1:
        ]
    return finish([text_message(words.DIGEST_RESUMED)], follow_ups())


@command(*words.CMD_NEAR)
def _near(db, user_id, parent) -> list[Message]:
    return finish([text_message(words.ASK_LOCATION)], [LocationAction(label=words.QR_SEND_LOCATION)])


@command(*words.CMD_FAQ)
def _faq(db, user_id, parent) -> list[Message]:
    categories = topics.faq_categories(db, _area_of(db, user_id, None))
    if not categories:
        return finish([text_message(words.FAQ_NONE)], follow_ups())
    return finish([text_message(words.FAQ_HEAD)], [say(c) for c in categories])


def on_location(
    db: sqlite_utils.Database, user_id: str, lat: float, lon: float, default_area: str | None
) -> list[Message]:
    """The nearest bases; where no base has coordinates, say so and list the ward's bases."""
    area = _area_of(db, user_id, default_area)
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
