"""One connection to the base per request, over Flask's ``g`` (as the Flask tutorial's ``get_db``).

sqlite3 connections belong to the thread that made them and gunicorn's gthread workers serve
from many threads, so each request opens its own and closes it at teardown. The web process
never creates a base: a missing file is a deploy error (``BaseMissing``: 503 and why).
"""

from __future__ import annotations

from flask import Flask, current_app, g

from knowledge import open_db


def get_db():
    """This request's connection to the base (opened on first use, closed at teardown)."""
    if "db" not in g:
        g.db = open_db(current_app.config["KOSODATE"].db_path, create=False)
    return g.db


def close_db(_exc=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
