"""What day it is for the parents: the one place that decides "today".

Parents live in Japan, whatever the server's clock zone: on a UTC server between 15:00 and
24:00 the server's date is a day behind theirs, and 今日 / 明日 would be wrong. Every "today"
of the bot comes from ``today()`` here, in ``ZONE`` (Asia/Tokyo unless the deployer sets
another with ``use_zone``, which the app and the CLI call once from their configuration).

A ``today`` given from outside (the API's ``today=`` parameter, the CLI's ``--today``) goes
through ``parse_day``, which keeps it inside ``EARLIEST`` .. ``LATEST``: dates far outside
any plausible question cost the date arithmetic without meaning anything.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Tokyo"
EARLIEST = date(2000, 1, 1)  # the bounds of an accepted "today" (YYYY-MM-DD from outside)
LATEST = date(2099, 12, 31)

_zone = ZoneInfo(DEFAULT_ZONE)


def use_zone(name: str | None) -> None:
    """Set the parents' time zone (an IANA name); ``None`` keeps Asia/Tokyo."""
    global _zone
    try:
        _zone = ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Asia/Tokyo") from e


def _utcnow() -> datetime:
    """The instant, in UTC; the one function tests replace to set the clock."""
    return datetime.now(UTC)


def now() -> datetime:
    """The current time in the parents' zone (aware)."""
    return _utcnow().astimezone(_zone)


def today() -> date:
    """The parents' date now."""
    return now().date()


def parse_day(value: str) -> date:
    """A YYYY-MM-DD given from outside as "today", within ``EARLIEST`` .. ``LATEST``.

    Raises ``ValueError`` with a message fit for the caller's 400 or usage error.
    """
    try:
        day = date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD") from None
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"{value} is outside the dates the bot answers for ({EARLIEST} to {LATEST})")
    return day
