"""The Flask app factory: health check, the JSON question endpoint, and (later) channel webhooks.

One database connection per request (``bot.db.get_db``). The web process never creates a base:
a missing file is a deploy error (503 and why), and ``kosodate-bot kb init`` makes one. The
channels are blueprints: LINE's ``/callback`` (``bot.line_routes``).

Every answer the web process gives is JSON, errors included.
"""

from __future__ import annotations

import logging
import sqlite3

from flask import Flask, current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import db as bot_db
from bot import logs
from bot.config import Config
from bot.db import get_db
from bot.line_routes import line_blueprint, line_channel_for
from bot.queue import Workers, make_huey
from bot.slack_routes import slack_blueprint
from knowledge import ask
from knowledge.lang import clock
from knowledge.store.areas import AreaError
from knowledge.store.db import BaseMissing, busy_timeout, migrations, writing

logger = logging.getLogger(__name__)

MAX_QUERY_BYTES = 64 * 1024  # a query string longer than this is refused (414)
MAX_BODY_BYTES = 64 * 1024  # a POST body longer than this is refused (413)
RECORD_TABLES = ("programs", "activities", "bases", "faqs")
QUEUE = "kosodate_queue"  # app.extensions key of the queue's ``bot.queue.Workers``
PROBE_WAIT_S = 2.0  # the health check's write waits this long for another writer's lock


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    logs.configure(config.log_level)
    app = Flask(__name__)
    app.config["KOSODATE"] = config
    app.config["KOSODATE_SETTINGS"] = config.settings()  # made once, passed to every question
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.ensure_ascii = False
    if config.proxy_hops:  # behind a router: the client is the address it forwards, not the router's
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.proxy_hops, x_proto=config.proxy_hops)
    bot_db.init_app(app)
    app.get("/healthz")(healthz)
    app.route("/api/ask", methods=["GET", "POST"])(api_ask)
    line = None
    if config.line_channel_secret and config.line_channel_access_token:  # the queue's only producer so far
        queue = config.queue()
        workers = Workers(make_huey(queue), queue.workers)
        app.extensions[QUEUE] = workers
        line = line_channel_for(config, app.config["KOSODATE_SETTINGS"], workers.huey)
    app.register_blueprint(line_blueprint(config, line))
    app.register_blueprint(slack_blueprint(config, app.config["KOSODATE_SETTINGS"]))
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(BaseMissing, base_missing)
    app.register_error_handler(sqlite3.Error, database_error)
    app.register_error_handler(Exception, unexpected_error)
    if line is not None:
        workers.start()
        line.resume_later()
    logger.info(
        "app ready: base %s, time zone %s, queue %s",
        config.db_path,
        config.timezone,
        config.queue().kind if line is not None else "-",
    )
    return app


def healthz():
    """200 only for a base that exists, has its schema and holds records; 503 and why otherwise."""
    db = get_db()
    if migrations.pending(db):
        return jsonify(status="unavailable", reason="the base's schema is out of date (read-only?)"), 503
    records = sum(db[t].count for t in RECORD_TABLES)
    if not records:
        return jsonify(status="unavailable", reason="the base holds no records: run kosodate-bot kb import"), 503
    writable = _write_probe(db)
    if writable is not None:
        return jsonify(status="unavailable", reason=f"the base cannot be written: {writable}"), 503
    return jsonify(status="ok", records=records)


def _write_probe(db) -> str | None:
    """Why the base cannot be written (read-only, full, gone), or None: a parent's 配信停止 and
    every follow are writes, so a base that only reads is not healthy. A lock another writer
    holds (an import) is not a fault: the probe waits ``PROBE_WAIT_S`` and lets it be."""
    try:
        with busy_timeout(db, PROBE_WAIT_S), writing(db):
            db.execute(
                "INSERT INTO meta(key, value) VALUES ('health_probe', datetime('now')) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
            )
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            return None
        logger.error("health check: the base cannot be written (%s)", e)
        return str(e).split(":")[0]
    return None


# The most characters /api/ask returns of an answer's text: what LINE's text message holds, so
# the API shows what a parent would see (a 50 MB FAQ answer in a base was returned whole). An
# item's words (title, place, audience) are cut at the width of a line of a card.
MAX_ANSWER_CHARS = 5000
MAX_ITEM_CHARS = 200
ITEM_KEYS_KEPT = ("kind", "id")  # an item's handles: never cut


def api_ask():
    """A question by GET (``?q=&area=&today=``) or POST (a JSON object or a form, same names)."""
    if len(request.query_string) > MAX_QUERY_BYTES:
        return jsonify(error=f"the query string is longer than {MAX_QUERY_BYTES} bytes: POST the question"), 414
    params = request.args if request.method == "GET" else _body_params()
    if params is None:
        return jsonify(error='the body must be a JSON object such as {"q": "質問", "area": "地域"}'), 400
    q = params.get("q")
    if not isinstance(q, str) or not q.strip():
        return jsonify(error="q is required: /api/ask?q=質問&area=地域"), 400
    area, today = params.get("area"), params.get("today")
    if not isinstance(area, (str, type(None))) or not isinstance(today, (str, type(None))):
        return jsonify(error="area and today must be text"), 400
    try:
        day = clock.parse_day(today) if today else None
        answer = ask(
            get_db(),
            q,
            area=area or current_app.config["KOSODATE"].default_area,
            today=day,
            asker=f"web:{request.remote_addr}",
            settings=current_app.config["KOSODATE_SETTINGS"],
        )
    except (ValueError, AreaError) as e:
        return jsonify(error=str(e)), 400
    return jsonify(_bounded(answer.to_dict()))


def _bounded(answer: dict) -> dict:
    """The answer's JSON with its text within ``MAX_ANSWER_CHARS`` and each item's words within
    ``MAX_ITEM_CHARS``, so a response stays the size of a reply whatever a record holds."""
    answer["text"] = _cut(answer["text"], MAX_ANSWER_CHARS)
    answer["items"] = [
        {k: v if k in ITEM_KEYS_KEPT or not isinstance(v, str) else _cut(v, MAX_ITEM_CHARS) for k, v in item.items()}
        for item in answer["items"]
    ]
    return answer


def _cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, ending in … where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _body_params() -> dict | None:
    if request.is_json:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else None
    return request.form


def http_error(e: HTTPException):
    return jsonify(error=(e.name or "error").lower(), detail=e.description), e.code


def base_missing(e: BaseMissing):
    logger.error("%s: create it with `kosodate-bot kb init` or fix KOSODATE_DB", e)
    return jsonify(status="unavailable", error="the knowledge base is not available"), 503  # its path: in the log


def database_error(e: sqlite3.Error):
    logger.exception("database error on %s %s", request.method, request.path)
    return jsonify(error="the knowledge base could not be read; please try again"), 503


def unexpected_error(e: Exception):
    logger.exception("unexpected error on %s %s", request.method, request.path)
    return jsonify(error="internal error"), 500
