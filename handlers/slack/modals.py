"""The modals staff fill in (progress, FAQ, event, event cancel): their views and their values.

Each input's ``block_id`` is the field's name, so a field error from ``knowledge.store.audit.Invalid``
maps straight onto Slack's ``response_action: errors``. What the modal needs back on submit
(the channel it was opened from, its ward, the record it edits) travels in
``private_metadata`` as JSON; Slack returns it unchanged in the signed submission.
"""

from __future__ import annotations

import json

from handlers.slack import words
from knowledge.staff import events as events_mod
from knowledge.staff import faqs as faqs_mod
from knowledge.staff import progress as progress_mod
from knowledge.staff.events import EventInput
from knowledge.staff.progress import PERIODS

PROGRESS = "kb_progress"
FAQ = "kb_faq"
EVENT = "kb_event"
EVENT_CANCEL = "kb_event_cancel"
VALUE = "value"  # the action_id of every input
OPTION_TEXT_MAX = 75  # Slack: an option's text
OPTIONS_MAX = 100  # Slack: options of one static select
TITLE_MAX = 24  # Slack: a modal's title
INPUT_MAX = 3000  # Slack: a plain-text input's initial value and max_length
METADATA_MAX = 3000  # Slack: a view's private_metadata
WORDS_SEP = "、"


def _text(text: str, limit: int = 2000) -> dict:
    return {"type": "plain_text", "text": text[:limit]}


def _option(label: str, value: str) -> dict:
    return {"text": _text(label, OPTION_TEXT_MAX), "value": value}


def _input(block_id: str, label: str, element: dict, optional: bool = False, hint: str | None = None) -> dict:
    block = {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "element": {"action_id": VALUE} | element,
        "optional": optional,
    }
    if hint:
        block["hint"] = _text(hint)
    return block


def _plain(initial: str = "", multiline: bool = False, max_length: int = INPUT_MAX) -> dict:
    """A text input limited to what the bot accepts; a prefill longer than that is cut."""
    limit = min(max_length, INPUT_MAX)
    element = {"type": "plain_text_input", "multiline": multiline, "max_length": limit}
    if initial:
        element["initial_value"] = initial[:limit]
    return element


def _select(options: list[dict], initial: dict | None = None) -> dict:
    """A select of at most Slack's 100 options; the initial one is always among them."""
    if initial is not None and initial not in options[:OPTIONS_MAX]:
        options = [initial] + [o for o in options if o != initial]
    element = {"type": "static_select", "options": options[:OPTIONS_MAX]}
    if initial is not None:
        element["initial_option"] = initial
    return element


def _metadata(meta: dict) -> str:
    """``meta`` as JSON within Slack's limit: the response URL goes first when it must."""
    text = json.dumps(meta, ensure_ascii=False)
    if len(text) > METADATA_MAX:
        text = json.dumps({k: v for k, v in meta.items() if k != "response_url"}, ensure_ascii=False)
    return text


def _words_prefill(parent_words: str) -> str:
    """The words parents used, whole words only, within the FAQ's limit."""
    kept = ""
    for word in parent_words.split(WORDS_SEP):
        longer = f"{kept}{WORDS_SEP}{word}" if kept else word
        if len(longer) > faqs_mod.MAX_WORDS:
            break
        kept = longer
    return kept


def _view(callback_id: str, title: str, blocks: list[dict], meta: dict, submit: str = words.SUBMIT) -> dict:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": _text(title, TITLE_MAX),
        "submit": _text(submit, TITLE_MAX),
        "close": _text(words.CLOSE, TITLE_MAX),
        "blocks": blocks,
        "private_metadata": _metadata(meta),
    }


def progress_view(
    programs: list[dict],
    meta: dict,
    *,
    program_id: str | None = None,
    period: str | None = None,
    text: str = "",
    note: str | None = None,
) -> dict:
    """Program and period as select menus, the text prefilled with what the command said."""
    options = [_option(p["title"] + (f"（{p['area']}）" if p.get("area") else ""), p["id"]) for p in programs]
    initial = next((o for o in options if o["value"] == program_id), None)
    blocks = [{"type": "section", "text": _text(note)}] if note else []
    blocks += [
        _input("program", words.PROGRESS_PROGRAM, _select(options, initial)),
        _input(
            "period",
            words.PROGRESS_PERIOD,
            _select([_option(p, p) for p in PERIODS], _option(period, period) if period in PERIODS else None),
        ),
        _input("text", words.PROGRESS_TEXT, _plain(text, multiline=True, max_length=progress_mod.MAX_TEXT)),
    ]
    return _view(PROGRESS, words.PROGRESS_MODAL_TITLE, blocks, meta)


def faq_view(question: str, parent_words: str, meta: dict) -> dict:
    blocks = [
        _input("question", words.FAQ_QUESTION, _plain(question, max_length=faqs_mod.MAX_QUESTION)),
        _input("answer", words.FAQ_ANSWER, _plain(multiline=True, max_length=faqs_mod.MAX_ANSWER)),
        _input(
            "words",
            words.FAQ_WORDS,
            _plain(_words_prefill(parent_words), multiline=True, max_length=faqs_mod.MAX_WORDS),
            optional=True,
            hint=words.FAQ_WORDS_HINT,
        ),
    ]
    return _view(FAQ, words.FAQ_MODAL_TITLE, blocks, meta)


def event_view(meta: dict, bases: list[dict], inp: EventInput | None = None, dates: int = 0) -> dict:
    """Add (empty) or edit (``inp`` prefilled) an event; every field but the name is optional.
    ``dates``: how many dates the event has; above one, the modal says a day replaces them all."""
    inp = inp or EventInput()
    f = words.EVENT_FIELDS
    day = {"type": "datepicker"} | ({"initial_date": inp.day} if inp.day else {})
    start = {"type": "timepicker"} | ({"initial_time": inp.start_time} if inp.start_time else {})
    end = {"type": "timepicker"} | ({"initial_time": inp.end_time} if inp.end_time else {})
    blocks = [{"type": "section", "text": _text(words.EVENT_DATES_NOTE.format(n=dates))}] if dates > 1 else []
    blocks += [
        _input("title", f["title"], _plain(inp.title, max_length=events_mod.MAX_TITLE)),
        _input("day", f["day"], day, optional=True, hint=words.EVENT_WHEN_HINT),
        _input("start_time", f["start_time"], start, optional=True),
        _input("end_time", f["end_time"], end, optional=True),
        _input("recurrence", f["recurrence"], _plain(inp.recurrence, max_length=events_mod.MAX_TITLE), optional=True),
    ]
    if bases:
        options = [_option(b["name"], b["id"]) for b in bases]
        initial = next((o for o in options if o["value"] == inp.base_id), None)
        blocks.append(_input("base", f["base"], _select(options, initial), optional=True))
    for name in ("place", "ages", "capacity", "fee", "how_to_apply"):
        blocks.append(_input(name, f[name], _plain(getattr(inp, name), max_length=events_mod.MAX_TEXT), optional=True))
    blocks.append(
        _input(
            "description",
            f["description"],
            _plain(inp.description, multiline=True, max_length=events_mod.MAX_TEXT),
            optional=True,
        )
    )
    title = words.EVENT_MODAL_EDIT if meta.get("activity_id") else words.EVENT_MODAL_ADD
    return _view(EVENT, title, blocks, meta)


def cancel_view(title: str, meta: dict) -> dict:
    blocks = [{"type": "section", "text": _text(words.EVENT_CANCEL_CONFIRM.format(title=title))}]
    return _view(EVENT_CANCEL, words.EVENT_MODAL_CANCEL, blocks, meta, submit=words.EVENT_CANCEL_BUTTON)


def event_mode_view(db, mode: str, activity_id: str, meta: dict) -> dict:
    """The modal for an event in the base, by mode: its cancel confirmation, or its edit form
    filled in (a command naming the event and a button of the choices open the same one)."""
    if mode == "cancel":
        return cancel_view(events_mod.get(db, activity_id)["title"], meta)
    ward = meta.get("ward")
    return event_view(
        meta,
        events_mod.bases_in(db, ward),
        events_mod.as_input(db, activity_id),
        dates=events_mod.date_count(db, activity_id),
    )


def values(view: dict) -> dict[str, str]:
    """Each input's value as text ('' when left empty), by block id."""
    out = {}
    for block_id, actions in (view.get("state") or {}).get("values", {}).items():
        state = actions.get(VALUE) or next(iter(actions.values()), {})
        option = state.get("selected_option") or {}
        out[block_id] = (
            state.get("value") or option.get("value") or state.get("selected_date") or state.get("selected_time") or ""
        )
    return out


def meta(view: dict) -> dict:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def event_input(v: dict[str, str]) -> EventInput:
    return EventInput(
        title=v.get("title", ""),
        day=v.get("day", ""),
        start_time=v.get("start_time", ""),
        end_time=v.get("end_time", ""),
        recurrence=v.get("recurrence", ""),
        base_id=v.get("base", ""),
        place=v.get("place", ""),
        ages=v.get("ages", ""),
        capacity=v.get("capacity", ""),
        fee=v.get("fee", ""),
        how_to_apply=v.get("how_to_apply", ""),
        description=v.get("description", ""),
    )


def input_blocks(view: dict) -> list[str]:
    """The block ids of a view's inputs, in order."""
    return [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input" and b.get("block_id")]


def errors(invalid_errors: dict[str, str], present: list[str]) -> dict[str, str]:
    """``response_action: errors`` for the fields the view shows; a field it lacks (``base``
    when a ward has no bases, ``event``) lands on the first block shown."""
    mapped: dict[str, str] = {}
    field_of = {"base_id": "base"}
    for field, code in invalid_errors.items():
        block = field_of.get(field, field)
        if block not in present:
            block = next(iter(present), block)
        mapped.setdefault(block, words.field_error(field, code))
    return mapped
