"""A weekly digest (``knowledge.parents.digest.Digest``) as LINE messages.

One Flex carousel: a bubble per event (``line_render.event_bubble``, the same card as a listing's)
up to ``MAX_EVENT_BUBBLES``, then a "more" bubble counting the rest; its ``altText`` is what a
phone's notification shows, so it starts with the headline (whose week, how many events) and
the first events, cut to whole lines within LINE's 1,500 characters. An empty week is a text
message with the ward's note (the planner never gives an empty digest without one).

The messages are stored as JSON in the ledger before they are sent (``payload``), and a
retried batch is rebuilt from that JSON (``from_payload``): a retry sends exactly what the
first attempt sent.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from linebot.v3.messaging import FlexCarousel, FlexMessage, Message

from handlers.line import render
from knowledge.lang import clock
from knowledge.parents import digest as digest_mod
from knowledge.parents.digest import Digest

MAX_EVENT_BUBBLES = 10  # the cap; with the "more" bubble 11, within LINE's 12


def messages(digest: Digest, today: date | None = None) -> list[Message]:
    """The one message a parent gets for the week."""
    if digest.empty:
        return [render.text_message(digest_mod.text(digest))]
    bubbles = [render.event_bubble(e, with_area=digest.by_ward) for e in digest.events[:MAX_EVENT_BUBBLES]]
    rest = len(digest.events) - len(bubbles)
    if rest:
        bubbles.append(render.more_bubble(rest, _label(digest.week, today)))
    return [FlexMessage(alt_text=alt_text(digest), contents=FlexCarousel(contents=bubbles))]


def alt_text(digest: Digest) -> str:
    """The notification's text: the headline, then the events as short lines."""
    lines = [digest_mod.headline(digest)]
    lines += [f"・{digest_mod.short_day(e.day)} {e.title}" for e in digest.events]
    return render.alt_text("\n".join(lines))


def _label(week: date, today: date | None) -> str:
    """The words a parent can send for the same week's listing (今週 / 来週), when there are."""
    today = today or clock.today()
    monday = today - timedelta(days=today.weekday())
    if week == monday:
        return "今週"
    if week == monday + timedelta(days=7):
        return "来週"
    return ""


def payload(msgs: list[Message]) -> str:
    """The messages as the JSON LINE receives (what the ledger keeps)."""
    return json.dumps([m.to_dict() for m in msgs], ensure_ascii=False, separators=(",", ":"))


def from_payload(text: str) -> list[dict]:
    """The stored messages, as the dicts a request is built from."""
    return json.loads(text)


def preview(digest: Digest, today: date | None = None) -> tuple[str, str]:
    """What a parent would get, for staff: the text version and the Flex JSON."""
    msgs = messages(digest, today)
    return digest_mod.text(digest), json.dumps([m.to_dict() for m in msgs], ensure_ascii=False, indent=2)
