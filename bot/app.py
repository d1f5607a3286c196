"""The Flask app factory: health check, the JSON question endpoint, and (later) channel webhooks.

One database connection per request (Flask's ``g``), closed at teardown: sqlite3 connections
belong to the thread that made them, and gunicorn's gthread workers serve from many threads.
"""

from __future__ import annotations

from datetime import date

from flask import Flask, g, jsonify, request

from bot.config import Config
from knowledge import areas as areas_mod
from knowledge import ask, open_db

MAX_QUERY_CHARS = 5000


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__)
    app.config["KOSODATE"] = config
    app.json.ensure_ascii = False

    def get_db():
        if "db" not in g:
            g.db = open_db(config.db_path)
        return g.db

    @app.teardown_appcontext
    def close_db(_exc):
        db = g.pop("db", None)
        if db is not None:
            db.close()

    @app.get("/healthz")
    def healthz():
        db = get_db()
        db.execute("SELECT 1").fetchone()
        return jsonify(status="ok", records=sum(db[t].count for t in ("programs", "activities", "bases", "faqs")))

    @app.get("/api/ask")
    def api_ask():
        q = request.args.get("q", "")
        if not q.strip():
            return jsonify(error="q is required: /api/ask?q=質問&area=地域"), 400
        if len(q) > MAX_QUERY_CHARS:
            return jsonify(error=f"q is longer than {MAX_QUERY_CHARS} characters"), 400
        today = None
        if request.args.get("today"):
            try:
                today = date.fromisoformat(request.args["today"])
            except ValueError:
                return jsonify(error="today must be YYYY-MM-DD"), 400
        try:
            answer = ask(get_db(), q, area=request.args.get("area") or config.default_area, today=today)
        except areas_mod.AreaError as e:
            return jsonify(error=str(e)), 400
        return jsonify(answer.to_dict())

    @app.errorhandler(404)
    def not_found(_e):
        return jsonify(error="not found"), 404

    @app.errorhandler(405)
    def not_allowed(_e):
        return jsonify(error="method not allowed"), 405

    return app
