"""What runs before every listener: the app's shared state put in Bolt's ``context``, then the
check that a request is done once.

Slack retries a request it saw no answer to in three seconds, and a slow network can deliver one
twice; a request claimed before (``handlers.slack.access.first_delivery``) is acknowledged and not
done again.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import App, BoltResponse

from handlers.slack import words
from handlers.slack.access import first_delivery, who
from handlers.slack.listeners.after_write import AfterWrite
from handlers.slack.listeners.settings import Settings
from knowledge.store.db import BaseMissing

logger = logging.getLogger(__package__)  # the package's one logger (handlers.slack.listeners) for every kind


def register(app: App, settings: Settings, after_write: AfterWrite) -> None:
    app.use(carrier(settings, after_write))
    app.use(once)


def carrier(settings: Settings, after_write: AfterWrite):
    """A middleware handing this app's settings and after-write threads to every listener (as
    ``context["settings"]``, ``context["after_write"]``): state of the app, not of the module."""

    def carry(context, next):
        context["settings"] = settings
        context["after_write"] = after_write
        return next()

    return carry


def once(body, request, context, next):
    """Acknowledge a request seen before (a retry) without doing it again. A stranger's
    request is not recorded: the listener refuses it and nothing is written."""
    settings: Settings = context["settings"]
    if not settings.access.allowed(*who(body)):
        return next()
    try:
        with settings.db() as db:
            first = first_delivery(db, body, request.raw_body)
    except BaseMissing:
        logger.error("Slack request refused: there is no base at %s yet (run kb import)", settings.db_path)
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": words.NO_BASE}),
            headers={"content-type": "application/json"},
        )
    if not first:
        retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
        logger.info("Slack request delivered again (retry %s): acknowledged, not done twice", retry)
        return BoltResponse(status=200, body="")
    return next()
