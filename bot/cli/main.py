"""The ``kosodate-bot`` command line: build and query the knowledge base, serve the app.

Every subcommand takes ``--db PATH`` (default: $KOSODATE_DB, else ./kosodate.db).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pathlib
import sys

import click

from bot import logs
from bot.cli.digest import digest
from bot.cli.options import Group, db_option, import_meaning, open_existing, parse_day, seeds_dir, workers_option
from bot.cli.progress import Bars
from bot.cli.queue import queue
from bot.config import Config, ConfigError
from knowledge import ask as ask_question
from knowledge import open_db
from knowledge.importers import ImportRejected, import_file
from knowledge.importers.base import UnreadableFile
from knowledge.importers.demo import build_demo, counts_text
from knowledge.search.index import index_for
from knowledge.settings import Settings
from knowledge.store import stats as stats_mod
from knowledge.store.areas import AreaError
from knowledge.store.areas import resolve as resolve_area

logger = logging.getLogger(__name__)


@click.group(cls=Group)
@click.version_option(package_name="kosodate-bot")
@click.pass_context
def cli(ctx: click.Context):
    """kosodate-bot: a child-rearing support bot for Japanese wards."""
    try:
        config = Config.from_env()
    except ConfigError as e:
        raise click.ClickException(str(e)) from e
    if not os.environ.get("KOSODATE_LOG_LEVEL"):  # the CLI speaks through its output; logs on demand
        config = dataclasses.replace(config, log_level="WARNING")
    logs.configure(config.log_level)
    ctx.obj = config.settings()  # the domain's settings, made once, for the commands that ask


@cli.group()
def kb():
    """Build, import into, inspect and export the knowledge base."""


@kb.command("init")
@click.option("--demo", is_flag=True, help="Fill the base with the shipped demo documents and sample events.")
@click.option(
    "--seeds",
    type=click.Path(file_okay=False),
    help="With --demo: import the seed documents found in DIR in place of their shipped restatements "
    "(default: $KOSODATE_SEEDS; none).",
)
@workers_option
@db_option
@click.pass_obj
def kb_init(settings: Settings, demo, seeds, workers, db_path):
    """Create the knowledge base (and, with --demo, fill it with demo knowledge)."""
    if demo:
        with Bars("demo") as bars:
            build_demo(
                db_path, seeds_dir(seeds), echo=click.echo, meaning=import_meaning(settings, workers), progress=bars
            )
        click.echo(f"demo knowledge base ready: {db_path}")
    else:
        open_db(db_path).close()
        click.echo(f"knowledge base ready: {db_path}")


@kb.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--area", help="Area (ward or city) the file is about, full or short name.")
@click.option("--fiscal-year", type=int, help="Fiscal year for a sheet that states none (2025 = 令和7年度).")
@click.option("--skip-invalid", is_flag=True, help="Import the good rows of a file with bad rows.")
@click.option(
    "--source",
    "label",
    help="Label naming the source in place of the file name, for two different files of one kind, "
    "area and name (give the same label when re-importing).",
)
@click.option(
    "--replace",
    is_flag=True,
    help="The file is a newer version of the source of the same kind, area and name imported "
    "from another folder: replace that source's records.",
)
@workers_option
@db_option
@click.pass_obj
def kb_import(settings: Settings, paths, area, fiscal_year, skip_invalid, label, replace, workers, db_path):
    """Import ward documents, open-data CSVs, FAQ, synonym or placeholder files.

    A source is its kind, area and file name (or --source label): re-importing it replaces its
    records. The same name from another folder is refused unless --source or --replace says which.
    """
    db = open_db(db_path)
    meaning = import_meaning(settings, workers)
    failed = False
    for path in paths:
        try:
            with Bars(pathlib.Path(path).name) as bars:
                report = import_file(
                    db,
                    path,
                    area=area,
                    fiscal_year=fiscal_year,
                    skip_invalid=skip_invalid,
                    source=label,
                    replace=replace,
                    meaning=meaning,
                    progress=bars,
                )
        except ImportRejected as e:
            failed = True
            click.echo(f"{e.name}: nothing imported, {len(e.errors)} bad row(s):", err=True)
            for err in e.errors:
                click.echo(f"  {err}", err=True)
            continue
        except (UnreadableFile, AreaError, UnicodeDecodeError, ValueError) as e:
            failed = True
            click.echo(f"{pathlib.Path(path).name}: not imported: {e}", err=True)
            continue
        click.echo(f"{report.name} ({report.kind}, source {report.source}): {counts_text(report.counts)}")
        for err in report.errors:
            click.echo(f"  skipped {err}", err=True)
        for note in report.notes:
            click.echo(f"  note: {note}", err=True)
    if failed:
        sys.exit(1)


@kb.command("stats")
@click.option("--json", "as_json", is_flag=True)
@db_option
def kb_stats(as_json, db_path):
    """Count records by kind and area; list sources and their credits."""
    db = open_existing(db_path)
    result = stats_mod.stats(db)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(stats_mod.format_stats(result))


@kb.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@db_option
def kb_export(directory, db_path):
    """Write events and facilities back out as standard open-data CSVs."""
    from knowledge.importers.export import export_events, export_facilities

    db = open_existing(db_path)
    out = pathlib.Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    export_events(db, out / "events.csv")
    export_facilities(db, out / "facilities.csv")
    click.echo(f"wrote {out / 'events.csv'} and {out / 'facilities.csv'}")


@cli.command("ask")
@click.argument("text", required=False)
@click.option("--area", help="The parent's area (ward or city).")
@click.option("--today", help="Answer as if today were this date (YYYY-MM-DD).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option(
    "--batch", type=click.File("r", encoding="utf-8"), help='JSONL of {"q", "area", "today"}: one JSON answer a line.'
)
@db_option
@click.pass_obj
def ask_cmd(settings: Settings, text, area, today, as_json, batch, db_path):
    """Answer a question as a parent would see it."""
    db = open_existing(db_path)
    with Bars("index") as bars:  # a large base's index takes seconds: built here, with a bar on a terminal
        index_for(db, wait=True, meaning=settings.meaning, progress=bars)
    if batch:
        for line in batch:
            if line.strip():
                click.echo(json.dumps(_batch_answer(db, line, area, today, settings), ensure_ascii=False))
        return
    if not text:
        raise click.UsageError("give a question, or --batch FILE")
    try:
        answer = ask_question(db, text, area=area, today=parse_day(today), settings=settings)
    except AreaError as e:
        raise click.BadParameter(str(e), param_hint="--area") from e
    click.echo(json.dumps(answer.to_dict(), ensure_ascii=False) if as_json else answer.text)


def _batch_answer(db, line: str, area: str | None, today: str | None, settings: Settings) -> dict:
    """One batch line; a bad line gets an answer that says why, so lines stay aligned."""
    try:
        case = json.loads(line)
        return ask_question(
            db,
            case.get("q", ""),
            area=case.get("area") or area,
            today=parse_day(case.get("today") or today),
            settings=settings,
        ).to_dict()
    except (ValueError, AreaError, click.BadParameter, AttributeError) as e:
        return {"answered": False, "items": [], "text": f"質問を読み取れませんでした（{e}）", "error": str(e)}


@cli.group()
def faq():
    """FAQ tools."""


@faq.command("placeholders")
@click.option("--area", help="Show or set values for this area (default: every area).")
@click.option("--set", "assignments", multiple=True, metavar="PLACEHOLDER=VALUE", help="Set a value (repeatable).")
@click.option("--json", "as_json", is_flag=True)
@db_option
def faq_placeholders(area, assignments, as_json, db_path):
    """List the FAQ template placeholders (with how many FAQs use each and its value), or set values."""
    from knowledge.answers import placeholders

    db = open_existing(db_path)
    try:
        area = resolve_area(db, area) if area else None
    except AreaError as e:
        raise click.BadParameter(str(e), param_hint="--area") from e
    for assignment in assignments:
        name, sep, value = assignment.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"{assignment!r}: use PLACEHOLDER=VALUE", param_hint="--set")
        placeholders.set_value(db, name.strip(), value.strip(), area)
        click.echo(f"set {name.strip()} = {value.strip()} for {area or 'every area'}")
    if assignments:
        return
    rows = placeholders.inventory(db, area)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        state = f"= {row['value']}" if row["value"] else "(no value)"
        click.echo(f"{row['faqs']:4d}  {row['placeholder']}  {state}")


@cli.group()
def line():
    """LINE Official Account tools."""


@line.command("richmenu")
@click.option(
    "--image",
    "image_path",
    type=click.Path(dir_okay=False),
    help="Use this PNG or JPEG (2500×1686, at most 1 MB) in place of the shipped image.",
)
@click.option("--dry-run", is_flag=True, help="Print the menu's JSON and check the image; send nothing.")
def line_richmenu(image_path, dry_run):
    """Create the bot's rich menu, upload its image and make it every user's default.

    Run again, it replaces the menu this bot made before (deleted once the new one is the
    default). Needs LINE_CHANNEL_ACCESS_TOKEN; LINE_API_BASE_URL points it elsewhere.
    """
    from handlers.line import richmenu

    try:
        image = richmenu.load_image(image_path)
    except richmenu.RichMenuError as e:
        raise click.ClickException(str(e)) from e
    if dry_run:
        click.echo(richmenu.menu_json(richmenu.menu_request()))
        click.echo(
            f"image {image.path}: {image.content_type}, {image.width}×{image.height}, "
            f"{len(image.data):,} bytes (dry run: nothing sent)",
            err=True,
        )
        return
    config = Config.from_env()
    if not config.line_channel_access_token:
        raise click.ClickException("LINE_CHANNEL_ACCESS_TOKEN is not set")
    try:
        result = richmenu.install(config.line_channel_access_token, config.line_api_base_url, image)
    except richmenu.RichMenuError as e:
        raise click.ClickException(str(e)) from e
    click.echo(
        f"rich menu {result.rich_menu_id} is now the default for all users"
        + (f"; deleted the old one(s): {', '.join(result.deleted)}" if result.deleted else "")
    )


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@db_option
def serve(host, port, db_path):
    """Serve the web app (health check, /api/ask, and the channel webhooks once configured)."""
    from bot.app import create_app

    open_existing(db_path).close()  # the web process never creates a base: make or find it here
    os.environ["KOSODATE_DB"] = db_path
    app = create_app(Config.from_env())
    app.run(host=host, port=port, threaded=True)


cli.add_command(digest)
cli.add_command(queue)

if __name__ == "__main__":
    cli()
