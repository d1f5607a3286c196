"""Buttons: answer a group of unanswered questions, edit or cancel one of several events.

A click is acknowledged first, then checked (the button may outlive its user's place on the
staff list, and its value may name another ward's record: ``click_refused``) and answered with
a modal; its trigger id expires within Slack's three seconds.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import App

from handlers.slack import modals, words
from handlers.slack.access import Access, out_of_ward, who
from handlers.slack.listeners.replies import ephemeral, guarded, open_modal, teller
from handlers.slack.listeners.settings import Settings
from knowledge.staff import events, faqs, wards

logger = logging.getLogger(__package__)  # the package's one logger (handlers.slack.listeners) for every kind

ANSWER = "kb_unanswered_answer"
EVENT_EDIT = "kb_event_edit"
EVENT_CANCEL = "kb_event_cancel"


def register(app: App) -> None:
    app.action(ANSWER)(on_answer_button)
    app.action(EVENT_EDIT)(on_event_button)
    app.action(EVENT_CANCEL)(on_event_button)


@guarded
def on_answer_button(ack, body, action, client, respond, context):
    """The FAQ modal for a group of unanswered questions, its question prefilled with the
    group's newest wording and its words with the others."""
    ack()
    settings: Settings = context["settings"]
    user, channel = who(body)
    if not allowed_or_told(settings.access, client, user, channel):
        return
    value = json.loads(action.get("value") or "{}")
    ward = value.get("area") or settings.access.ward(channel)
    lead = value.get("lead") if "lead" in value else next(iter(value.get("ids") or []), None)  # or an older button
    lead = int(lead) if str(lead).isdigit() else None
    with settings.db() as db:
        if click_refused(db, settings, client, user, channel, named=[ward], records={wards.QUESTION: lead}):
            return
        texts = group_texts(db, ward, lead)
    meta = {"channel": channel, "ward": ward, "lead": lead, "response_url": body.get("response_url") or ""}
    question = texts[0] if texts else ""
    view = modals.faq_view(question, "、".join(dict.fromkeys(texts[1:])), meta)
    open_modal(client, body.get("trigger_id"), view, teller(client, channel, user, respond))


def group_texts(db, ward: str | None, lead: int | None) -> list[str]:
    """The questions of the group ``lead`` leads, newest first (the button carries only its lead:
    a group's ids may outgrow Slack's limit on a button's value)."""
    ids = faqs.group_ids(db, ward, lead) if lead is not None else []
    if not ids:
        return []
    return [
        r[0]
        for r in db.execute(
            f"SELECT text FROM unanswered WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id DESC", ids
        ).fetchall()
    ]


@guarded
def on_event_button(ack, body, action, client, respond, context):
    """The edit or cancel modal of the event chosen among several of one name."""
    ack()
    settings: Settings = context["settings"]
    user, channel = who(body)
    if not allowed_or_told(settings.access, client, user, channel):
        return
    mode = "cancel" if action.get("action_id") == EVENT_CANCEL else "edit"
    activity_id = action.get("value") or ""
    with settings.db() as db:
        if click_refused(db, settings, client, user, channel, records={wards.EVENT: activity_id}):
            return
        if events.get(db, activity_id) is None:
            ephemeral(client, channel, user, words.EVENT_NOT_FOUND.format(name=activity_id, ward=""))
            return
        meta = {
            "channel": channel,
            "ward": settings.access.ward(channel),
            "activity_id": activity_id,
            "response_url": body.get("response_url") or "",
        }
        view = modals.event_mode_view(db, mode, activity_id, meta)
    open_modal(client, body.get("trigger_id"), view, teller(client, channel, user, respond))


def click_refused(db, settings: Settings, client, user: str, channel: str, *, named=(), records=None) -> bool:
    """Refuse a button whose ward or record lies outside the user's wards (its value may be
    forged or outlive the staff member's channel), telling them in the channel; the modal it
    would open is not opened, so nothing can be written through it."""
    refused = out_of_ward(db, settings.access, user, channel, "button", wards=named, records=records)
    if refused is None:
        return False
    ephemeral(client, channel, user, words.out_of_ward(refused.area))
    return True


def allowed_or_told(access: Access, client, user: str, channel: str) -> bool:
    """A click is checked again: the button may outlive its user's place on the staff list."""
    if access.allowed(user, channel):
        return True
    logger.info("refused a button from user %s in channel %s: not staff", user, channel)
    ephemeral(client, channel, user, words.REFUSED)
    return False
