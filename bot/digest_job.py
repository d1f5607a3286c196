"""One run of the weekly digest with this deploy's settings: the LINE client, the staff's
Slack channel for the report, the note for a week with no events.

``kosodate-bot digest send`` and the clock process (``bot.digest_clock``) both call
``send_week``: one run, the same exit codes (``handlers.line.digest_run``), whoever starts it.
"""

from __future__ import annotations

import logging

from bot.config import Config

logger = logging.getLogger(__name__)


def send_week(db, config: Config, week, *, allow_partial: bool = False, echo=None) -> int:
    """One run (the CLI's and the clock's); the exit code."""
    from handlers.line import digest_run
    from handlers.line.client import messaging_api
    from handlers.slack import notify as slack_notify

    if not config.line_channel_access_token:
        message = "LINE_CHANNEL_ACCESS_TOKEN is not set: the digest cannot be sent"
        logger.error(message)
        if echo:
            echo(message, err=True)
        return digest_run.ERROR
    notify = slack_notify.poster(config.slack_bot_token, config.slack_report_channel, config.slack_api_base_url)
    with messaging_api(config.line_channel_access_token, config.line_api_base_url) as api:
        summary = digest_run.run(
            db,
            api,
            week,
            note=config.digest_empty_note,
            allow_partial=allow_partial,
            notify=notify,
            today=config.settings().clock.today(),
        )
    if echo:
        echo(summary.text())
        echo(
            f"week {week}: due {summary.due}, sent {summary.sent} in {summary.calls} call(s), "
            f"failed {summary.failed}, exit {summary.code}",
            err=True,
        )
    return summary.code
