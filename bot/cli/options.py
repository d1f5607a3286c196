"""The options and checks every ``kosodate-bot`` command shares: ``--db``, a base that must
exist, a day given as text, and one clear line for a base that stays locked.

Kept apart from the commands so that command groups (``kb``, ``digest``…) import them
without importing one another.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import pathlib
import sqlite3
from datetime import date

import click

from bot.cli.progress import Bars, cores
from knowledge import open_db
from knowledge.importers.demo import build_demo
from knowledge.lang import clock
from knowledge.search.embed import Meaning
from knowledge.settings import Settings
from knowledge.store.db import BUSY_TIMEOUT_S

logger = logging.getLogger(__name__)

DEFAULT_DB = "./kosodate.db"


def db_option(f):
    @click.option(
        "--db",
        "db_path",
        envvar="KOSODATE_DB",
        default=DEFAULT_DB,
        show_default=True,
        type=click.Path(dir_okay=False),
        help="SQLite knowledge base file.",
    )
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapper


def workers_option(f):
    return click.option(
        "--workers",
        type=click.IntRange(min=1),
        default=None,
        help="Processes the sentence-embedding engine runs in while importing (default: one per core "
        "this process may use; serving keeps one).",
    )(f)


def import_meaning(settings: Settings, workers: int | None = None) -> Meaning:
    """The meaning stage of an offline import: the deploy's engine in ``workers`` processes
    (default: one per core this process may use). A deployer waits for the import; serving
    keeps one engine a process, as gunicorn's workers share the cores."""
    return dataclasses.replace(settings.meaning, workers=workers or cores())


class Group(click.Group):
    """Turns a base that stays locked or cannot be read into one clear line and exit 1,
    not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except sqlite3.OperationalError as e:
            logger.debug("database error", exc_info=True)
            if "locked" in str(e) or "busy" in str(e):
                raise click.ClickException(
                    f"the knowledge base stayed locked by another writer for {BUSY_TIMEOUT_S:g} s; "
                    "nothing was changed by this command: try again"
                ) from e
            raise click.ClickException(f"the knowledge base could not be used: {e}") from e


def seeds_dir(explicit: str | None) -> pathlib.Path | None:
    """The seed documents' directory when one is asked for (``--seeds``, else $KOSODATE_SEEDS).

    The demo is built from the shipped documents otherwise, whether or not ../shared/seeds
    happens to lie beside the clone: one demo everywhere (a ward's fresh clone, CI, the tests).
    """
    for value, origin in ((explicit, "--seeds"), (os.environ.get("KOSODATE_SEEDS"), "KOSODATE_SEEDS")):
        if value:
            if not pathlib.Path(value).is_dir():
                raise click.ClickException(f"{origin} {value}: no such directory")
            return pathlib.Path(value)
    return None


def open_existing(db_path: str):
    """Open a base that must exist; the default base is built from the demo when missing."""
    if not pathlib.Path(db_path).exists():
        if db_path == DEFAULT_DB and not os.environ.get("KOSODATE_DB"):
            click.echo(f"no knowledge base at {db_path}: building the demo base first", err=True)
            with Bars("demo") as bars:
                build_demo(
                    db_path,
                    seeds_dir(None),
                    echo=lambda m: click.echo(m, err=True),
                    meaning=import_meaning(_settings()),
                    progress=bars,
                )
        else:
            raise click.ClickException(
                f"no knowledge base at {db_path}: run `kosodate-bot kb init --demo --db {db_path}` or `kb import`"
            )
    return open_db(db_path)


def _settings() -> Settings:
    """The settings the ``kosodate-bot`` group made (the code's defaults outside a command)."""
    ctx = click.get_current_context(silent=True)
    settings = ctx.find_object(Settings) if ctx else None
    return settings or Settings()


def parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return clock.parse_day(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e
