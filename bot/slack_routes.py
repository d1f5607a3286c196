"""``POST /slack/events``: Slack's slash commands, buttons and modals, through Bolt.

The Bolt ``App`` is made here from ``Config`` when the blueprint is made (never at import),
with ``process_before_response=False`` so listeners run in a thread pool of its own after the
ack (``LISTENER_THREADS``; a write's index rebuild runs elsewhere, see
``handlers.slack.listeners.after_write``), and its ``WebClient`` pointed at
``SLACK_API_BASE_URL`` when set (a local fake in tests). ``handlers.slack.listeners.register``
registers the listeners with the settings made here. With a token, Bolt checks it with
``auth.test`` on construction; if Slack cannot be reached then, the app is made again at the
next request instead of failing the whole web process. Without Slack configuration the route
answers 503 and everything else runs.

Staff channels' wards are resolved against the base when it exists (a mistyped ward is a
``ConfigError`` at start-up, not a surprise at the first command).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk import WebClient

from bot.config import Config, ConfigError
from handlers.slack import listeners
from handlers.slack.access import Access
from knowledge import open_db
from knowledge.settings import DEFAULTS
from knowledge.settings import Settings as DomainSettings
from knowledge.store.areas import AreaError
from knowledge.store.areas import resolve as resolve_area
from knowledge.store.db import BaseMissing

logger = logging.getLogger(__name__)
PATH = "/slack/events"
LISTENER_THREADS = 16  # Bolt's own pool (its default has 5): listeners that must ack within 3 s run here


def slack_configured(config: Config) -> bool:
    return bool(config.slack_signing_secret and config.slack_bot_token)


def resolve_wards(config: Config) -> dict[str, str]:
    """Channel id -> the ward's full name (堺市西区 for 西区), checked against the base if it exists."""
    pairs = dict(config.slack_staff_channels)
    try:
        db = open_db(config.db_path, create=False)
    except BaseMissing:
        logger.warning("no base at %s yet: Slack channels' wards are used as written", config.db_path)
        return pairs
    try:
        return {channel: _ward(db, ward) for channel, ward in pairs.items()}
    finally:
        db.close()


def _ward(db, ward: str) -> str:
    try:
        full = resolve_area(db, ward)
    except AreaError as e:
        raise ConfigError(f"SLACK_STAFF_CHANNELS: {e}") from None
    return full or ward


def build_bolt_app(config: Config, domain: DomainSettings = DEFAULTS) -> App:
    """The Bolt app with its listeners registered (calls ``auth.test`` when it is made)."""
    access = Access(frozenset(config.slack_staff_users), resolve_wards(config), config.default_area)
    settings = listeners.Settings(config.db_path, access, config.slack_report_channel, domain)
    base_url = config.slack_api_base_url
    client = WebClient(token=config.slack_bot_token, base_url=base_url.rstrip("/") + "/") if base_url else None
    app = App(
        signing_secret=config.slack_signing_secret,
        token=None if client else config.slack_bot_token,
        client=client,
        process_before_response=False,
        logger=logging.getLogger("handlers.slack.listeners.bolt"),
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="slack-listener"),
    )
    listeners.register(app, settings)
    if not (access.users or access.channels):
        logger.warning(
            "Slack is configured but SLACK_STAFF_USERS and SLACK_STAFF_CHANNELS are empty: everyone is refused"
        )
    logger.info("Slack ready: %d staff users, %d staff channels", len(access.users), len(access.channels))
    return app


class _Handler:
    """The request handler of the Bolt app, made once (again after a failed attempt)."""

    def __init__(self, config: Config, domain: DomainSettings):
        self.config, self.domain = config, domain
        self.lock = threading.Lock()
        self.handler: SlackRequestHandler | None = None

    def get(self) -> SlackRequestHandler | None:
        with self.lock:
            if self.handler is None:
                try:
                    self.handler = SlackRequestHandler(build_bolt_app(self.config, self.domain))
                except ConfigError:
                    raise
                except Exception:
                    logger.exception("could not start the Slack app (is Slack reachable, the token valid?)")
            return self.handler


def slack_blueprint(config: Config, domain: DomainSettings = DEFAULTS) -> Blueprint:
    bp = Blueprint("slack", __name__)
    if not slack_configured(config):
        logger.info("Slack is not configured: %s answers 503", PATH)

        @bp.post(PATH)
        def slack_unconfigured():
            return jsonify(error="Slack is not configured"), 503

        return bp
    holder = _Handler(config, domain)
    holder.get()  # at start-up: a wrong token or ward shows in the log at once

    @bp.post(PATH)
    def slack_events():
        handler = holder.get()
        if handler is None:
            return jsonify(error="Slack is not available; see the log"), 503
        return handler.handle(request)

    return bp
