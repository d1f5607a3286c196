"""How listeners tell staff what happened: an ephemeral message, a modal that would not open, a
failure; and the report channel, where every write is announced.

Every path here is best effort and logged: a reply that cannot be delivered must never turn a
done write into an error, nor leave staff waiting without a word.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable

from handlers.slack import modals, render, words
from handlers.slack.access import who
from knowledge.store.db import BaseMissing

logger = logging.getLogger(__package__)  # the package's one logger (handlers.slack.listeners) for every kind

Tell = Callable[[str], None]


def guarded(listener):
    """Log a listener's failure with its traceback and tell the staff member, never silently:
    Bolt would only log it, and staff would wait for a reply that never comes."""

    @functools.wraps(listener)  # Bolt reads the listener's argument names through the wrapper
    def wrapper(**kwargs):
        try:
            return listener(**kwargs)
        except BaseMissing:
            logger.exception("Slack listener %s: no base", listener.__name__)
            tell_failure(kwargs, words.NO_BASE)
        except Exception:
            logger.exception("Slack listener %s failed", listener.__name__)
            tell_failure(kwargs)

    return wrapper


def tell_failure(kwargs: dict, text: str = words.FAILED) -> None:
    """Acknowledge (if the listener had not) and say ``text`` where the request came from: the
    command's response URL, else ephemerally in the channel of the button or modal."""
    with contextlib.suppress(Exception):
        kwargs["ack"]()
    try:
        if kwargs.get("respond") is not None and (kwargs.get("command") or {}).get("response_url"):
            kwargs["respond"](response_type="ephemeral", replace_original=False, text=text)
            return
        body = kwargs.get("body") or {}
        user, channel = who(body)
        channel = channel or modals.meta(body.get("view") or {}).get("channel")
        if kwargs.get("client") is not None and user and channel:
            ephemeral(kwargs["client"], channel, user, text)
    except Exception:
        logger.exception("could not tell the staff member that their request failed")


def ephemeral(
    client,
    channel: str | None,
    user: str,
    text: str,
    block_list: list | None = None,
    raise_errors: bool = False,
) -> None:
    """A message only ``user`` sees in ``channel``; with no channel it is logged (or raised,
    for a caller with another way to tell)."""
    if not channel:
        logger.warning("no channel to tell %s: %s", user, text)
        if raise_errors:
            raise LookupError("no channel")
        return
    client.chat_postEphemeral(
        channel=channel, user=user, text=text, blocks=block_list or [render.section(render.escape(text))]
    )


def open_modal(client, trigger_id: str, view: dict, tell: Tell) -> None:
    """Open a modal; when Slack refuses it, staff are told (``tell``), never left waiting."""
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except Exception:
        logger.exception("views.open failed (callback %s)", view.get("callback_id"))
        try:
            tell(words.MODAL_FAILED)
        except Exception:
            logger.exception("could not tell the staff member that the modal did not open")


def teller(client, channel: str, user: str, respond) -> Tell:
    """How to tell the user who clicked a button: at its response URL, else ephemerally."""

    def tell(text: str) -> None:
        if respond is not None and getattr(respond, "response_url", None):
            respond(response_type="ephemeral", replace_original=False, text=text)
        else:
            ephemeral(client, channel, user, text)

    return tell


def report(client, channel: str | None, text: str) -> None:
    """Announce a write in the report channel (if there is one); a failure is logged, the write
    stands."""
    if not channel:
        return
    try:
        client.chat_postMessage(channel=channel, text=text)
    except Exception:
        logger.exception("could not post to the report channel %s", channel)
