"""The request's connection to the base, over Flask's ``g`` (as the Flask tutorial's ``get_db``).

sqlite3 connections belong to the thread that made them and gunicorn's gthread workers serve
from many threads, so each thread keeps its own (``knowledge.store.db.held``), reused from one
request to the next and released at teardown with nothing left half-done. The web process
never creates a base: a missing file is a deploy error (``BaseMissing``: 503 and why).
"""

from __future__ import annotations

import contextlib

from flask import Flask, current_app, g

from knowledge.store.db import held


def get_db():
    """This request's connection to the base (``held``: this thread's, released at teardown)."""
    if "db" not in g:
        hold = contextlib.ExitStack()
        g.db = hold.enter_context(held(current_app.config["KOSODATE"].db_path))
        g.db_hold = hold
    return g.db


def close_db(_exc=None) -> None:
    g.pop("db", None)
    hold = g.pop("db_hold", None)
    if hold is not None:
        hold.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
