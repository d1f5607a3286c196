"""What the bot says on LINE: one webhook event in, the messages of its reply out.

``respond`` is all the event threads (``handlers.line.transport``) ask of this module; it reads
and writes the parent's profile and asks ``knowledge``, but knows nothing of webhooks, threads or
the reply API. Typed commands are a table (``COMMANDS``, filled by ``@command``); setup's steps,
their questions and answers are ``handlers.line.setup``'s table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlite_utils
from linebot.v3.messaging import LocationAction, Message
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
from knowledge.parents import profiles as parents
from knowledge.settings import DEFAULTS, Settings
from knowledge.store import unanswered
from knowledge.store.areas import AreaError

logger = logging.getLogger(__name__)


def kind_of(event: Event) -> str:
    """An event's kind as log lines name it (``follow``, ``message/text``)."""
    kind = getattr(event, "type", None) or "unknown"
    message = getattr(event, "message", None)
    return f"{kind}/{message.type}" if message is not None and getattr(message, "type", None) else kind


def respond(
    db: sqlite_utils.Database, event: Event, default_area: str | None = None, settings: Settings = DEFAULTS
) -> list[Message]:
    """The reply to one event (empty when there is nothing to say or no one to say it to).

    The bot talks with one parent at a time: in a group or a room it only says, once invited,
    that it answers in a one-to-one chat, so no one's ward or child is shown to a group."""
    source = getattr(event, "source", None)
    user_id = getattr(source, "user_id", None) if getattr(source, "type", None) == "user" else None
    if user_id is None:
        return [text_message(words.GROUP_HINT)] if isinstance(event, JoinEvent) else _no_reply(event)
    sent_at = getattr(event, "timestamp", None)
    if isinstance(sent_at, int) and parents.unfollowed_after(db, user_id, sent_at):
        logger.info(
            "line event %s older than the parent's unfollow: not applied", getattr(event, "webhook_event_id", "-")
        )
        return []
    if isinstance(event, FollowEvent):
        parents.follow(db, user_id, step=setup.FIRST_STEP)
        return [text_message(words.WELCOME)] + setup.question(db, setup.FIRST_STEP)
    if isinstance(event, UnfollowEvent):
        parents.forget(db, user_id, at_ms=sent_at if isinstance(sent_at, int) else None)
        unanswered.forget(db, asker_of(user_id))
        return []
    if isinstance(event, PostbackEvent):
        return on_postback(db, user_id, event.postback.data, event.postback.params, default_area, settings)
    if isinstance(event, MessageEvent):
        return on_message(db, user_id, event.message, default_area, settings)
    return _no_reply(event)


def on_message(
    db: sqlite_utils.Database, user_id: str, content, default_area: str | None, settings: Settings = DEFAULTS
) -> list[Message]:
    """A parent's message: a text or a location is answered; anything else (a sticker, an
    image) gets a word on what the bot can read."""
    if isinstance(content, TextMessageContent):
        return on_text(db, user_id, content.text or "", default_area, settings)
    if isinstance(content, LocationMessageContent):
        return on_location(db, user_id, content.latitude, content.longitude, default_area)
    return finish([text_message(words.UNSUPPORTED)], follow_ups())


def _no_reply(event: Event) -> list[Message]:
    """Nothing to say; an event this SDK version cannot read is logged louder, as a sign the SDK
    needs updating."""
    if isinstance(event, UnknownEvent):  # a type or shape this SDK version does not know
        logger.warning(
            "line event %s (%s) not understood by the SDK: no reply",
            getattr(event, "webhook_event_id", "-"),
            kind_of(event),
        )
    else:
        logger.info("line event %s (%s) needs no reply", getattr(event, "webhook_event_id", "-"), kind_of(event))
    return []


def asker_of(user_id: str) -> str:
    """How a LINE user is named to the unanswered log (which keeps only a pseudonym of it)."""
    return f"line:{user_id}"


def on_postback(
    db: sqlite_utils.Database,
    user_id: str,
    data: str,
    params: dict | None,
    default_area: str | None,
    settings: Settings = DEFAULTS,
) -> list[Message]:
    """A tapped choice: setup's first, then the "more" bubble's every-event list; anything else
    (stale or garbled data) gets the help text rather than silence."""
    reply = setup.on_postback(db, user_id, data, params, settings.clock.today())
    if reply is not None:
        return reply
    fields = setup.data_of(data)
    if fields.get("a") == ACTION_ALL and fields.get("q"):
        return all_events(db, user_id, fields["q"], default_area, settings)
    return finish([text_message(words.HELP)], follow_ups())


def all_events(
    db: sqlite_utils.Database, user_id: str, question: str, default_area: str | None, settings: Settings = DEFAULTS
) -> list[Message]:
    """Every event of a listing as text (the carousel shows ten): the "more" bubble's button."""
    answer = _ask(db, user_id, question, _area_of(db, user_id, default_area), settings)
    if answer.listing is None or not answer.listing.entries:
        return answer_messages(answer)
    return finish([text_message(render.all_entries_text(answer.listing))], follow_ups())


COMMANDS: dict[str, Callable] = {}


def command(*names: str):
    """Register a typed command under each of its names (as ``words.typed_key`` reads them)."""

    def register(fn):
        for name in names:
            COMMANDS[words.typed_key(name)] = fn
        return fn

    return register


def on_text(
    db: sqlite_utils.Database, user_id: str, text: str, default_area: str | None, settings: Settings = DEFAULTS
) -> list[Message]:
    """A typed text: a command, else an answer to the setup step the parent is at, else a
    question. A parent without a ward is asked for it after the answer, on its last message."""
    parent = parents.get(db, user_id)
    handler = COMMANDS.get(words.typed_key(text))
    if handler is not None:
        return handler(db, user_id, parent)
    typed = setup.on_text(db, user_id, parent, text, settings.clock.today())
    if typed is not None:
        return typed
    answer = _ask(db, user_id, text, (parent.area if parent else None) or default_area, settings)
    messages = answer_messages(answer)
    if (parent is None or not parent.area) and len(messages) < MAX_MESSAGES:
        if parent is None:  # a friend from before the webhook was connected: set up now
            parents.update(db, user_id, step=setup.STEP_AREA)
        messages = messages + setup.area_question(db)[-1:]  # the ward question (its quick replies last)
    return messages


def _ask(db: sqlite_utils.Database, user_id: str, text: str, area: str | None, settings: Settings = DEFAULTS):
    """``knowledge.ask`` for this parent; an area the base no longer knows is not an error."""
    try:
        return ask(db, text, area=area, asker=asker_of(user_id), settings=settings)
    except AreaError:
        logger.warning("area %r is not in the base: answering without an area", area)
        return ask(db, text, area=None, asker=asker_of(user_id), settings=settings)


def _area_of(db: sqlite_utils.Database, user_id: str, default_area: str | None) -> str | None:
    """The parent's ward, else the deploy's default area (a parent not yet set up)."""
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
    """The digest on again; without a ward there is nothing to send, so the ward is asked."""
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
