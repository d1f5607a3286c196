"""Setup by quick replies: the parent's ward, then (optionally) the child's birth or due month.

Setup is a table of steps, ``STEPS`` (as python-telegram-bot's ``conversationbot.py`` keeps a
conversation as a table of states): for each step, the question that opens it, the postback
actions and the typed text that answer it, and the step that follows. Everything else here either
builds a question or keeps an answer; ``start``, ``on_postback`` and ``on_text`` walk the table.

The step a parent is at is kept in their row (``knowledge.parents.profiles``, ``step``: ``area``,
``child``, or None once done), so it survives a restart and a parent can answer minutes later.
Choices travel as postback data (``a=area&v=横浜市旭区``), ≤ 300 characters, and are taken
whatever the step (a quick reply tapped late still answers); typed text answers only the step the
parent is at. A city with more wards than one quick reply holds is asked first, its wards then
shown a page at a time. A step already answered is passed over; 「設定」 starts over on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs

import sqlite_utils
from linebot.v3.messaging import Action, DatetimePickerAction, Message

from handlers.line import words
from handlers.line.render import MAX_QUICK_REPLIES, finish, postback, text_message
from knowledge.lang import clock
from knowledge.parents import profiles as parents
from knowledge.parents.profiles import Parent
from knowledge.store import areas

logger = logging.getLogger(__name__)
PAGE = MAX_QUICK_REPLIES - 2  # choices a page shows, leaving room for ほかの区 and ほかの市

# the steps, as kept in the parents' rows (existing rows hold these very strings)
STEP_AREA = "area"
STEP_CHILD = "child"
FIRST_STEP = STEP_AREA

# the postback actions (``a=``), as the quick replies and date pickers already sent carry them
ACTION_AREA = "area"
ACTION_CITY = "city"
ACTION_CITIES = "cities"
ACTION_BIRTH = "birth"
ACTION_DUE = "due"
ACTION_SKIP = "skip"

# (db, user_id, the postback's fields, the date picker's params, the parent's day) -> the reply
Answer = Callable[[sqlite_utils.Database, str, dict[str, str], dict | None, date | None], list[Message]]
# (db, user_id, the text, the parent's day) -> the reply, or None when the text does not answer the step
Typed = Callable[[sqlite_utils.Database, str, str, date | None], list[Message] | None]


@dataclass(frozen=True)
class Step:
    """One row of the setup table."""

    asks: Callable[[sqlite_utils.Database, date | None], list[Message]]  # the question that opens the step
    postbacks: dict[str, Answer]  # the actions that answer it (or turn the question's page)
    typed: Typed  # a typed answer, taken while the parent is at this step
    answered: Callable[[Parent], bool]  # the row holds the answer already: the step is passed over
    then: str | None  # the step that follows; None: setup is done


# --- the questions ---------------------------------------------------------------------------


def area_question(
    db: sqlite_utils.Database, city: str | None = None, page: int = 0, cities: bool = False
) -> list[Message]:
    """Wards to pick from: all of them when they fit one quick reply, else the city first
    (``cities``: the list of cities, as ほかの市 asks)."""
    by_city = areas.choices(db)
    if not by_city:
        return [text_message(words.NO_AREAS)]
    every = [a for wards in by_city.values() for a in wards]
    if not cities and city is None and len(every) <= MAX_QUICK_REPLIES:
        return finish([text_message(words.ASK_AREA)], _area_choices(every, full=len(by_city) > 1))
    if not cities and city is None and len(by_city) == 1:
        city = next(iter(by_city))
    if cities or city not in by_city:
        # a city without wards is chosen as it is; a city with wards asks which ward next
        actions = [_choice(c, a=ACTION_AREA if by_city[c] == [c] else ACTION_CITY, v=c) for c in by_city]
        return _page([text_message(words.ASK_CITY)], [a for a in actions if a], page, more=dict(a=ACTION_CITIES))
    actions = _area_choices(by_city[city], full=False)
    tail = [postback(words.QR_OTHER_CITY, a=ACTION_CITIES)] if len(by_city) > 1 else []
    return _page(
        [text_message(words.ASK_AREA_OF_CITY.format(city=city))],
        actions,
        page,
        more=dict(a=ACTION_CITY, v=city),
        tail=tail,
    )


def _page(
    messages: list[Message], actions: list[Action], page: int, *, more: dict, tail: list[Action] | None = None
) -> list[Message]:
    """One page of choices, with 次の候補 (``more``, the next page, round to the first) when
    they do not fit one quick reply."""
    pages = max(1, -(-len(actions) // PAGE))
    page = page % pages
    shown = actions[page * PAGE : (page + 1) * PAGE]
    if pages > 1:
        shown.append(postback(words.QR_MORE_AREAS, **more, p=str(page + 1)))
    return finish(messages, shown + (tail or []))


def _area_choices(names: list[str], *, full: bool) -> list[Action]:
    return [a for a in (_choice(_label(n, full), a=ACTION_AREA, v=n) for n in names) if a]


def _choice(label: str, **data: str) -> Action | None:
    """A postback choice; None (logged) for a name too long for LINE's 300-character data."""
    try:
        return postback(label, **data)
    except ValueError:
        logger.warning("area %r left out of the setup choices: its name is too long for a postback", data.get("v"))
        return None


def _label(area: str, full: bool) -> str:
    """A ward by its own name (旭区) when the city is clear, else in full (横浜市旭区)."""
    if full:
        return area
    city, ward = areas.split_city_ward(area)
    return ward or city


def child_question(today: date | None = None) -> list[Message]:
    """The child step's question: its date pickers (bounded by the parent's day), and スキップ."""
    return finish([text_message(words.ASK_CHILD)], child_actions(today))


def child_actions(today: date | None = None) -> list[Action]:
    """Date pickers bounded to the dates the base accepts, and スキップ."""
    today = today or clock.today()
    earliest, latest = parents.child_date_bounds(today)
    return [
        DatetimePickerAction(
            label=words.QR_BIRTH,
            data=f"a={ACTION_BIRTH}",
            mode="date",
            initial=(today - timedelta(days=365)).isoformat(),
            min=earliest.isoformat(),
            max=today.isoformat(),
        ),
        DatetimePickerAction(
            label=words.QR_DUE,
            data=f"a={ACTION_DUE}",
            mode="date",
            initial=(today + timedelta(days=90)).isoformat(),
            min=today.isoformat(),
            max=latest.isoformat(),
        ),
        postback(words.QR_SKIP, a=ACTION_SKIP),
    ]


# --- the answers -----------------------------------------------------------------------------


def _cities_tapped(db, user_id, data, params, today) -> list[Message]:
    """ほかの市, or the next page of cities: the ward question turned to the cities."""
    return area_question(db, page=_int(data.get("p")), cities=True)


def _city_tapped(db, user_id, data, params, today) -> list[Message]:
    """A city, or the next page of its wards: the ward question turned to that city."""
    return area_question(db, data.get("v"), _int(data.get("p")))


def _area_tapped(db, user_id, data, params, today) -> list[Message]:
    return choose_area(db, user_id, data.get("v", ""), today)


def typed_area(db: sqlite_utils.Database, user_id: str, text: str, today: date | None = None) -> list[Message] | None:
    """A parent asked for their ward who types it (旭区) instead of tapping: take it."""
    text = text.strip()
    if len(text) > 20:
        return None
    try:
        area = areas.resolve(db, text)
    except areas.AreaError:
        return None
    return choose_area(db, user_id, area, today) if area else None


def choose_area(db: sqlite_utils.Database, user_id: str, name: str, today: date | None = None) -> list[Message]:
    """Keep the ward and the step that follows in one write; a name the base does not know
    (renamed since the quick reply was sent) asks again."""
    try:
        area = areas.resolve(db, name)
    except areas.AreaError:
        area = None
    if not area:
        return area_question(db)
    following = _following(STEP_AREA, parents.get(db, user_id))
    parent = parents.update(db, user_id, area=area, step=following)
    return [text_message(words.AREA_SET.format(area=area))] + _what_follows(db, parent, following, today)


def _birth_tapped(db, user_id, data, params, today) -> list[Message]:
    return choose_child(db, user_id, (params or {}).get("date"), due=False, today=today)


def _due_tapped(db, user_id, data, params, today) -> list[Message]:
    return choose_child(db, user_id, (params or {}).get("date"), due=True, today=today)


def choose_child(
    db: sqlite_utils.Database, user_id: str, raw_date: str | None, *, due: bool, today: date | None = None
) -> list[Message]:
    """Keep the month of the date picked; a date no child the bot serves could have asks again.
    ``set_child`` passes the step itself (the row's step becomes None, the child step's ``then``)."""
    try:
        day = date.fromisoformat(raw_date or "")
        parent = parents.set_child(db, user_id, day, due=due, today=today)
    except ValueError:
        return finish([text_message(words.CHILD_BAD_DATE)], child_actions(today))
    said = (words.CHILD_SET_DUE if due else words.CHILD_SET_BIRTH).format(year=day.year, month=day.month)
    return [text_message(said)] + _what_follows(db, parent, _following(STEP_CHILD, parent), today)


def _skip_tapped(db, user_id, data, params, today) -> list[Message]:
    """スキップ: the child step counts as answered, with nothing kept."""
    following = _following(STEP_CHILD, None)
    parent = parents.update(db, user_id, child_asked=True, step=following)
    return [text_message(words.CHILD_SKIPPED)] + _what_follows(db, parent, following, today)


def _typed_skip(db: sqlite_utils.Database, user_id: str, text: str, today: date | None = None) -> list[Message] | None:
    """スキップ (or あとで...) typed at the child step: as if the button were tapped."""
    return _skip_tapped(db, user_id, {}, None, today) if words.typed_key(text) in words.SKIP_WORDS else None


# --- the table -------------------------------------------------------------------------------

STEPS: dict[str, Step] = {
    STEP_AREA: Step(
        asks=lambda db, today: area_question(db),
        postbacks={ACTION_AREA: _area_tapped, ACTION_CITY: _city_tapped, ACTION_CITIES: _cities_tapped},
        typed=typed_area,
        answered=lambda parent: bool(parent.area),
        then=STEP_CHILD,
    ),
    STEP_CHILD: Step(
        asks=lambda db, today: child_question(today),  # nothing from the base
        postbacks={ACTION_BIRTH: _birth_tapped, ACTION_DUE: _due_tapped, ACTION_SKIP: _skip_tapped},
        typed=_typed_skip,
        answered=lambda parent: parent.child_asked,
        then=None,
    ),
}
# every step's postback actions, each answered whatever step the parent is at
POSTBACKS: dict[str, Answer] = {action: answer for step in STEPS.values() for action, answer in step.postbacks.items()}


# --- walking the table -----------------------------------------------------------------------


def question(db: sqlite_utils.Database, step: str, today: date | None = None) -> list[Message]:
    """The question that opens ``step`` (``today``: the parent's day, which bounds the date pickers)."""
    return STEPS[step].asks(db, today)


def start(db: sqlite_utils.Database, user_id: str, *, again: bool = False) -> list[Message]:
    """The first step's question (after a follow, or on 「設定」 with the current settings, the
    child's step then asked again too)."""
    if not again:
        parents.update(db, user_id, step=FIRST_STEP)
        return question(db, FIRST_STEP)
    parent = parents.update(db, user_id, step=FIRST_STEP, child_asked=False)
    return [text_message(summary(parent))] + question(db, FIRST_STEP)


def on_postback(
    db: sqlite_utils.Database, user_id: str, raw: str, params: dict | None, today: date | None = None
) -> list[Message] | None:
    """The reply to a setup choice; None when the data is not setup's. ``today`` is the parent's
    day on the deploy's clock (Japan's when not given)."""
    data = data_of(raw)
    answer = POSTBACKS.get(data.get("a", ""))
    return answer(db, user_id, data, params, today) if answer is not None else None


def on_text(
    db: sqlite_utils.Database, user_id: str, parent: Parent | None, text: str, today: date | None = None
) -> list[Message] | None:
    """A typed answer to the step the parent is at; None when the text answers nothing there (a
    question). A step this version does not know (an older one's ``city:…``) takes no text."""
    step = STEPS.get(parent.step) if parent is not None and parent.step else None
    return step.typed(db, user_id, text, today) if step is not None else None


def _following(step: str, parent: Parent | None) -> str | None:
    """The step after ``step`` still to answer (None: setup is done); a parent not read (None)
    has answered none of them."""
    following = STEPS[step].then
    while following is not None and parent is not None and STEPS[following].answered(parent):
        following = STEPS[following].then
    return following


def _what_follows(db: sqlite_utils.Database, parent: Parent, step: str | None, today: date | None) -> list[Message]:
    """The question of the step that follows, else how setup ends: done, or (no ward yet: a child
    picker tapped with none chosen) a word on what choosing one brings."""
    if step is not None:
        return question(db, step, today)
    return [text_message(words.SETUP_DONE if parent.set_up else words.SUGGEST_SETUP)]


# --- helpers -------------------------------------------------------------------------------


def summary(parent: Parent) -> str:
    """What is kept of the parent, shown before 「設定」 asks again."""
    if parent.child_month:
        year, month = parent.child_month.split("-")
        child = (words.CHILD_DUE if parent.child_due else words.CHILD_BIRTH).format(year=year, month=int(month))
    else:
        child = words.CHILD_NONE
    digest = words.DIGEST_OFF_WORD if parent.digest_off else words.DIGEST_ON_WORD
    return words.SETUP_NOW.format(area=parent.area or words.AREA_UNSET, child=child, digest=digest)


def data_of(raw: str) -> dict[str, str]:
    """Postback data as a dict (unknown or garbled data gives an empty one)."""
    try:
        return {k: v[0] for k, v in parse_qs(raw or "", max_num_fields=10).items()}
    except ValueError:
        return {}


def _int(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0
