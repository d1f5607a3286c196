"""The ``kosodate-bot`` command line: ``main`` holds the group and the knowledge-base commands,
``digest`` the weekly digest's, ``options`` what every command shares (``--db`` and its checks).
"""

from bot.cli.main import cli

__all__ = ["cli"]
