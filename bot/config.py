"""Settings from the environment, read once at the edge and passed down.

``knowledge`` never reads the environment; the app factory and the CLI do, through here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    db_path: str = "./kosodate.db"
    default_area: str | None = None
    line_channel_secret: str | None = None
    line_channel_access_token: str | None = None
    line_api_host: str | None = None
    slack_signing_secret: str | None = None
    slack_bot_token: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Config":
        env = dict(os.environ if env is None else env)
        config = cls(
            db_path=env.get("KOSODATE_DB") or "./kosodate.db",
            default_area=env.get("KOSODATE_DEFAULT_AREA") or None,
            line_channel_secret=env.get("LINE_CHANNEL_SECRET") or None,
            line_channel_access_token=env.get("LINE_CHANNEL_ACCESS_TOKEN") or None,
            line_api_host=env.get("LINE_API_HOST") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
        )
        config.validate()
        return config

    def validate(self) -> None:
        if bool(self.line_channel_secret) != bool(self.line_channel_access_token):
            raise ConfigError("LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN must be set together")
        if bool(self.slack_signing_secret) != bool(self.slack_bot_token):
            raise ConfigError("SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN must be set together")
