"""``/kosodate`` and its subcommands (ask, progress, sheet, digest, audit, unanswered, event).

The command is acknowledged first: a refusal, help or an unknown subcommand is answered in the
ack itself; anything else is acknowledged empty and done right after, in Bolt's thread pool, with
the reply sent by ``respond`` (ephemeral) or the Web API. A modal opens right after the ack: its
trigger id expires as fast as Slack's three seconds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date

import sqlite_utils
from slack_bolt import App

from handlers.slack import modals, render, words
from handlers.slack.access import Access, out_of_ward
from handlers.slack.listeners.after_write import AfterWrite
from handlers.slack.listeners.replies import guarded, open_modal, report
from handlers.slack.listeners.settings import Settings
from knowledge import ask
from knowledge.lang import clock
from knowledge.lang.audience import Ages
from knowledge.lang.text import nfkc
from knowledge.parents import digest
from knowledge.staff import events, faqs, wards
from knowledge.staff import progress as progress_mod
from knowledge.staff import sheet as sheet_mod
from knowledge.store import audit

logger = logging.getLogger(__package__)  # the package's one logger (handlers.slack.listeners) for every kind

COMMAND = words.COMMAND
HELP = "help"
EXPORT_WORD = "export"
EVENT_MODES = ("add", "edit", "cancel")
DIGEST_MONTHS = re.compile(r"^(\d{1,3})(?:か月|ヶ月|カ月|ヵ月|months?)?$")
DIGEST_EXPECTING = ("妊娠中", "妊婦", "expecting")


def register(app: App) -> None:
    app.command(COMMAND)(on_command)


@dataclass
class Call:
    """One slash command: who, where, what was typed after the subcommand, how to reply, and the
    app's shared state (settings, after-write threads) the subcommand works with."""

    user: str
    user_name: str
    channel: str
    ward: str | None
    text: str
    trigger_id: str
    respond: object
    client: object
    settings: Settings
    after_write: AfterWrite
    response_url: str = ""

    @classmethod
    def of(cls, command: dict, text: str, respond, client, context) -> Call:
        """The call of ``command`` (``text``: what follows its subcommand), in this app's ``context``."""
        settings: Settings = context["settings"]
        user, channel = command.get("user_id"), command.get("channel_id")
        return cls(
            user=user,
            user_name=command.get("user_name") or user,
            channel=channel,
            ward=settings.access.ward(channel),
            text=text,
            trigger_id=command.get("trigger_id") or "",
            respond=respond,
            client=client,
            settings=settings,
            after_write=context["after_write"],
            response_url=command.get("response_url") or "",
        )

    @property
    def actor(self) -> str:
        return f"slack:{self.user}"

    def db(self) -> AbstractContextManager[sqlite_utils.Database]:
        return self.settings.db()

    def reply(self, message: dict) -> None:
        self.respond(response_type="ephemeral", replace_original=False, **message)

    def say(self, text: str) -> None:
        self.reply({"text": text, "blocks": [render.section(render.escape(text))]})

    def meta(self, **extra) -> dict:
        """What a modal opened by this command needs back on submit (``private_metadata``)."""
        return {"channel": self.channel, "ward": self.ward, "response_url": self.response_url} | extra

    def report(self, text: str) -> None:
        report(self.client, self.settings.report_channel, text)


# --- the command -----------------------------------------------------------------------------


@guarded
def on_command(ack, respond, client, command, context):
    """Answer in the ack what needs no work; otherwise ack at once, then run the subcommand."""
    parts = split_words(command.get("text"))
    sub = keyword(parts[0]) if parts else HELP
    if answered_in_ack(ack, context["settings"].access, command, sub):
        return
    ack()
    rest = (command.get("text") or "").strip()[len(parts[0]) :].strip()
    call = Call.of(command, rest, respond, client, context)
    SUBCOMMANDS[sub](call)
    logger.info("/kosodate %s done for %s in %s (ward %s)", sub, call.user, call.channel, call.ward or "-")


def answered_in_ack(ack, access: Access, command: dict, sub: str) -> bool:
    """A stranger's refusal, an unknown subcommand's help and help itself go in the ack: no base
    is read, so they come within Slack's three seconds whatever the load."""
    user, channel = command.get("user_id"), command.get("channel_id")
    if not access.allowed(user, channel):
        ack(response_type="ephemeral", text=words.REFUSED)
        logger.info("refused /kosodate %s from user %s in channel %s: not staff", sub, user, channel)
        return True
    if sub != HELP and sub not in SUBCOMMANDS:
        ack(response_type="ephemeral", **render.help_message(words.UNKNOWN_SUBCOMMAND.format(sub=sub)))
        logger.info("unknown subcommand %r from %s: help shown", sub, user)
        return True
    if sub == HELP:
        ack(response_type="ephemeral", **render.help_message())
        return True
    return False


def split_words(text: str | None) -> list[str]:
    """Words as typed (full-width spaces separate too); what staff wrote is kept as written."""
    return (text or "").split()


def keyword(word: str) -> str:
    """A subcommand or option as typed in any width or case: ｅｘｐｏｒｔ, EXPORT -> export."""
    return nfkc(word).strip().lower()


# --- ask ---------------------------------------------------------------------------------------


def do_ask(call: Call) -> None:
    """What a parent of the channel's ward would be answered."""
    if not call.text:
        call.say(words.ASK_EMPTY)
        return
    with call.db() as db:  # staff's trial questions are not logged as gaps
        answer = ask(db, call.text, area=call.ward, log=False, settings=call.settings.domain)
    call.reply(render.answer_message(answer, call.text, call.ward))


# --- progress ------------------------------------------------------------------------------------


def do_progress(call: Call) -> None:
    """Write at once when the program is certain and period and text are given; otherwise open
    the modal with what was understood, so nothing is written to a guessed program."""
    name, period, text = progress_args(split_words(call.text))
    with call.db() as db:
        found = progress_mod.find_program(db, name, call.ward) if name else progress_mod.Lookup()
        if found.program and period and text:
            save_progress(db, call, found.program["id"], period, text)
            return
        programs = _programs_offered(db, call.ward, found)
    if not programs:
        call.say(words.PROGRESS_NO_PROGRAMS)
        return
    chosen = found.program or found.guess
    view = modals.progress_view(
        programs,
        call.meta(),
        program_id=chosen["id"] if chosen else None,
        period=period,
        text=text,
        note=progress_note(name, found),
    )
    open_modal(call.client, call.trigger_id, view, call.say)


def _programs_offered(db, ward: str | None, found: progress_mod.Lookup) -> list[dict]:
    """The modal's programs: the one found first, then the candidates (alone when they are a
    real choice), then the ward's programs; each once."""
    programs = (
        found.candidates
        if found.candidates and not found.guess
        else found.candidates + progress_mod.programs_in(db, ward)
    )
    if found.program:
        programs = [found.program] + programs
    return list({p["id"]: p for p in programs}.values())


def save_progress(db, call: Call, program_id: str, period: str, text: str) -> None:
    refused = out_of_ward(
        db, call.settings.access, call.user, call.channel, "/kosodate progress", records={wards.PROGRAM: program_id}
    )
    if refused is not None:
        call.say(words.out_of_ward(refused.area))
        return
    try:
        progress_mod.validate(program_id, period, text, db)
    except audit.Invalid as e:
        call.say(words.invalid_text(e.errors, words.PROGRESS_LABELS))
        return
    row = progress_mod.add(db, program_id, period, text, actor=call.actor, actor_name=call.user_name)

    def done(db) -> None:
        sheet = sheet_mod.load(db, program_id)
        call.reply(render.progress_message(sheet, period, row))
        call.report(
            words.REPORT_PROGRESS.format(
                user=call.user,
                program=render.escape(sheet.program["title"]),
                period=period,
                text=render.escape(row["text"]),
            )
        )

    call.after_write(done)


def progress_note(name: str, found: progress_mod.Lookup) -> str | None:
    """What the progress modal says above its menus about the name typed, if anything."""
    if not name or found.program:
        return None
    if found.guess:
        return words.PROGRESS_GUESS.format(name=name, title=found.guess["title"])
    return (words.PROGRESS_AMBIGUOUS if found.candidates else words.PROGRESS_NOT_FOUND).format(name=name)


def progress_args(parts: list[str]) -> tuple[str, str | None, str]:
    """``居場所 後期 第3回研究会…`` -> (居場所, 後期, 第3回研究会…); the period may come anywhere."""
    at = next((i for i, p in enumerate(parts) if nfkc(p) in progress_mod.PERIODS), None)
    if at is None:
        return " ".join(parts[:1]), None, " ".join(parts[1:])
    return " ".join(parts[:at]), nfkc(parts[at]), " ".join(parts[at + 1 :])


# --- sheet ---------------------------------------------------------------------------------------


def do_sheet(call: Call) -> None:
    """A program's sheet as blocks, or as a file shared to the channel (``export [csv]``)."""
    parts = split_words(call.text)
    keys = [keyword(p) for p in parts]
    export = EXPORT_WORD in keys
    if export:
        at = keys.index(EXPORT_WORD)
        fmt = "csv" if "csv" in keys[at + 1 :] else "md"
        parts = parts[:at]
    name = " ".join(parts)
    if not name:
        call.say(words.SHEET_EMPTY_NAME)
        return
    with call.db() as db:
        found = progress_mod.find_program(db, name, call.ward)
        program = found.program or found.guess  # reading a likely program is harmless
        if program is None:
            say_candidates(call, name, found.candidates)
            return
        sheet = sheet_mod.load(db, program["id"])
    if export:
        export_sheet(call, sheet, fmt)
    else:
        call.reply(render.sheet_message(sheet))


def say_candidates(call: Call, name: str, candidates: list[dict]) -> None:
    if not candidates:
        call.say(words.SHEET_NOT_FOUND.format(name=name))
        return
    call.say(words.SHEET_AMBIGUOUS.format(name=name) + "\n" + "\n".join(f"・{c['title']}" for c in candidates))


def export_sheet(call: Call, sheet, fmt: str) -> None:
    """Share the sheet as a file in the channel (CSV with a BOM, so Excel reads it as UTF-8)."""
    title = sheet_mod.title_line(sheet)
    content = "\ufeff" + sheet_mod.to_csv(sheet) if fmt == "csv" else sheet_mod.to_markdown(sheet)
    stamp = call.settings.domain.clock.now().strftime("%Y-%m-%d %H:%M")
    call.client.files_upload_v2(
        channel=call.channel,
        content=content,
        filename=f"{sheet.program['id']}.{fmt}",
        title=title,
        initial_comment=words.SHEET_EXPORT_COMMENT.format(title=title, when=stamp),
    )
    logger.info("sheet of %s exported as %s to %s by %s", sheet.program["id"], fmt, call.channel, call.user)
    call.say(words.SHEET_EXPORTED.format(title=title))


# --- digest --------------------------------------------------------------------------------------


def do_digest(call: Call) -> None:
    """The weekly digest a parent of the channel's ward would get (``digest preview``'s)."""
    try:
        ages, week = digest_args(split_words(call.text), call.settings.domain.clock.today())
    except ValueError:
        call.say(words.DIGEST_USAGE)
        return
    if not call.ward:
        call.say(words.DIGEST_NO_WARD)
        return
    with call.db() as db:
        found = digest.digest_for(db, call.ward, week, ages)
    text = digest.text(found) if not found.empty else f"{digest.headline(found)}\n{words.DIGEST_EMPTY}"
    call.say(words.DIGEST_HEADER.format(who=digest_who(ages)) + "\n" + text)


def digest_args(args: list[str], today: date) -> tuple[Ages, date]:
    """``[<月齢>|妊娠中] [YYYY-MM-DD]`` -> (who, the week's Monday, the coming one from ``today``
    when none is given); ValueError when unreadable."""
    ages, week = Ages(), digest.coming_monday(today)
    for arg in (nfkc(a) for a in args):
        months = DIGEST_MONTHS.match(arg)
        if months:
            ages = Ages(int(months.group(1)), int(months.group(1)))
        elif arg in DIGEST_EXPECTING:
            ages = Ages(None, None, True)
        else:
            week = clock.parse_day(arg)
            digest.check_week(week)
    return ages, week


def digest_who(ages: Ages) -> str:
    if ages.pregnancy:
        return words.DIGEST_WHO_EXPECTING
    return words.DIGEST_WHO_MONTHS.format(months=ages.low) if ages.stated else words.DIGEST_WHO_ANY


# --- audit and unanswered -------------------------------------------------------------------------


def do_audit(call: Call) -> None:
    with call.db() as db:
        rows = [r | {"label": audit_label(db, r)} for r in audit.recent(db, call.ward)]
    call.reply(render.audit_message(rows, call.ward, call.settings.domain.clock.zone))


def audit_label(db, row: dict) -> str | None:
    """What an audit row changed, as staff name it: the event's or program's title, the question."""
    record = row.get("after") or row.get("before") or {}
    if record.get("program_id"):
        found = db.execute("SELECT title FROM programs WHERE id = ?", [record["program_id"]]).fetchone()
        return found[0] if found else None
    return record.get("title") or record.get("question")


def do_unanswered(call: Call) -> None:
    with call.db() as db:
        groups = faqs.open_groups(db, call.ward)
    call.reply(render.unanswered_message(groups, call.ward))


# --- event ---------------------------------------------------------------------------------------


def do_event(call: Call) -> None:
    """``event [add | edit <名> | cancel <名>]``: the modal, or buttons when the name fits many."""
    if not call.ward:
        call.say(words.NO_WARD)
        return
    parts = split_words(call.text)
    given = bool(parts) and keyword(parts[0]) in EVENT_MODES
    mode = keyword(parts[0]) if given else "add"
    name = " ".join(parts[1:] if given else parts)
    with call.db() as db:
        if mode == "add":
            view = modals.event_view(call.meta(), events.bases_in(db, call.ward), events.EventInput(title=name))
            open_modal(call.client, call.trigger_id, view, call.say)
            return
        if not name:
            call.say(words.EVENT_EMPTY_NAME)
            return
        found = events.find(db, call.ward, name)
        if len(found) == 1:
            view = modals.event_mode_view(db, mode, found[0]["id"], call.meta(activity_id=found[0]["id"]))
            open_modal(call.client, call.trigger_id, view, call.say)
            return
    if not found:
        call.say(words.EVENT_NOT_FOUND.format(name=name, ward=call.ward))
        return
    call.reply(render.event_choices_message(found, name, mode))


# Each subcommand by the word typed (``help`` is answered in the ack, see ``answered_in_ack``).
SUBCOMMANDS: dict[str, Callable[[Call], None]] = {
    "ask": do_ask,
    "progress": do_progress,
    "sheet": do_sheet,
    "audit": do_audit,
    "unanswered": do_unanswered,
    "event": do_event,
    "digest": do_digest,
}
