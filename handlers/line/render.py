"""An ``Answer`` (and the setup and place replies) as LINE messages, within LINE's limits.

What a parent sees: a listing's events and the answers about events and support bases as a
Flex carousel (one bubble each, at most ``MAX_BUBBLES``), a single fact or an FAQ as plain
text, and quick replies on the last message (LINE shows only that one's). Every message stays
within what the Messaging API accepts, or the parent gets nothing: texts are cut to
``MAX_TEXT``, ``altText`` to ``MAX_ALT_TEXT``, labels to ``MAX_LABEL``, quick replies to
``MAX_QUICK_REPLIES`` items and a reply to ``MAX_MESSAGES`` messages
(developers.line.biz/en/reference/messaging-api). The words are ``knowledge.answers.wording``'s, the
same as every channel's, carried by the ``Answer`` (a card's lines, link and place on its item, a
listing's head in its words): nothing here reads the base or takes a text apart. LINE's own words
live in ``handlers.line.words``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from linebot.v3.messaging import (
    Action,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexText,
    LocationAction,
    Message,
    MessageAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
    URIAction,
)

from handlers.line import words
from knowledge.answers.ask import Answer, Item, shown_beside
from knowledge.answers.listings import Listed, Listing
from knowledge.answers.places import Place
from knowledge.answers.wording import ListingWords
from knowledge.lang.dates import WEEKDAYS

if TYPE_CHECKING:
    pass

MAX_MESSAGES = 5  # per reply or push
MAX_TEXT = 5000  # characters of a text message
MAX_ALT_TEXT = 1500  # characters of a Flex message's altText
MAX_BUBBLES = 10  # the cap (LINE allows 12): ten events and a "more" bubble at most
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20  # characters of a quick reply's or a button's label
MAX_ACTION_TEXT = 300  # characters a message action sends, and a postback's data
MAX_URI = 1000
MAX_BUBBLE_LINES = 8  # lines of an answer shown in its bubble; the rest is in the text answer
MAX_LINE = 200  # characters of one line in a bubble
ACCENT = "#E8736C"  # titles and dates: a warm colour that reads on white
MUTED = "#888888"
URL = re.compile(r"https?://\S+")
CARD_KINDS = ("activity", "base")
ACTION_ALL = "all"  # postback: every event of a listing as text (the "more" bubble's button)


def units(text: str) -> int:
    """Length as LINE counts texts: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` UTF-16 units (LINE's count; labels, counted in graphemes,
    are never longer), marked with … when cut. Never splits a character."""
    text = text or ""
    if units(text) <= limit:
        return text
    kept, size = [], 1  # room for the …
    for ch in text:
        size += 2 if ord(ch) > 0xFFFF else 1
        if size > limit:
            break
        kept.append(ch)
    return "".join(kept) + "…"


def safe_uri(raw: str | None) -> str | None:
    """A link LINE accepts: the first http(s) URL of a cell, non-ASCII percent-encoded, at most
    ``MAX_URI`` characters; None when there is none."""
    match = URL.search(raw or "")
    if not match:
        return None
    uri = quote(match.group(0).rstrip("）)、。,."), safe=":/?#[]@!$&'()*+,;=%~-._")
    return uri if len(uri) <= MAX_URI else None


def text_message(text: str, quick: list[Action] | None = None) -> TextMessage:
    return TextMessage(text=cut(text, MAX_TEXT) or "…", quick_reply=quick_reply(quick))


def quick_reply(actions: list[Action] | None) -> QuickReply | None:
    if not actions:
        return None
    return QuickReply(items=[QuickReplyItem(action=a) for a in actions[:MAX_QUICK_REPLIES]])


def say(label: str, text: str | None = None) -> MessageAction:
    """A button that sends ``text`` (default: its label) as the parent's message."""
    return MessageAction(label=cut(label, MAX_LABEL), text=cut(text or label, MAX_ACTION_TEXT))


def postback(label: str, display: str | None = None, **data: str) -> PostbackAction:
    encoded = urlencode(data)
    if len(encoded) > MAX_ACTION_TEXT:
        raise ValueError(f"postback data over {MAX_ACTION_TEXT} characters: {encoded[:60]}…")
    return PostbackAction(
        label=cut(label, MAX_LABEL), data=encoded, display_text=cut(display or label, MAX_ACTION_TEXT)
    )


def follow_ups(answer: Answer | None = None) -> list[Action]:
    """The 「もしかして」 suggestions first, then what a parent often asks next."""
    actions: list[Action] = [say(s.title) for s in (answer.suggestions if answer else [])]
    actions += [
        say(words.QR_THIS_WEEK),
        say(words.QR_NEXT_WEEK),
        LocationAction(label=words.QR_NEAR),
        say(words.QR_SETUP),
    ]
    return actions[:MAX_QUICK_REPLIES]


def finish(messages: list[Message], quick: list[Action] | None) -> list[Message]:
    """At most ``MAX_MESSAGES``, with the quick replies on the last one (LINE shows only its)."""
    messages = messages[:MAX_MESSAGES]
    if quick and messages:
        messages[-1].quick_reply = quick_reply(quick)
    return messages


# --- answers -----------------------------------------------------------------------------


def answer_messages(answer: Answer) -> list[Message]:
    """The reply to a question: a carousel for a listing or for events and bases, else text,
    drawn from the answer alone (it carries what is shown)."""
    if answer.listing is not None:
        asked = answer.understanding.question if answer.understanding else ""
        messages = listing_messages(answer.listing, answer.listing_words, asked)
    elif answer.answered and _as_cards(answer):
        messages = [card_carousel(answer)]
    else:
        messages = [text_message(answer.text)]
    return finish(messages, follow_ups(answer))


def _as_cards(answer: Answer) -> bool:
    """Events and bases asked about in general get cards; a single fact (いつ, どこ, 対象) is
    answered in words, as are programs and FAQs."""
    u = answer.understanding
    return answer.items[0].kind in CARD_KINDS and not (u and u.intent)


def card_carousel(answer: Answer) -> FlexMessage:
    best = answer.items[0]
    shown = [best] + [i for i in answer.items[1:] if i.kind in CARD_KINDS and shown_beside(i)]
    bubbles = [answer_bubble(item) for item in shown[:MAX_BUBBLES]]
    return FlexMessage(alt_text=alt_text(answer.text), contents=FlexCarousel(contents=bubbles))


def answer_bubble(item: Item) -> FlexBubble:
    """One record's card: its title, then the lines of its answer (the same words as the text
    answer), with its link and, for a place, its map as buttons."""
    body = [_line(line) for line in item.lines[:MAX_BUBBLE_LINES]]
    buttons = []
    link = safe_uri(item.url)
    if link:
        buttons.append(_button(URIAction(label=words.BTN_DETAILS, uri=link)))
    where = map_link(item.lat, item.lon, item.address)
    if where:
        buttons.append(_button(URIAction(label=words.BTN_MAP, uri=where)))
    return _bubble(item.title, body, buttons)


def alt_text(text: str) -> str:
    """A notification's worth: whole lines up to ``MAX_ALT_TEXT`` units."""
    if units(text) <= MAX_ALT_TEXT:
        return text or "…"
    kept, size = [], 0
    for line in text.split("\n"):
        if size + units(line) + 1 > MAX_ALT_TEXT - 1:
            break
        kept.append(line)
        size += units(line) + 1
    return ("\n".join(kept) + "…") if kept else cut(text, MAX_ALT_TEXT)


# --- listings ----------------------------------------------------------------------------


def listing_messages(listing: Listing, said: ListingWords, question: str = "") -> list[Message]:
    """The window's events as a carousel; an empty window in words (with the next events as a
    carousel when some were found after it)."""
    text = said.text
    if not listing.entries and not listing.offered:
        return [text_message(text)]
    bubbles = [
        event_bubble(e, with_area=listing.area is None or listing.by_ward or listing.offered_elsewhere)
        for e in listing.visible[:MAX_BUBBLES]
    ]
    more = listing.more
    if more:
        bubbles = bubbles[: MAX_BUBBLES - 1] if len(bubbles) >= MAX_BUBBLES else bubbles
        more += len(listing.visible) - len(bubbles)
        bubbles.append(more_bubble(more, question))
    carousel = FlexMessage(alt_text=alt_text(text), contents=FlexCarousel(contents=bubbles))
    if listing.entries:
        return [carousel]
    return [text_message(said.head), carousel]  # "nothing then; the next ones:" then the cards


def event_bubble(entry: Listed, with_area: bool = False) -> FlexBubble:
    when = f"{entry.day.month}月{entry.day.day}日（{WEEKDAYS[entry.day.weekday()]}）" + (
        f" {entry.time}" if entry.time else ""
    )
    lines = [_labelled(words.WHEN, when)]
    if entry.place:
        lines.append(_labelled(words.PLACE, entry.place))
    if entry.audience:
        lines.append(_labelled(words.WHO, entry.audience))
    if with_area and entry.area:
        lines.append(_line(entry.area, color=MUTED))
    if entry.sample:
        lines.append(_line(words.DEMO_NOTE, color=MUTED))
    return _bubble(entry.title, lines, [_button(say(words.BTN_DETAILS, entry.title))])


def more_bubble(count: int, question: str = "") -> FlexBubble:
    """How many more there are, and a button that asks again for all of them as text (when the
    question fits a postback's data)."""
    try:
        button = [_button(postback(words.BTN_ALL_EVENTS, a=ACTION_ALL, q=question))] if question else []
    except ValueError:
        button = []
    hint = [_line(words.MORE_EVENTS_HINT)] if button else [_line("…")]
    return _bubble(words.MORE_EVENTS.format(count=count), hint, button)


# --- places ------------------------------------------------------------------------------


def place_carousel(places: list[Place], head: str) -> list[Message]:
    if not places:
        return [text_message(head)]
    bubbles = [place_bubble(p) for p in places[:MAX_BUBBLES]]
    lines = [head] + [f"・{p.name}" + (f"（{distance(p.km)}）" if p.km is not None else "") for p in places]
    return [
        text_message(head),
        FlexMessage(alt_text=alt_text("\n".join(lines)), contents=FlexCarousel(contents=bubbles)),
    ]


def place_bubble(place: Place) -> FlexBubble:
    lines = []
    if place.km is not None:
        lines.append(_line(distance(place.km), color=ACCENT, bold=True))
    for label, value in ((words.ADDRESS, place.address), (words.HOURS, place.hours), (words.PHONE, place.phone)):
        if value:
            lines.append(_labelled(label, value))
    if place.area:
        lines.append(_line(place.area, color=MUTED))
    buttons = []
    link = map_link(place.lat, place.lon, place.address)
    if link:
        buttons.append(_button(URIAction(label=words.BTN_MAP, uri=link)))
    if safe_uri(place.url):
        buttons.append(_button(URIAction(label=words.BTN_DETAILS, uri=safe_uri(place.url))))
    return _bubble(place.name, lines or [_line(place.kind or "…")], buttons)


def distance(km: float) -> str:
    return words.M.format(m=int(round(km * 1000, -1))) if km < 1 else words.KM.format(km=f"{km:.1f}")


def map_link(lat, lon, address: str | None) -> str | None:
    """A map search for the place: by coordinates when known, else by its address."""
    if lat is not None and lon is not None:
        return f"https://www.google.com/maps/search/?api=1&query={float(lat):.6f},{float(lon):.6f}"
    if address:
        link = "https://www.google.com/maps/search/?api=1&query=" + quote(address)
        return link if len(link) <= MAX_URI else None
    return None


# --- building blocks ---------------------------------------------------------------------


def _bubble(title: str, lines: list, buttons: list) -> FlexBubble:
    header = FlexBox(
        layout="vertical",
        contents=[FlexText(text=cut(title, MAX_LINE) or "…", weight="bold", size="md", wrap=True, color=ACCENT)],
    )
    body = FlexBox(layout="vertical", spacing="sm", contents=lines or [_line("…")])
    footer = FlexBox(layout="vertical", spacing="sm", contents=buttons) if buttons else None
    return FlexBubble(header=header, body=body, footer=footer)


def _line(text: str, *, color: str | None = None, bold: bool = False) -> FlexText:
    return FlexText(text=cut(text, MAX_LINE) or "…", size="sm", wrap=True, color=color, weight="bold" if bold else None)


def _labelled(label: str, value: str) -> FlexBox:
    return FlexBox(
        layout="baseline",
        spacing="sm",
        contents=[
            FlexText(text=label, size="sm", color=MUTED, flex=1),
            FlexText(text=cut(value, MAX_LINE) or "…", size="sm", wrap=True, flex=4),
        ],
    )


def _button(action: Action) -> FlexButton:
    return FlexButton(action=action, style="link", height="sm")
