"""The request's connection to the base, over Flask's ``g`` (as the Flask tutorial's ``get_db``).

sqlite3 connections belong to the thread that made them and gunicorn's gthread workers serve
from many threads, so each thread keeps its own (``knowledge.db.thread_db``), reused from one
request to the next and released at teardown with nothing left half-done. The web process
never creates a base: a missing file is a deploy error (``BaseMissing``: 503 and why).
"""

from __future__ import annotations

from flask import Flask, current_app, g

from knowledge.db import release, thread_db


def get_db():
    """This request's connection to the base (this thread's, released at teardown)."""
    if "db" not in g:
        g.db = thread_db(current_app.config["KOSODATE"].db_path)
    return g.db


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        release(db)


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
