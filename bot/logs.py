"""Logging, configured once at the edge (the app factory and the CLI call ``configure``).

``knowledge`` and ``handlers`` only ever call ``logging.getLogger(__name__)``. Under gunicorn
the records go to gunicorn's error log (its handlers and level), so a deploy reads each
question's outcome, each import and each error with its traceback in one place; elsewhere
(``kosodate-bot serve``, the CLI) they go to standard error.
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PACKAGES = ("bot", "handlers", "knowledge")


def configure(level: str | int = "INFO") -> None:
    """Route our packages' records to gunicorn's error log when it runs us, else to stderr.

    Idempotent: calling it again (a second app in one process, tests) adds no handler twice.
    """
    gunicorn = logging.getLogger("gunicorn.error")
    handlers = gunicorn.handlers or [_stderr_handler()]
    for name in PACKAGES:
        logger = logging.getLogger(name)
        logger.setLevel(level if isinstance(level, int) else level.upper())
        logger.handlers = list(handlers)
        logger.propagate = False


_stderr = None


def _stderr_handler() -> logging.Handler:
    global _stderr
    if _stderr is None:
        _stderr = logging.StreamHandler()
        _stderr.setFormatter(logging.Formatter(FORMAT))
    return _stderr
