"""What day it is for the parents: the one place that decides "today".

Parents live in Japan, whatever the server's clock zone: on a UTC server between 15:00 and
24:00 the server's date is a day behind theirs, and 今日 / 明日 would be wrong. Every "today"
of the bot comes from a ``Clock`` here: the deploy's (``knowledge.settings.Settings.clock``, in the
zone the deployer set, Asia/Tokyo by default), which the channels pass down as the day a
question is asked on; ``today()`` and ``now()`` are ``JAPAN``'s, what a function falls back on
when its caller gives no day.

A ``today`` given from outside (the API's ``today=`` parameter, the CLI's ``--today``) goes
through ``parse_day``, which keeps it inside ``EARLIEST`` .. ``LATEST``: dates far outside
any plausible question cost the date arithmetic without meaning anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Tokyo"
EARLIEST = date(2000, 1, 1)  # the bounds of an accepted "today" (YYYY-MM-DD from outside)
LATEST = date(2099, 12, 31)


def _utcnow() -> datetime:
    """The instant, in UTC; the one function tests replace to set the clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Clock:
    """The parents' clock: the instant and the date in their zone."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))

    @classmethod
    def named(cls, name: str | None) -> Clock:
        """The clock of an IANA zone name; ``None`` or empty: Asia/Tokyo."""
        try:
            return cls(ZoneInfo(name or DEFAULT_ZONE))
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {name!r}: use an IANA name such as Asia/Tokyo") from e

    def now(self) -> datetime:
        """The current time in this zone (aware)."""
        return _utcnow().astimezone(self.zone)

    def today(self) -> date:
        """The date now in this zone."""
        return self.now().date()


JAPAN = Clock()


def now() -> datetime:
    """The current time in Japan, where the parents live: the fallback of a caller given no day."""
    return JAPAN.now()


def today() -> date:
    """The date now in Japan (see ``now``)."""
    return JAPAN.today()


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
