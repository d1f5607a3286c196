"""Bolt listeners for ``/kosodate``: staff keep their ward's knowledge current from Slack.

Every listener acknowledges first (Slack waits three seconds at most; a modal's trigger id
expires as fast, so ``views_open`` comes right after ``ack``), then does the work in Bolt's
thread pool and replies with ``respond`` (ephemeral) or the Web API. Each call opens its own
connection to the base and closes it (sqlite3 connections belong to one thread). Every write
is a ``knowledge`` function: one transaction with its audit row. After a write, the search
index of the new version is built in a thread of its own (``after_write``), never in a Bolt
listener thread, so acks never wait on a rebuild; staff are told the write is done once the
index is built, so from then on this process's parents get the new answer. (A parent's question
asked while the build runs gets the old index: ``IndexCache`` does not make it wait.)

Confirmations of modal writes go to the ``response_url`` of the command or button that opened
the modal (carried in ``private_metadata``), which works in channels the bot has not joined;
then an ephemeral message, then a direct message.

Who may do what, and requests done once: ``handlers.slack.access``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import sqlite_utils
from slack_bolt import App, BoltResponse
from slack_sdk.webhook import WebhookClient

from handlers.slack import modals, words
from handlers.slack import render as blocks
from handlers.slack.access import Access, first_delivery, who
from knowledge import ask
from knowledge.lang import clock
from knowledge.lang.audience import Ages
from knowledge.lang.text import nfkc
from knowledge.parents import digest as digest_mod
from knowledge.search.index import index_for
from knowledge.staff import events, faqs
from knowledge.staff import progress as progress_mod
from knowledge.staff import sheet as sheet_mod
from knowledge.store import audit
from knowledge.store.db import BaseMissing, held

logger = logging.getLogger(__name__)

COMMAND = words.COMMAND
EXPORT_WORD = "export"
EVENT_MODES = ("add", "edit", "cancel")
AFTER_WRITE_WORKERS = 4  # threads that rebuild the index and confirm staff writes (builds run one at a time)


@dataclass(frozen=True)
class Settings:
    db_path: str
    access: Access
    report_channel: str | None = None


@dataclass
class Call:
    """One slash command: who, where, what was typed after the subcommand, how to reply."""

    user: str
    user_name: str
    channel: str
    ward: str | None
    text: str
    trigger_id: str
    respond: object
    client: object
    response_url: str = ""

    @property
    def actor(self) -> str:
        return f"slack:{self.user}"

    def reply(self, message: dict) -> None:
        self.respond(response_type="ephemeral", replace_original=False, **message)

    def say(self, text: str) -> None:
        self.reply({"text": text, "blocks": [blocks.section(blocks.escape(text))]})

    def meta(self, **extra) -> dict:
        return {"channel": self.channel, "ward": self.ward, "response_url": self.response_url} | extra


DIGEST_MONTHS = re.compile(r"^(\d{1,3})(?:か月|ヶ月|カ月|ヵ月|months?)?$")
DIGEST_EXPECTING = ("妊娠中", "妊婦", "expecting")


def digest_args(args: list[str]) -> tuple[Ages, date]:
    """``[<月齢>|妊娠中] [YYYY-MM-DD]`` -> (who, the week's Monday); ValueError when unreadable."""
    ages, week = Ages(), digest_mod.coming_monday()
    for arg in (nfkc(a) for a in args):
        months = DIGEST_MONTHS.match(arg)
        if months:
            ages = Ages(int(months.group(1)), int(months.group(1)))
        elif arg in DIGEST_EXPECTING:
            ages = Ages(None, None, True)
        else:
            week = clock.parse_day(arg)
            digest_mod.check_week(week)
    return ages, week


def _digest_who(ages: Ages) -> str:
    if ages.pregnancy:
        return words.DIGEST_WHO_EXPECTING
    return words.DIGEST_WHO_MONTHS.format(months=ages.low) if ages.stated else words.DIGEST_WHO_ANY


def split_words(text: str | None) -> list[str]:
    """Words as typed (full-width spaces separate too); what staff wrote is kept as written."""
    return (text or "").split()


def keyword(word: str) -> str:
    """A subcommand or option as typed in any width or case: ｅｘｐｏｒｔ, EXPORT -> export."""
    return nfkc(word).strip().lower()


def guarded(func):
    """Log a listener's failure with its traceback and tell the staff member, never silently."""

    @functools.wraps(func)
    def wrapper(self, **kwargs):
        try:
            return func(self, **kwargs)
        except BaseMissing:
            logger.exception("Slack listener %s: no base", func.__name__)
            self._tell_failure(kwargs, words.NO_BASE)
        except Exception:
            logger.exception("Slack listener %s failed", func.__name__)
            self._tell_failure(kwargs)

    return wrapper


class StaffBot:
    """The listeners of one Bolt app; settings and the base's path are its only state."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.access = settings.access
        self.after = ThreadPoolExecutor(max_workers=AFTER_WRITE_WORKERS, thread_name_prefix="slack-after-write")
        self.subcommands = {
            "help": None,
            "ask": self.do_ask,
            "progress": self.do_progress,
            "sheet": self.do_sheet,
            "audit": self.do_audit,
            "unanswered": self.do_unanswered,
            "event": self.do_event,
            "digest": self.do_digest,
        }

    def register(self, app: App) -> None:
        app.use(self.once)
        app.command(COMMAND)(self.on_command)
        app.view(modals.PROGRESS)(self.on_progress_submit)
        app.view(modals.FAQ)(self.on_faq_submit)
        app.view(modals.EVENT)(self.on_event_submit)
        app.view(modals.EVENT_CANCEL)(self.on_cancel_submit)
        app.action("kb_unanswered_answer")(self.on_answer_button)
        app.action("kb_event_edit")(self.on_event_button)
        app.action("kb_event_cancel")(self.on_event_button)

    @contextlib.contextmanager
    def db(self) -> Iterator[sqlite_utils.Database]:
        with held(self.settings.db_path) as db:
            yield db

    # --- middleware -------------------------------------------------------------------------

    def once(self, body, request, next):
        """Acknowledge a request seen before (a retry) without doing it again. A stranger's
        request is not recorded: the listener refuses it and nothing is written."""
        if not self.access.allowed(*who(body)):
            return next()
        try:
            with self.db() as db:
                first = first_delivery(db, body, request.raw_body)
        except BaseMissing:
            logger.error("Slack request refused: there is no base at %s yet (run kb import)", self.settings.db_path)
            return BoltResponse(
                status=200,
                body=json.dumps({"response_type": "ephemeral", "text": words.NO_BASE}),
                headers={"content-type": "application/json"},
            )
        if not first:
            retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
            logger.info("Slack request delivered again (retry %s): acknowledged, not done twice", retry)
            return BoltResponse(status=200, body="")
        return next()

    # --- the slash command ------------------------------------------------------------------

    @guarded
    def on_command(self, ack, respond, client, command):
        user, channel = command.get("user_id"), command.get("channel_id")
        parts = split_words(command.get("text"))
        sub = keyword(parts[0]) if parts else "help"
        if not self.access.allowed(user, channel):
            ack(response_type="ephemeral", text=words.REFUSED)
            logger.info("refused /kosodate %s from user %s in channel %s: not staff", sub, user, channel)
            return
        if sub not in self.subcommands:
            ack(response_type="ephemeral", **blocks.help_message(words.UNKNOWN_SUBCOMMAND.format(sub=sub)))
            logger.info("unknown subcommand %r from %s: help shown", sub, user)
            return
        if sub == "help":
            ack(response_type="ephemeral", **blocks.help_message())
            return
        ack()
        rest = (command.get("text") or "").strip()[len(parts[0]) :].strip()
        call = Call(
            user,
            command.get("user_name") or user,
            channel,
            self.access.ward(channel),
            rest,
            command.get("trigger_id") or "",
            respond,
            client,
            command.get("response_url") or "",
        )
        self.subcommands[sub](call)
        logger.info("/kosodate %s done for %s in %s (ward %s)", sub, user, channel, call.ward or "-")

    def do_ask(self, call: Call) -> None:
        if not call.text:
            call.say(words.ASK_EMPTY)
            return
        with self.db() as db:  # what a parent of the ward gets; staff's trial questions are not logged as gaps
            answer = ask(db, call.text, area=call.ward, log=False)
        call.reply(blocks.answer_message(answer, call.text, call.ward))

    def do_progress(self, call: Call) -> None:
        name, period, text = _progress_args(split_words(call.text))
        with self.db() as db:
            found = progress_mod.find_program(db, name, call.ward) if name else progress_mod.Lookup()
            if found.program and period and text:
                self._save_progress(db, call, found.program["id"], period, text)
                return
            programs = (
                found.candidates
                if found.candidates and not found.guess
                else found.candidates + progress_mod.programs_in(db, call.ward)
            )
            if found.program:
                programs = [found.program] + programs
            programs = list({p["id"]: p for p in programs}.values())
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
            note=_progress_note(name, found),
        )
        self._open(call.client, call.trigger_id, view, call.say)

    def _save_progress(self, db, call: Call, program_id: str, period: str, text: str) -> None:
        try:
            progress_mod.validate(program_id, period, text, db)
        except audit.Invalid as e:
            call.say(words.invalid_text(e.errors, words.PROGRESS_LABELS))
            return
        row = progress_mod.add(db, program_id, period, text, actor=call.actor, actor_name=call.user_name)

        def done(db) -> None:
            sheet = sheet_mod.load(db, program_id)
            call.reply(blocks.progress_message(sheet, period, row))
            self._report(
                call.client,
                words.REPORT_PROGRESS.format(
                    user=call.user,
                    program=blocks.escape(sheet.program["title"]),
                    period=period,
                    text=blocks.escape(row["text"]),
                ),
            )

        self.after_write(done)

    def do_sheet(self, call: Call) -> None:
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
        with self.db() as db:
            found = progress_mod.find_program(db, name, call.ward)
            program = found.program or found.guess  # reading a likely program is harmless
            if program is None:
                self._say_candidates(call, name, found.candidates)
                return
            sheet = sheet_mod.load(db, program["id"])
        if export:
            self._export(call, sheet, fmt)
        else:
            call.reply(blocks.sheet_message(sheet))

    def _say_candidates(self, call: Call, name: str, candidates: list[dict]) -> None:
        if not candidates:
            call.say(words.SHEET_NOT_FOUND.format(name=name))
            return
        call.say(words.SHEET_AMBIGUOUS.format(name=name) + "\n" + "\n".join(f"・{c['title']}" for c in candidates))

    def _export(self, call: Call, sheet, fmt: str) -> None:
        title = sheet_mod.title_line(sheet)
        content = "\ufeff" + sheet_mod.to_csv(sheet) if fmt == "csv" else sheet_mod.to_markdown(sheet)
        stamp = clock.now().strftime("%Y-%m-%d %H:%M")
        call.client.files_upload_v2(
            channel=call.channel,
            content=content,
            filename=f"{sheet.program['id']}.{fmt}",
            title=title,
            initial_comment=words.SHEET_EXPORT_COMMENT.format(title=title, when=stamp),
        )
        logger.info("sheet of %s exported as %s to %s by %s", sheet.program["id"], fmt, call.channel, call.user)
        call.say(words.SHEET_EXPORTED.format(title=title))

    def do_digest(self, call: Call) -> None:
        """The weekly digest a parent of the channel's ward would get (``digest preview``'s)."""
        try:
            ages, week = digest_args(split_words(call.text))
        except ValueError:
            call.say(words.DIGEST_USAGE)
            return
        if not call.ward:
            call.say(words.DIGEST_NO_WARD)
            return
        with self.db() as db:
            found = digest_mod.digest_for(db, call.ward, week, ages)
        text = digest_mod.text(found) if not found.empty else f"{digest_mod.headline(found)}\n{words.DIGEST_EMPTY}"
        call.say(words.DIGEST_HEADER.format(who=_digest_who(ages)) + "\n" + text)

    def do_audit(self, call: Call) -> None:
        with self.db() as db:
            rows = [r | {"label": _audit_label(db, r)} for r in audit.recent(db, call.ward)]
        call.reply(blocks.audit_message(rows, call.ward))

    def do_unanswered(self, call: Call) -> None:
        with self.db() as db:
            groups = faqs.open_groups(db, call.ward)
        call.reply(blocks.unanswered_message(groups, call.ward))

    def do_event(self, call: Call) -> None:
        if not call.ward:
            call.say(words.NO_WARD)
            return
        parts = split_words(call.text)
        given = bool(parts) and keyword(parts[0]) in EVENT_MODES
        mode = keyword(parts[0]) if given else "add"
        name = " ".join(parts[1:] if given else parts)
        with self.db() as db:
            if mode == "add":
                view = modals.event_view(call.meta(), events.bases_in(db, call.ward), events.EventInput(title=name))
                self._open(call.client, call.trigger_id, view, call.say)
                return
            if not name:
                call.say(words.EVENT_EMPTY_NAME)
                return
            found = events.find(db, call.ward, name)
            if len(found) == 1:
                view = self._event_mode_view(db, mode, found[0]["id"], call.meta(activity_id=found[0]["id"]))
                self._open(call.client, call.trigger_id, view, call.say)
                return
        if not found:
            call.say(words.EVENT_NOT_FOUND.format(name=name, ward=call.ward))
            return
        call.reply(blocks.event_choices_message(found, name, mode))

    def _event_mode_view(self, db, mode: str, activity_id: str, meta: dict) -> dict:
        if mode == "cancel":
            return modals.cancel_view(events.get(db, activity_id)["title"], meta)
        ward = meta.get("ward")
        return modals.event_view(
            meta, events.bases_in(db, ward), events.as_input(db, activity_id), dates=events.date_count(db, activity_id)
        )

    # --- buttons ----------------------------------------------------------------------------

    @guarded
    def on_answer_button(self, ack, body, action, client, respond):
        ack()
        user, channel = who(body)
        if not self._allowed_or_told(client, user, channel):
            return
        value = json.loads(action.get("value") or "{}")
        ward = value.get("area") or self.access.ward(channel)
        lead = value.get("lead") if "lead" in value else next(iter(value.get("ids") or []), None)  # or an older button
        lead = int(lead) if str(lead).isdigit() else None
        with self.db() as db:
            ids = faqs.group_ids(db, ward, lead) if lead is not None else []
            texts = (
                [
                    r[0]
                    for r in db.execute(
                        f"SELECT text FROM unanswered WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id DESC", ids
                    ).fetchall()
                ]
                if ids
                else []
            )
        meta = {"channel": channel, "ward": ward, "lead": lead, "response_url": body.get("response_url") or ""}
        question = texts[0] if texts else ""
        view = modals.faq_view(question, "、".join(dict.fromkeys(texts[1:])), meta)
        self._open(client, body.get("trigger_id"), view, self._teller(client, channel, user, respond))

    @guarded
    def on_event_button(self, ack, body, action, client, respond):
        ack()
        user, channel = who(body)
        if not self._allowed_or_told(client, user, channel):
            return
        mode = "cancel" if action.get("action_id") == "kb_event_cancel" else "edit"
        activity_id = action.get("value") or ""
        with self.db() as db:
            if events.get(db, activity_id) is None:
                self._ephemeral(client, channel, user, words.EVENT_NOT_FOUND.format(name=activity_id, ward=""))
                return
            meta = {
                "channel": channel,
                "ward": self.access.ward(channel),
                "activity_id": activity_id,
                "response_url": body.get("response_url") or "",
            }
            view = self._event_mode_view(db, mode, activity_id, meta)
        self._open(client, body.get("trigger_id"), view, self._teller(client, channel, user, respond))

    # --- modal submissions ------------------------------------------------------------------

    @guarded
    def on_progress_submit(self, ack, body, view, client):
        user, meta, values = _submission(body, view)
        if not self._submit_allowed(ack, user, meta, view):
            return
        with self.db() as db:
            if _invalid(
                ack,
                view,
                lambda: progress_mod.validate(values.get("program"), values.get("period"), values.get("text"), db),
            ):
                return
        ack()
        with self.db() as db:
            row = progress_mod.add(
                db,
                values["program"],
                values["period"],
                values["text"],
                actor=f"slack:{user}",
                actor_name=_user_name(body),
            )

        def done(db) -> None:
            sheet = sheet_mod.load(db, row["program_id"])
            message = blocks.progress_message(sheet, row["period"], row)
            self._confirm(client, meta, user, message["text"], message["blocks"])
            self._report(
                client,
                words.REPORT_PROGRESS.format(
                    user=user,
                    program=blocks.escape(sheet.program["title"]),
                    period=row["period"],
                    text=blocks.escape(row["text"]),
                ),
            )

        self.after_write(done)

    @guarded
    def on_faq_submit(self, ack, body, view, client):
        user, meta, values = _submission(body, view)
        if not self._submit_allowed(ack, user, meta, view):
            return
        if _invalid(
            ack, view, lambda: faqs.validate(values.get("question"), values.get("answer"), values.get("words"))
        ):
            return
        ack()
        ward = meta.get("ward")
        lead = meta.get("lead")
        with self.db() as db:
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
            self._confirm(client, meta, user, text)
            self._report(
                client,
                words.REPORT_FAQ.format(
                    user=user, ward=blocks.escape(ward or words.ALL_WARDS), question=blocks.escape(row["question"])
                ),
            )

        self.after_write(done)

    @guarded
    def on_event_submit(self, ack, body, view, client):
        user, meta, values = _submission(body, view)
        if not self._submit_allowed(ack, user, meta, view):
            return
        inp = modals.event_input(values)
        activity_id = meta.get("activity_id")
        checked = []
        with self.db() as db:
            if _invalid(ack, view, lambda: checked.append(events.check_edit(db, activity_id, inp))):
                return
        ack()
        with self.db() as db:
            if activity_id:
                row, mode = events.edit(db, activity_id, inp, actor=f"slack:{user}"), "edit"
            else:
                row, mode = events.add(db, meta.get("ward"), inp, actor=f"slack:{user}"), "add"
        day = checked[0][0] if checked else None
        self.after_write(lambda _db: self._event_done(client, meta, user, row, mode, past=events.is_past(day)))

    @guarded
    def on_cancel_submit(self, ack, body, view, client):
        user, meta, _values = _submission(body, view)
        if not self._submit_allowed(ack, user, meta, view):
            return
        ack()
        with self.db() as db:
            row = events.cancel(db, meta.get("activity_id") or "", actor=f"slack:{user}")
        self.after_write(lambda _db: self._event_done(client, meta, user, row, "cancel"))

    def _event_done(self, client, meta: dict, user: str, row: dict, mode: str, past: bool = False) -> None:
        text = words.EVENT_SAVED[mode].format(title=row["title"]) + (words.EVENT_PAST if past else "")
        self._confirm(client, meta, user, text)
        self._report(
            client,
            words.REPORT_EVENT[mode].format(
                user=user, ward=blocks.escape(row["area"]), title=blocks.escape(row["title"])
            ),
        )

    # --- after a write ----------------------------------------------------------------------

    def after_write(self, done: Callable[[sqlite_utils.Database], None]) -> None:
        """Build the index of the version just written, then run ``done`` (tell staff), in a
        thread of the bot's own: the listener's thread is free at once."""
        self.after.submit(self._after_write, done)

    def _after_write(self, done: Callable[[sqlite_utils.Database], None]) -> None:
        try:
            with self.db() as db:
                fresh_index(db)
                done(db)
        except Exception:
            logger.exception("after a staff write (which stands): the confirmation failed")

    def _confirm(self, client, meta: dict, user: str, text: str, block_list: list | None = None) -> None:
        """Tell staff a modal's write is done: at the response URL of the command or button that
        opened it, else ephemerally in its channel, else in a direct message."""
        block_list = block_list or [blocks.section(blocks.escape(text))]
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
            self._ephemeral(client, meta.get("channel"), user, text, block_list, raise_errors=True)
            return
        except Exception:
            logger.warning("could not tell %s in channel %s; sending a direct message", user, meta.get("channel"))
        client.chat_postMessage(channel=user, text=text, blocks=block_list)

    # --- helpers ----------------------------------------------------------------------------

    def _submit_allowed(self, ack, user: str, meta: dict, view: dict) -> bool:
        """A submission is checked again: the modal may outlive the user's place on the list."""
        if self.access.allowed(user, meta.get("channel")):
            return True
        present = modals.input_blocks(view)
        if present:
            ack(response_action="errors", errors={present[0]: words.field_error("", "refused")})
        else:
            ack()
        logger.info("refused a modal submission from %s: not staff", user)
        return False

    def _allowed_or_told(self, client, user: str, channel: str) -> bool:
        if self.access.allowed(user, channel):
            return True
        logger.info("refused a button from user %s in channel %s: not staff", user, channel)
        self._ephemeral(client, channel, user, words.REFUSED)
        return False

    def _open(self, client, trigger_id: str, view: dict, tell: Callable[[str], None]) -> None:
        """Open a modal; when Slack refuses it, staff are told (``tell``), never left waiting."""
        try:
            client.views_open(trigger_id=trigger_id, view=view)
        except Exception:
            logger.exception("views.open failed (callback %s)", view.get("callback_id"))
            try:
                tell(words.MODAL_FAILED)
            except Exception:
                logger.exception("could not tell the staff member that the modal did not open")

    def _teller(self, client, channel: str, user: str, respond) -> Callable[[str], None]:
        """How to tell the user who clicked a button: at its response URL, else ephemerally."""

        def tell(text: str) -> None:
            if respond is not None and getattr(respond, "response_url", None):
                respond(response_type="ephemeral", replace_original=False, text=text)
            else:
                self._ephemeral(client, channel, user, text)

        return tell

    def _ephemeral(
        self,
        client,
        channel: str | None,
        user: str,
        text: str,
        block_list: list | None = None,
        raise_errors: bool = False,
    ) -> None:
        if not channel:
            logger.warning("no channel to tell %s: %s", user, text)
            if raise_errors:
                raise LookupError("no channel")
            return
        client.chat_postEphemeral(
            channel=channel, user=user, text=text, blocks=block_list or [blocks.section(blocks.escape(text))]
        )

    def _report(self, client, text: str) -> None:
        """Announce a write in the report channel; a failure is logged, the write stands."""
        if not self.settings.report_channel:
            return
        try:
            client.chat_postMessage(channel=self.settings.report_channel, text=text)
        except Exception:
            logger.exception("could not post to the report channel %s", self.settings.report_channel)

    def _tell_failure(self, kwargs: dict, text: str = words.FAILED) -> None:
        with contextlib.suppress(Exception):
            kwargs["ack"]()
        try:
            if kwargs.get("respond") is not None and (kwargs.get("command") or {}).get("response_url"):
                kwargs["respond"](response_type="ephemeral", replace_original=False, text=text)
                return
            body = kwargs.get("body") or {}
            user, channel = who(body)
            channel = channel or modals.meta(body.get("view") or {}).get("channel")
            if kwargs.get("client") is not None and user and channel:
                self._ephemeral(kwargs["client"], channel, user, text)
        except Exception:
            logger.exception("could not tell the staff member that their request failed")


def fresh_index(db: sqlite_utils.Database) -> None:
    """Build the index of the version just written, so this process's next question sees the
    write; a failed build is logged (the write stands, the index catches up in the background)."""
    try:
        index_for(db, wait=True)
    except Exception:
        logger.exception("could not rebuild the index after a staff write; it is rebuilt at the next question")


def _audit_label(db, row: dict) -> str | None:
    """What an audit row changed, as staff name it: the event's or program's title, the question."""
    record = row.get("after") or row.get("before") or {}
    if record.get("program_id"):
        found = db.execute("SELECT title FROM programs WHERE id = ?", [record["program_id"]]).fetchone()
        return found[0] if found else None
    return record.get("title") or record.get("question")


def _progress_note(name: str, found: progress_mod.Lookup) -> str | None:
    """What the progress modal says above its menus about the name typed, if anything."""
    if not name or found.program:
        return None
    if found.guess:
        return words.PROGRESS_GUESS.format(name=name, title=found.guess["title"])
    return (words.PROGRESS_AMBIGUOUS if found.candidates else words.PROGRESS_NOT_FOUND).format(name=name)


def _progress_args(parts: list[str]) -> tuple[str, str | None, str]:
    """``居場所 後期 第3回研究会…`` -> (居場所, 後期, 第3回研究会…); the period may come anywhere."""
    at = next((i for i, p in enumerate(parts) if nfkc(p) in progress_mod.PERIODS), None)
    if at is None:
        return " ".join(parts[:1]), None, " ".join(parts[1:])
    return " ".join(parts[:at]), nfkc(parts[at]), " ".join(parts[at + 1 :])


def _user_name(body: dict) -> str:
    user = body.get("user") or {}
    return user.get("username") or user.get("name") or user.get("id") or ""


def _submission(body: dict, view: dict) -> tuple[str, dict, dict[str, str]]:
    return (body.get("user") or {}).get("id"), modals.meta(view), modals.values(view)


def _invalid(ack, view: dict, check) -> bool:
    """Run ``check``; on ``audit.Invalid`` answer Slack's field errors (nothing was written)."""
    try:
        check()
    except audit.Invalid as e:
        ack(response_action="errors", errors=modals.errors(e.errors, modals.input_blocks(view)))
        logger.info("modal %s refused: %s", view.get("callback_id"), e)
        return True
    return False
