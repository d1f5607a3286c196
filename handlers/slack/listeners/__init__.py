"""Bolt listeners for ``/kosodate``: staff keep their ward's knowledge current from Slack.

One module per kind of listener, each with its own ``register(app)`` (as slack-samples'
bolt-python starter template lays them out): ``commands`` (the slash command and its
subcommands), ``actions`` (buttons), ``views`` (modal submissions), ``middleware`` (what runs
before them: the app's state put in ``context``, requests done once). Beside them: ``settings``
(the app's state), ``after_write`` (the index rebuilt, then staff told) and ``replies`` (how staff
are told, failures included).

Every listener acknowledges first (Slack waits three seconds at most; a modal's trigger id
expires as fast, so ``views_open`` comes right after ``ack``), then does the work in Bolt's
thread pool and replies with ``respond`` (ephemeral) or the Web API. Each block of work holds
the base through ``knowledge.store.db.held`` (``Settings.db``). Every write is a ``knowledge``
function: one transaction with its audit row. After a write, the search index of the new version
is built in a thread of the app's own (``after_write``), never in a Bolt listener thread, so acks
never wait on a rebuild.

Listeners take what they need by name, as Bolt injects it (``ack``, ``body``, ``client``,
``context``...); the app's state comes in ``context``. They log to this package's logger, not to
the ``logger`` Bolt injects (named after the app and the listener, at the root's level), so log
lines read as they always have.

Who may do what, which wards each write may touch (checked when the write is applied), and
requests done once: ``handlers.slack.access``.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.slack.listeners import actions, commands, middleware, views
from handlers.slack.listeners.after_write import AfterWrite
from handlers.slack.listeners.settings import Settings

__all__ = ["Settings", "register"]


def register(app: App, settings: Settings) -> None:
    """Register every listener of ``app``; ``settings`` and the app's after-write threads reach
    them through ``context`` (``middleware``), so each app keeps its own."""
    middleware.register(app, settings, AfterWrite(settings))
    commands.register(app)
    actions.register(app)
    views.register(app)
