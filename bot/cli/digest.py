"""``kosodate-bot digest``: preview, send and schedule the weekly digest.

Exit codes of ``digest send`` (also what the clock process logs): 0 everything due was sent or
had been sent; 1 the run could not start (no token, the quota unreadable); 3 another run holds
the lock (this one sent nothing); 4 the quota does not cover what is due (nothing sent; with
``--allow-partial``, the rest left for a later run); 5 some batches failed after their retries
(run again: they are retried with their stored keys).
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import date

import click

from bot.cli.options import db_option, open_existing, parse_day
from bot.config import Config
from bot.digest_job import send_week
from knowledge.lang.audience import Ages
from knowledge.parents import digest as digest_mod
from knowledge.settings import Settings
from knowledge.store.areas import AreaError
from knowledge.store.areas import resolve as resolve_area

logger = logging.getLogger(__name__)


@click.group()
def digest():
    """The weekly digest of events sent to parents on LINE."""


def _week(value: str | None, today: date):
    day = parse_day(value)
    return day or digest_mod.coming_monday(today)


def _send_week_option(value: str | None, today: date):
    """``--week`` of ``send``: a week's first day only (the ledger is keyed by it: another day
    would make an overlapping week and send its days again); given but empty is an error too."""
    if value is None:
        return digest_mod.coming_monday(today)
    if not value.strip():
        raise click.BadParameter("give the week's first day, YYYY-MM-DD (or leave --week out)", param_hint="--week")
    day = parse_day(value)
    try:
        digest_mod.check_week(day)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--week") from e
    return day


@digest.command("preview")
@click.option("--area", required=True, help="The parent's ward (or city).")
@click.option("--age-months", type=click.IntRange(0, 18 * 12), help="The child's age in months.")
@click.option("--expecting", is_flag=True, help="An expecting parent (pregnancy events).")
@click.option("--week", help="The week's first day, YYYY-MM-DD (default: the coming Monday).")
@click.option("--json-only", is_flag=True, help="Print only the Flex JSON.")
@db_option
@click.pass_obj
def preview(settings: Settings, area, age_months, expecting, week, json_only, db_path):
    """Print what such a parent would get: the text, then the LINE messages as JSON."""
    from handlers.line import digest as line_digest

    db = open_existing(db_path)
    try:
        area = resolve_area(db, area)
    except AreaError as e:
        raise click.BadParameter(str(e), param_hint="--area") from e
    if expecting and age_months is not None:
        raise click.UsageError("give --age-months or --expecting, not both")
    ages = Ages(None, None, True) if expecting else Ages(age_months, age_months) if age_months is not None else Ages()
    config = Config.from_env()
    found = digest_mod.digest_for(db, area, _week(week, settings.clock.today()), ages, config.digest_empty_note)
    text, flex = line_digest.preview(found, settings.clock.today())
    if not json_only:
        click.echo(
            text
            if not found.empty or found.note
            else f"{digest_mod.headline(found)}\n（イベントがないため、この週は送りません）"
        )
        click.echo("")
    click.echo(flex if not found.empty or found.note else "[]")


@digest.command("send")
@click.option("--week", help="The week's first day, YYYY-MM-DD (default: the coming Monday in the parents' zone).")
@click.option("--dry-run", is_flag=True, help="Print the plan (groups, recipients, messages); send nothing.")
@click.option(
    "--allow-partial",
    is_flag=True,
    help="When the month's quota is short, send in priority order (see the README) instead of nothing.",
)
@db_option
@click.pass_obj
def send(settings: Settings, week, dry_run, allow_partial, db_path):
    """Send the week's digest to every subscribed parent, once (a rerun sends only what is missing)."""
    config = Config.from_env()
    if not os.environ.get("KOSODATE_LOG_LEVEL"):
        # The CLI's default is WARNING (it speaks through its output), but a send from cron
        # must leave its batches and summary in the log: INFO unless the deployer says otherwise.
        from bot import logs

        logs.configure(config.log_level)
    week_day = _send_week_option(week, settings.clock.today())
    db = open_existing(db_path)
    if dry_run:
        _print_plan(db, week_day, config.digest_empty_note)
        return
    code = send_week(db, config, week_day, allow_partial=allow_partial, echo=click.echo)
    sys.exit(code)


def _print_plan(db, week, note) -> None:
    from handlers.line import digest as line_digest
    from handlers.line import digest_run

    plan, pending = digest_run.dry_plan(db, week, note)
    click.echo(f"week {digest_mod.period(week)} (dry run: nothing sent)")
    expired = [b for b in pending if b.created_at and digest_mod.key_expired(b.created_at)]
    for batch in pending:
        click.echo(
            f"  unfinished batch {batch.batch_id}: {len(batch.user_ids)} recipient(s), key {batch.retry_key}"
            + (" (key expired: to be marked uncertain, not resent)" if batch in expired else "")
        )
    pending = [b for b in pending if b not in expired]
    calls = 0
    for group in plan.groups:
        n = len(group.recipients)
        calls += -(-n // 500)
        click.echo(
            f"  {group.digest.area}: {len(group.digest.events)} event(s)"
            f"{' (fitted)' if group.digest.fitted else ''}: {n} recipient(s)"
        )
        click.echo(
            _indented(
                f"altText: {line_digest.alt_text(group.digest)}"
                if not group.digest.empty
                else "text message (no events: the configured note)"
            )
        )
        click.echo(_indented(digest_mod.text(group.digest)))
    due = plan.recipients + sum(len(b.user_ids) for b in pending)
    click.echo(
        f"groups {len(plan.groups)}, recipients {due}, messages {due}, calls {calls + len(pending)}; "
        f"already sent {digest_mod.counts(db, week).get(digest_mod.SENT, 0)}, no events {plan.skipped_empty}, "
        f"opted out {plan.opted_out}, no ward {plan.no_area}"
    )


def _indented(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


@digest.command("clock")
@db_option
def clock_cmd(db_path):
    """Run forever, sending the digest at KOSODATE_DIGEST_TIME each week (the Procfile's clock:)."""
    from bot import digest_clock

    config = Config.from_env()
    open_existing(db_path).close()
    digest_clock.run_forever(config, db_path)
