"""Answers, sheets, listings and logs as Slack Block Kit: what staff see in their replies.

Only the dress is made here; the words parents read come from ``knowledge.answers.wording`` (an
``Answer``'s text, its listing's words and event lines), the words staff read from
``handlers.slack.words``. Nothing here reads the base or takes an answer's text apart.
Slack limits a section's text to 3,000 characters and a message to 50 blocks: long texts are
cut into sections and long lists are counted, not dropped silently.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo

from handlers.slack import words
from knowledge.answers import wording as render
from knowledge.lang.clock import JAPAN
from knowledge.staff.sheet import Sheet, months_text, title_line

SECTION_MAX = 2900  # characters of one section's text (Slack: 3,000)
MAX_BLOCKS = 48  # of one message (Slack: 50), room left for a closing note
AUDIT_VALUE_MAX = 300  # characters of a before/after shown in the audit reply
SCHEDULE_BLOCKS = 6  # sections the schedule of one period may take in a progress reply
AUDIT_TIME = "%Y-%m-%d %H:%M"


def escape(text: str | None) -> str:
    """Text shown as mrkdwn: &, < and > are Slack's control characters."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_MAX] or " "}}


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_MAX] or " "}]}


def sections(text: str) -> list[dict]:
    """A long text as as many sections as it needs, cut at line ends."""
    blocks, chunk = [], ""
    for line in text.splitlines():
        if len(chunk) + len(line) + 1 > SECTION_MAX and chunk:
            blocks.append(section(chunk))
            chunk = ""
        chunk += line[:SECTION_MAX] + "\n"
    if chunk.strip():
        blocks.append(section(chunk.rstrip("\n")))
    return blocks


def packed(header: str, lines: list[str], budget: int) -> tuple[list[dict], int]:
    """``header`` then ``lines`` as sections of at most ``SECTION_MAX`` characters, no more than
    ``budget`` (at least one) of them; returns the sections and how many lines did not fit."""
    blocks, chunk = [], header
    for at, line in enumerate(lines):
        line = line[: SECTION_MAX - 1]
        if chunk and len(chunk) + 1 + len(line) > SECTION_MAX:
            blocks.append(section(chunk))
            if len(blocks) >= max(budget, 1):
                return blocks, len(lines) - at
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk or not blocks:
        blocks.append(section(chunk))
    return blocks, 0


def message(blocks: list[dict], text: str) -> dict:
    """A reply: blocks (capped) and the plain text notifications show."""
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[:MAX_BLOCKS] + [context(words.LISTING_MORE.format(n=len(blocks) - MAX_BLOCKS))]
    return {"blocks": blocks, "text": text[:SECTION_MAX]}


def help_message(prefix: str | None = None) -> dict:
    blocks = [section(escape(prefix))] if prefix else []
    blocks.append(section(f"*{words.HELP_TITLE}*"))
    for usage, what, example in words.HELP:
        blocks.append(section(f"`{words.COMMAND} {escape(usage)}`\n{escape(what)}\n例：`{escape(example)}`"))
    return message(blocks, words.HELP_TITLE)


def answer_message(answer, question: str, ward: str | None) -> dict:
    """An ``Answer`` as a parent of ``ward`` gets it: its listing line by line, or its text."""
    header = words.ANSWER_HEADER.format(question=escape(question), ward=escape(ward or words.ALL_WARDS))
    blocks = [context(header)]
    if answer.listing is not None:
        blocks += _listing_blocks(answer)
    else:
        blocks += sections(escape(answer.text))
    if not answer.answered:
        blocks.append(context(words.ANSWER_NOT_ANSWERED))
    if answer.items and answer.listing is None:
        blocks.append(
            context(" / ".join(f"{escape(i.kind)}:{escape(i.id)} {min(i.score, 1.0):.2f}" for i in answer.items[:5]))
        )
    return message(blocks, answer.text)


def _listing_blocks(answer) -> list[dict]:
    """A listing: its head, one section per event shown, then the rest of its words (notes, how
    many more) as context. An event the text says otherwise than its section (another ward's,
    which the text names with its ward) is in the context too, as the text says it."""
    listing, said = answer.listing, answer.listing_words
    with_area = listing.area is None or listing.by_ward
    shown = [render.listing_line(e, with_area) for e in listing.visible]
    told = [render.listing_line(e, said.with_area) for e in said.events]
    rest = [line for at, line in enumerate(told) if at >= len(shown) or line != shown[at]]
    blocks = [section(escape(said.head))]
    blocks += [section(escape(line)) for line in shown]
    notes = [*said.before, *rest, *said.after]
    if notes:
        blocks.append(context(escape("\n".join(notes))))
    return blocks


def progress_message(sheet: Sheet, period: str, saved: dict) -> dict:
    """The reply to a progress entry: the program's schedule and progress for that period, the
    entry just saved first, then the others newest first; what does not fit is counted."""
    part = sheet.period(period)
    title = title_line(sheet)
    blocks = [section(escape(words.PROGRESS_SAVED.format(program=title, period=period)))]
    schedule, _cut = packed(
        words.PROGRESS_SCHEDULE.format(period=period),
        [_item_line(i) for i in part.items] or [escape(words.PROGRESS_NO_SCHEDULE)],
        SCHEDULE_BLOCKS,
    )
    blocks += schedule
    entries = [saved] + [p for p in reversed(part.progress) if p.get("id") != saved.get("id")]
    shown, left = packed(
        words.PROGRESS_ENTRIES.format(period=period), [_progress_line(p) for p in entries], MAX_BLOCKS - len(blocks) - 1
    )  # room for the note of what was left out
    blocks += shown
    if left:
        blocks.append(context(escape(words.PROGRESS_MORE.format(n=left))))
    return message(blocks, words.PROGRESS_SAVED.format(program=title, period=period) + " " + saved["text"])


def _item_line(item: dict) -> str:
    status = words.STATUS.get(item["status"], item["status"] or "")
    months = f"（{months_text(item['months'])}）" if item["months"] else ""
    return escape(f"・[{status}] {item['text']}{months}")


def _progress_line(entry: dict) -> str:
    who = entry.get("posted_by") or ""
    when = (entry.get("posted_at") or "")[:10]
    byline = f"（{who} {when}）".replace(" ）", "）") if who or when else ""
    return escape(f"・{entry['text']}{byline}")


def sheet_message(sheet: Sheet) -> dict:
    """The sheet by period: schedule, then progress newest first; within Slack's 50 blocks,
    each part keeps at least one section and what does not fit is counted."""
    title = title_line(sheet)
    blocks = [section(f"*{escape(words.SHEET_TITLE.format(title=title))}*")]
    parts = []
    for part in sheet.periods:
        parts.append(
            (
                f"*{escape(part.name)}*　{words.SHEET_SCHEDULE}",
                [_item_line(i) for i in part.items] or [escape(words.SHEET_NONE)],
            )
        )
        parts.append(
            (
                f"*{escape(part.name)}*　{words.SHEET_PROGRESS}{words.SHEET_NEWEST_FIRST}",
                [_progress_line(p) for p in reversed(part.progress)] or [escape(words.SHEET_NO_PROGRESS)],
            )
        )
    left_out = 0
    for at, (header, lines) in enumerate(parts):
        later = len(parts) - at - 1
        shown, left = packed(header, lines, MAX_BLOCKS - len(blocks) - later - 1)  # room for the closing note
        blocks += shown
        left_out += left
    if left_out:
        blocks.append(context(escape(words.SHEET_MORE.format(n=left_out, program=sheet.program["title"]))))
    return message(blocks, words.SHEET_TITLE.format(title=title))


def unanswered_message(groups, ward: str | None) -> dict:
    if not groups:
        return message([section(escape(words.UNANSWERED_NONE))], words.UNANSWERED_NONE)
    header = words.UNANSWERED_HEADER.format(ward=ward or words.ALL_WARDS)
    blocks = [section(escape(header))]
    for g in groups:
        text = words.UNANSWERED_GROUP.format(text=escape(g.text), count=g.count)
        others = [t for t in g.texts if t != g.text][:5]
        if others:
            text += "\n" + escape(words.UNANSWERED_ALSO.format(texts="／".join(others)))
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": text[:SECTION_MAX]},
                "accessory": {
                    "type": "button",
                    "action_id": "kb_unanswered_answer",
                    "text": {"type": "plain_text", "text": words.UNANSWERED_BUTTON},
                    "value": json.dumps({"lead": g.lead, "area": g.area or ward}),
                },
            }
        )
    return message(blocks, header)


def event_choices_message(rows: list[dict], name: str, mode: str) -> dict:
    """Events a name may mean, each with a button that opens the edit or cancel modal."""
    label = words.EVENT_EDIT_BUTTON if mode == "edit" else words.EVENT_CANCEL_BUTTON
    blocks = [section(escape(words.EVENT_CHOOSE.format(name=name)))]
    for row in rows:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": escape(row["title"])},
                "accessory": {
                    "type": "button",
                    "action_id": f"kb_event_{mode}",
                    "text": {"type": "plain_text", "text": label},
                    "value": row["id"],
                },
            }
        )
    return message(blocks, words.EVENT_CHOOSE.format(name=name))


def audit_message(rows: list[dict], ward: str | None, zone: tzinfo = JAPAN.zone) -> dict:
    if not rows:
        return message([section(escape(words.AUDIT_NONE))], words.AUDIT_NONE)
    header = words.AUDIT_HEADER.format(ward=ward or words.ALL_WARDS)
    blocks = [section(escape(header))]
    for r in rows:
        user = (r["actor"] or "").removeprefix("slack:")
        line = words.AUDIT_LINE.format(
            at=escape(local_time(r["at"], zone)),
            user=escape(user),
            action=escape(words.ACTIONS.get(r["action"], r["action"])),
            target=escape(r.get("label") or r["target"]),
        )
        change = words.AUDIT_CHANGE.format(before=_short(r["before"]), after=_short(r["after"]))
        blocks.append(section(line))
        blocks.append(context(escape(change)))
    return message(blocks, header)


def local_time(iso: str | None, zone: tzinfo) -> str:
    """A stored UTC ISO time as the parents' (and staff's) local time: 2026-01-01 09:00."""
    try:
        return datetime.fromisoformat(iso or "").astimezone(zone).strftime(AUDIT_TIME)
    except ValueError:
        return iso or ""


def _short(value: dict | None) -> str:
    """A record before or after a change, by its fields' Japanese names (ids and internals left out)."""
    if value is None:
        return "—"
    shown = {}
    for key, label in words.AUDIT_FIELDS.items():
        v = value.get(key)
        if v in (None, "", "[]", []) or label in shown:
            continue
        shown[label] = _value(key, v)
    text = "、".join(f"{label}：{v}" for label, v in shown.items()) or "—"
    return text if len(text) <= AUDIT_VALUE_MAX else text[: AUDIT_VALUE_MAX - 1] + "…"


def _value(key: str, v) -> str:
    if key == "status":
        return words.AUDIT_STATUS.get(v, str(v))
    if key == "occurrences":
        dates = [o.get("date") for o in v if isinstance(o, dict)]
        return words.AUDIT_DATES.format(first=dates[0], n=len(dates) - 1) if len(dates) > 1 else (dates or ["—"])[0]
    if key == "unanswered_ids":
        return words.AUDIT_QUESTIONS.format(n=len(v))
    return str(v)
