"""Modal submissions: progress, an FAQ, an event added or edited, an event cancelled.

A submission is checked before it is acknowledged, because a refusal must travel in the ack
(``response_action: errors`` keeps the modal open with each field's error): first its ward
(``ward_refused``: the ward it names and the wards of the records it touches, as the base has
them, against the user's), then its fields. Once valid it is
acknowledged (the modal closes), written, and confirmed after the index is rebuilt
(``after_write``). Confirmations go to the ``response_url`` of the command or button that
opened the modal (carried in ``private_metadata``), which works in channels the bot has not
joined; then an ephemeral message, then a direct message.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk.webhook import WebhookClient

from handlers.slack import modals, render, words
from handlers.slack.access import Access, out_of_ward
from handlers.slack.listeners.replies import ephemeral, guarded, report
from handlers.slack.listeners.settings import Settings
from knowledge.staff import events, faqs, wards
from knowledge.staff import progress as progress_mod
from knowledge.staff import sheet as sheet_mod
from knowledge.store import audit

logger = logging.getLogger(__package__)  # the package's one logger (handlers.slack.listeners) for every kind


def register(app: App) -> None:
    app.view(modals.PROGRESS)(on_progress_submit)
    app.view(modals.FAQ)(on_faq_submit)
    app.view(modals.EVENT)(on_event_submit)
    app.view(modals.EVENT_CANCEL)(on_cancel_submit)


# --- progress ------------------------------------------------------------------------------------


@guarded
def on_progress_submit(ack, body, view, client, context):
    settings: Settings = context["settings"]
    user, meta, values = submission(body, view)
    if not submit_allowed(ack, settings.access, user, meta, view):
        return
    with settings.db() as db:
        if ward_refused(ack, client, db, settings, user, meta, view, {wards.PROGRAM: values.get("program")}):
            return
        if invalid(
            ack,
            view,
            lambda: progress_mod.validate(values.get("program"), values.get("period"), values.get("text"), db),
        ):
            return
    ack()
    with settings.db() as db:
        row = progress_mod.add(
            db,
            values["program"],
            values["period"],
            values["text"],
            actor=f"slack:{user}",
            actor_name=user_name(body),
        )

    def done(db) -> None:
        sheet = sheet_mod.load(db, row["program_id"])
        message = render.progress_message(sheet, row["period"], row)
        confirm(client, meta, user, message["text"], message["blocks"])
        report(
            client,
            settings.report_channel,
            words.REPORT_PROGRESS.format(
                user=user,
                program=render.escape(sheet.program["title"]),
                period=row["period"],
                text=render.escape(row["text"]),
            ),
        )

    context["after_write"](done)


# --- FAQ -----------------------------------------------------------------------------------------


@guarded
def on_faq_submit(ack, body, view, client, context):
    """An FAQ for the ward (or every ward); the unanswered group it answers is closed with it."""
    settings: Settings = context["settings"]
    user, meta, values = submission(body, view)
    if not submit_allowed(ack, settings.access, user, meta, view):
        return
    ward = meta.get("ward")
    lead = meta.get("lead")
    with settings.db() as db:
        if ward_refused(ack, client, db, settings, user, meta, view, {wards.QUESTION: lead}):
            return
    if invalid(ack, view, lambda: faqs.validate(values.get("question"), values.get("answer"), values.get("words"))):
        return
    ack()
    with settings.db() as db:
        row = faqs.add(
            db,
            area=ward,
            question=values["question"],
            answer=values["answer"],
            words=values.get("words"),
            group_of=int(lead) if lead is not None else None,
            actor=f"slack:{user}",
        )

    def done(_db) -> None:
        text = words.FAQ_SAVED.format(question=row["question"], ward=ward or words.ALL_WARDS)
        confirm(client, meta, user, text)
        report(
            client,
            settings.report_channel,
            words.REPORT_FAQ.format(
                user=user, ward=render.escape(ward or words.ALL_WARDS), question=render.escape(row["question"])
            ),
        )

    context["after_write"](done)


# --- events --------------------------------------------------------------------------------------


@guarded
def on_event_submit(ack, body, view, client, context):
    """An event added (no ``activity_id`` in the modal) or edited; a past day is written with a
    warning, not refused."""
    settings: Settings = context["settings"]
    user, meta, values = submission(body, view)
    if not submit_allowed(ack, settings.access, user, meta, view):
        return
    inp = modals.event_input(values)
    activity_id = meta.get("activity_id")
    today = settings.domain.clock.today()
    checked = []
    with settings.db() as db:
        if ward_refused(
            ack, client, db, settings, user, meta, view, {wards.EVENT: activity_id, wards.BASE: inp.base_id}
        ):
            return
        if invalid(ack, view, lambda: checked.append(events.check_edit(db, activity_id, inp, today))):
            return
    ack()
    with settings.db() as db:
        if activity_id:
            row, mode = events.edit(db, activity_id, inp, actor=f"slack:{user}", today=today), "edit"
        else:
            row, mode = events.add(db, meta.get("ward"), inp, actor=f"slack:{user}", today=today), "add"
    day = checked[0][0] if checked else None
    past = events.is_past(day, today)
    context["after_write"](lambda _db: event_done(client, settings, meta, user, row, mode, past=past))


@guarded
def on_cancel_submit(ack, body, view, client, context):
    settings: Settings = context["settings"]
    user, meta, _values = submission(body, view)
    if not submit_allowed(ack, settings.access, user, meta, view):
        return
    with settings.db() as db:
        if ward_refused(ack, client, db, settings, user, meta, view, {wards.EVENT: meta.get("activity_id")}):
            return
    ack()
    with settings.db() as db:
        row = events.cancel(db, meta.get("activity_id") or "", actor=f"slack:{user}")
    context["after_write"](lambda _db: event_done(client, settings, meta, user, row, "cancel"))


def event_done(client, settings: Settings, meta: dict, user: str, row: dict, mode: str, past: bool = False) -> None:
    text = words.EVENT_SAVED[mode].format(title=row["title"]) + (words.EVENT_PAST if past else "")
    confirm(client, meta, user, text)
    report(
        client,
        settings.report_channel,
        words.REPORT_EVENT[mode].format(user=user, ward=render.escape(row["area"]), title=render.escape(row["title"])),
    )


# --- shared by the submissions -------------------------------------------------------------------


def confirm(client, meta: dict, user: str, text: str, block_list: list | None = None) -> None:
    """Tell staff a modal's write is done: at the response URL of the command or button that
    opened it, else ephemerally in its channel, else in a direct message."""
    block_list = block_list or [render.section(render.escape(text))]
    url = meta.get("response_url")
    if url:
        try:
            sent = WebhookClient(url).send(
                text=text, blocks=block_list, response_type="ephemeral", replace_original=False
            )
            if sent.status_code == 200:
                return
            logger.warning("response_url answered %s; telling %s another way", sent.status_code, user)
        except Exception:
            logger.exception("could not answer at the response_url; telling %s another way", user)
    try:
        ephemeral(client, meta.get("channel"), user, text, block_list, raise_errors=True)
        return
    except Exception:
        logger.warning("could not tell %s in channel %s; sending a direct message", user, meta.get("channel"))
    client.chat_postMessage(channel=user, text=text, blocks=block_list)


def submit_allowed(ack, access: Access, user: str, meta: dict, view: dict) -> bool:
    """A submission is checked again: the modal may outlive the user's place on the list."""
    if access.allowed(user, meta.get("channel")):
        return True
    present = modals.input_blocks(view)
    if present:
        ack(response_action="errors", errors={present[0]: words.field_error("", "refused")})
    else:
        ack()
    logger.info("refused a modal submission from %s: not staff", user)
    return False


def ward_refused(ack, client, db, settings: Settings, user: str, meta: dict, view: dict, records: dict) -> bool:
    """Refuse a submission whose ward (``meta``'s) or records (``records``: kind -> id, their
    wards read from the base) lie outside the user's wards, checked now, as it is applied: the
    modal's metadata may be forged or outlive the staff member's channel. The refusal shows on
    the refused record's field (else the first), as field errors do; a modal without fields
    closes and the staff member is told in its channel. Nothing is written either way."""
    refused = out_of_ward(
        db,
        settings.access,
        user,
        meta.get("channel"),
        f"modal {view.get('callback_id')}",
        wards=[meta.get("ward")],
        records=records,
    )
    if refused is None:
        return False
    text = words.out_of_ward(refused.area)
    present = modals.input_blocks(view)
    if present:
        block = refused.field if refused.field in present else present[0]
        ack(response_action="errors", errors={block: text})
    else:
        ack()
        ephemeral(client, meta.get("channel"), user, f"{text}{words.NOTHING_CHANGED}")
    return True


def invalid(ack, view: dict, check) -> bool:
    """Run ``check``; on ``audit.Invalid`` answer Slack's field errors (nothing was written)."""
    try:
        check()
    except audit.Invalid as e:
        ack(response_action="errors", errors=modals.errors(e.errors, modals.input_blocks(view)))
        logger.info("modal %s refused: %s", view.get("callback_id"), e)
        return True
    return False


def submission(body: dict, view: dict) -> tuple[str, dict, dict[str, str]]:
    """(user id, the modal's ``private_metadata``, its values by block id)."""
    return (body.get("user") or {}).get("id"), modals.meta(view), modals.values(view)


def user_name(body: dict) -> str:
    user = body.get("user") or {}
    return user.get("username") or user.get("name") or user.get("id") or ""
