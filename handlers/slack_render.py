"""Answers, sheets, listings and logs as Slack Block Kit: what staff see in their replies.

Only the dress is made here; the words parents read come from ``knowledge.render`` (an
``Answer``'s text and listing lines), the words staff read from ``handlers.slack_words``.
Slack limits a section's text to 3,000 characters and a message to 50 blocks: long texts are
cut into sections and long lists are counted, not dropped silently.
"""

from __future__ import annotations

import json

from handlers import slack_words as words
from knowledge import render
from knowledge.sheet import Sheet, months_text, title_line

SECTION_MAX = 2900  # characters of one section's text (Slack: 3,000)
MAX_BLOCKS = 48  # of one message (Slack: 50), room left for a closing note
AUDIT_VALUE_MAX = 300  # characters of a before/after shown in the audit reply


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
        blocks.append(context(" / ".join(f"{escape(i.kind)}:{escape(i.id)} {min(i.score, 1.0):.2f}"
                                         for i in answer.items[:5])))
    return message(blocks, answer.text)


def _listing_blocks(answer) -> list[dict]:
    """A listing: the text's opening line, then one line per day of an event."""
    listing = answer.listing
    with_area = listing.area is None or listing.by_ward
    lines = answer.text.splitlines()
    shown = [render.listing_line(e, with_area) for e in listing.visible]
    intro = [line for line in lines if line not in shown]
    blocks = [section(escape(intro[0]))] if intro else []
    blocks += [section(escape(line)) for line in shown]
    if len(intro) > 1:
        blocks.append(context(escape("\n".join(intro[1:]))))
    return blocks


def progress_message(sheet: Sheet, period: str, saved_text: str) -> dict:
    """The reply to a progress entry: the program's schedule and progress for that period."""
    part = sheet.period(period)
    title = title_line(sheet)
    blocks = [section(escape(words.PROGRESS_SAVED.format(program=title, period=period))),
              section(words.PROGRESS_SCHEDULE.format(period=period) + "\n"
                      + ("\n".join(_item_line(i) for i in part.items) or escape(words.PROGRESS_NO_SCHEDULE))),
              section(words.PROGRESS_ENTRIES.format(period=period) + "\n"
                      + "\n".join(_progress_line(p) for p in part.progress))]
    return message(blocks, words.PROGRESS_SAVED.format(program=title, period=period) + " " + saved_text)


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
    title = title_line(sheet)
    blocks = [section(f"*{escape(words.SHEET_TITLE.format(title=title))}*")]
    for part in sheet.periods:
        blocks.append(section(f"*{escape(part.name)}*　{words.SHEET_SCHEDULE}\n"
                              + ("\n".join(_item_line(i) for i in part.items) or escape(words.SHEET_NONE))))
        blocks.append(section(f"*{escape(part.name)}*　{words.SHEET_PROGRESS}\n"
                              + ("\n".join(_progress_line(p) for p in part.progress) or escape(words.SHEET_NO_PROGRESS))))
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
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_MAX]},
                       "accessory": {"type": "button", "action_id": "kb_unanswered_answer",
                                     "text": {"type": "plain_text", "text": words.UNANSWERED_BUTTON},
                                     "value": json.dumps({"ids": g.ids[:100], "area": g.area or ward})}})
    return message(blocks, header)


def event_choices_message(rows: list[dict], name: str, mode: str) -> dict:
    """Events a name may mean, each with a button that opens the edit or cancel modal."""
    label = words.EVENT_EDIT_BUTTON if mode == "edit" else words.EVENT_CANCEL_BUTTON
    blocks = [section(escape(words.EVENT_CHOOSE.format(name=name)))]
    for row in rows:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": escape(row["title"])},
                       "accessory": {"type": "button", "action_id": f"kb_event_{mode}",
                                     "text": {"type": "plain_text", "text": label}, "value": row["id"]}})
    return message(blocks, words.EVENT_CHOOSE.format(name=name))


def audit_message(rows: list[dict], ward: str | None) -> dict:
    if not rows:
        return message([section(escape(words.AUDIT_NONE))], words.AUDIT_NONE)
    header = words.AUDIT_HEADER.format(ward=ward or words.ALL_WARDS)
    blocks = [section(escape(header))]
    for r in rows:
        user = (r["actor"] or "").removeprefix("slack:")
        line = words.AUDIT_LINE.format(at=escape(r["at"]), user=escape(user),
                                       action=escape(words.ACTIONS.get(r["action"], r["action"])),
                                       target=escape(r["target"]))
        change = words.AUDIT_CHANGE.format(before=_short(r["before"]), after=_short(r["after"]))
        blocks.append(section(line))
        blocks.append(context(escape(change)))
    return message(blocks, header)


def _short(value: dict | None) -> str:
    if value is None:
        return "—"
    shown = {k: v for k, v in value.items() if v not in (None, "", "[]")}
    text = json.dumps(shown, ensure_ascii=False)
    return text if len(text) <= AUDIT_VALUE_MAX else text[: AUDIT_VALUE_MAX - 1] + "…"
