"""The LINE webhook, ``POST /callback``, as a blueprint (the channel is ``handlers.line.transport``).

Without ``LINE_CHANNEL_SECRET`` the route answers 503 "LINE is not configured" and the rest of
the app runs. A request LINE did not sign, or a body that is not a webhook, gets 400 with one
log line and nothing is processed; the console's Verify body (no events) gets 200. A body with
events is put on the queue before the 200; when the queue cannot take it, or the base is not
there to work it, the answer is 503 and LINE sends the body again.
"""

from __future__ import annotations

import logging
import os

from flask import Blueprint, current_app, jsonify, request
from huey.api import Huey

from bot.config import Config
from handlers.line.transport import BadRequest, LineChannel
from knowledge.settings import Settings

logger = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 1024 * 1024  # LINE batches events; a few texts of 5,000 characters fit well
EXTENSION = "kosodate_line"


def line_channel_for(config: Config, settings: Settings, huey: Huey) -> LineChannel | None:
    """The LINE channel of ``config`` (its queue task registered on ``huey``), if configured."""
    if not (config.line_channel_secret and config.line_channel_access_token):
        return None
    return LineChannel(
        secret=config.line_channel_secret,
        token=config.line_channel_access_token,
        db_path=config.db_path,
        huey=huey,
        base_url=config.line_api_base_url,
        default_area=config.default_area,
        settings=settings,
    )


def line_blueprint(config: Config, channel: LineChannel | None) -> Blueprint:
    bp = Blueprint("line", __name__)

    @bp.record_once
    def _register(state) -> None:
        state.app.extensions[EXTENSION] = channel
        logger.info("LINE webhook %s", "ready at /callback" if channel else "not configured (no LINE_CHANNEL_SECRET)")

    @bp.post("/callback")
    def callback():
        if channel is None:
            return jsonify(error="LINE is not configured: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN"), 503
        request.max_content_length = MAX_WEBHOOK_BYTES
        body = request.get_data(as_text=True)
        try:
            events = channel.parse(body, request.headers.get("X-Line-Signature"))
        except BadRequest as e:
            logger.warning("line webhook refused (400) from %s: %s", request.remote_addr, e)
            return jsonify(error=str(e)), 400
        if events and not os.path.exists(config.db_path):
            logger.error("line webhook refused (503): the base is missing; LINE will send the body again")
            return jsonify(error="the knowledge base is not available"), 503
        try:
            queued = channel.accept(body, events)
        except Exception:
            logger.exception("line webhook refused (503): the queue could not take %d events", len(events))
            return jsonify(error="the queue is not available; please send again"), 503
        return jsonify(status="ok", queued=queued)

    return bp


def line_channel() -> LineChannel | None:
    """This app's LINE channel (None when not configured)."""
    return current_app.extensions.get(EXTENSION)
