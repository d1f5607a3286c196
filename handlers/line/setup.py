"""Setup by quick replies: the parent's ward, then (optionally) the child's birth or due month.

The steps are kept in the parent's row (``knowledge.parents.profiles``, ``step``), so they survive a
restart and a parent can answer minutes later. Choices travel as postback data
(``a=area&v=横浜市旭区``), ≤ 300 characters. A city with more wards than one quick reply holds
is asked first, its wards then shown a page at a time. A parent who answered is not asked
again; 「設定」 starts over on purpose.
"""

from __future__ import annotations

import logging
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
STEP_AREA = "area"
STEP_CHILD = "child"


def data_of(raw: str) -> dict[str, str]:
    """Postback data as a dict (unknown or garbled data gives an empty one)."""
    try:
        return {k: v[0] for k, v in parse_qs(raw or "", max_num_fields=10).items()}
    except ValueError:
        return {}


def start(db: sqlite_utils.Database, user_id: str, *, again: bool = False) -> list[Message]:
    """The first question of setup (after a follow, or on 「設定」 with the current settings)."""
    parent = (
        parents.update(db, user_id, step=STEP_AREA, child_asked=False)
        if again
        else parents.update(db, user_id, step=STEP_AREA)
    )
    lead = [text_message(summary(parent))] if again else []
    return lead + area_question(db)


def summary(parent: Parent) -> str:
    if parent.child_month:
        year, month = parent.child_month.split("-")
        child = (words.CHILD_DUE if parent.child_due else words.CHILD_BIRTH).format(year=year, month=int(month))
    else:
        child = words.CHILD_NONE
    digest = words.DIGEST_OFF_WORD if parent.digest_off else words.DIGEST_ON_WORD
    return words.SETUP_NOW.format(area=parent.area or words.AREA_UNSET, child=child, digest=digest)


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


ACTION_AREA = "area"
ACTION_CITY = "city"
ACTION_CITIES = "cities"
ACTION_BIRTH = "birth"
ACTION_DUE = "due"
ACTION_SKIP = "skip"


def on_postback(db: sqlite_utils.Database, user_id: str, raw: str, params: dict | None) -> list[Message] | None:
    """The reply to a setup choice; None when the data is not setup's."""
    data = data_of(raw)
    action = data.get("a")
    if action == ACTION_CITIES:
        return area_question(db, page=_int(data.get("p")), cities=True)
    if action == ACTION_CITY:
        return area_question(db, data.get("v"), _int(data.get("p")))
    if action == ACTION_AREA:
        return choose_area(db, user_id, data.get("v", ""))
    if action in (ACTION_BIRTH, ACTION_DUE):
        return choose_child(db, user_id, (params or {}).get("date"), due=action == ACTION_DUE)
    if action == ACTION_SKIP:
        parent = parents.update(db, user_id, child_asked=True, step=None)
        return [text_message(words.CHILD_SKIPPED)] + _next(parent)
    return None


def choose_area(db: sqlite_utils.Database, user_id: str, name: str) -> list[Message]:
    try:
        area = areas.resolve(db, name)
    except areas.AreaError:
        area = None
    if not area:
        return area_question(db)
    parent = parents.get(db, user_id)
    step = None if parent and parent.child_asked else STEP_CHILD
    parent = parents.update(db, user_id, area=area, step=step)
    return [text_message(words.AREA_SET.format(area=area))] + _next(parent)


def choose_child(db: sqlite_utils.Database, user_id: str, raw_date: str | None, *, due: bool) -> list[Message]:
    try:
        day = date.fromisoformat(raw_date or "")
        parent = parents.set_child(db, user_id, day, due=due)
    except ValueError:
        return finish([text_message(words.CHILD_BAD_DATE)], child_actions())
    said = (words.CHILD_SET_DUE if due else words.CHILD_SET_BIRTH).format(year=day.year, month=day.month)
    return [text_message(said)] + _next(parent)


def _next(parent: Parent) -> list[Message]:
    """What setup asks next, or that it is done."""
    if not parent.area:
        return [text_message(words.SUGGEST_SETUP)]
    if not parent.child_asked:
        return child_question()
    return [text_message(words.SETUP_DONE)]


def child_question() -> list[Message]:
    return finish([text_message(words.ASK_CHILD)], child_actions())


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


def typed_area(db: sqlite_utils.Database, user_id: str, text: str) -> list[Message] | None:
    """A parent asked for their ward who types it (旭区) instead of tapping: take it."""
    if len(text) > 20:
        return None
    try:
        area = areas.resolve(db, text)
    except areas.AreaError:
        return None
    return choose_area(db, user_id, area) if area else None


def _int(raw: str | None) -> int:
    try:
        return max(0, int(raw or 0))
    except ValueError:
        return 0
