"""Posting a line of news to the staff's Slack channel (the digest's summary and shortfalls).

Best effort: the post is a report about work already done (or refused), so a Slack failure is
logged with its traceback and never stops or fails the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient

logger = logging.getLogger(__name__)
TIMEOUT_S = 10


def poster(token: str | None, channel: str | None, base_url: str | None = None) -> Callable[[str], None] | None:
    """A function posting text to ``channel``, or None when Slack is not configured."""
    if not token or not channel:
        return None
    kwargs = {"base_url": base_url.rstrip("/") + "/"} if base_url else {}
    client = WebClient(token=token, timeout=TIMEOUT_S, **kwargs)

    def post(text: str) -> None:
        try:
            client.chat_postMessage(channel=channel, text=text)
        except Exception:  # noqa: BLE001 - a report must never break the run it reports on
            logger.exception("could not post to the Slack channel %s", channel)

    return post
