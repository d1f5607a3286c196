"""Who may use ``/kosodate`` and which ward a channel stands for; and requests done once.

Staff are allowed by user id (``SLACK_STAFF_USERS``) or by channel (``SLACK_STAFF_CHANNELS``:
anyone in a staff channel is staff there); a channel's ward is the default ward of what is
done in it. Everyone else is refused before anything is read or written.

Which wards staff may write (``Access.reach``): every ward for a listed user, else the ward
this configuration gives the channel. ``out_of_ward`` checks each write against it when the
write is applied, with the records' wards read from the base (never from the payload).

Slack retries a request it saw no answer to in three seconds (``X-Slack-Retry-Num``), and a
slow network can deliver one twice. Each request is claimed once in the base's ``inbox`` (as
LINE's webhook events are) under a key Slack makes unique per request (an event's
``event_id``, else the ``trigger_id`` every command, button and submission carries, else the
hash of the body); a request claimed before is acknowledged and not done again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlite_utils

from knowledge.staff.wards import OutOfWard, Reach, check
from knowledge.store import inbox
from knowledge.store.db import busy_timeout

logger = logging.getLogger(__name__)
CHANNEL = "slack"
CLAIM_WAIT_S = 2.0  # a claim waits at most this for the write lock: the ack must come within 3 s


@dataclass(frozen=True)
class Access:
    users: frozenset[str] = frozenset()
    channels: dict[str, str] = field(default_factory=dict)  # channel id -> ward (full name)
    default_area: str | None = None

    def allowed(self, user: str | None, channel: str | None) -> bool:
        return bool(user) and (user in self.users or (channel or "") in self.channels)

    def ward(self, channel: str | None) -> str | None:
        return self.channels.get(channel or "") or self.default_area

    def reach(self, user: str | None, channel: str | None) -> Reach:
        """The wards ``user`` may write from ``channel``: every ward for a listed staff user,
        else the staff channel's ward (from this configuration, never from a payload's ward)."""
        if user and user in self.users:
            return Reach(every=True)
        return Reach(ward=self.channels.get(channel or ""))


def out_of_ward(
    db: sqlite_utils.Database,
    access: Access,
    user: str | None,
    channel: str | None,
    what: str,
    *,
    wards: Iterable[str | None] = (),
    records: Mapping[str, str | int | None] | None = None,
) -> OutOfWard | None:
    """The ward check of one staff write (``what``) as it is applied, for ``user`` acting from
    ``channel`` (``knowledge.staff.wards.check``): the refusal, logged with who, where and which
    record of which ward, or None when the write may go ahead. Every Slack write path calls it
    right before writing: a modal or a button can be replayed or forged after it was opened."""
    reach, wards = access.reach(user, channel), list(wards)
    try:
        check(db, reach, wards=wards, records=records)
    except OutOfWard as refused:
        logger.warning(
            "refused %s by %s in channel %s (ward %s): %s %s belongs to %s (it named wards %s, records %s)",
            what,
            user,
            channel,
            reach.ward or "-",
            refused.field,
            refused.record or "-",
            refused.area or "every ward",
            wards,
            dict(records or {}),
        )
        return refused
    return None


def who(body: dict) -> tuple[str | None, str | None]:
    """(user id, channel id) of a command, a button click or a modal submission (whose channel
    is the one the modal was opened from, kept in its ``private_metadata``)."""
    if body.get("command"):
        return body.get("user_id"), body.get("channel_id")
    user = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if not channel and body.get("view"):
        try:
            channel = json.loads(body["view"].get("private_metadata") or "{}").get("channel")
        except (ValueError, AttributeError):
            channel = None
    return user, channel


def request_key(body: dict, raw_body: str) -> tuple[str, str]:
    """(kind, key) naming one Slack request whatever its delivery."""
    kind = body.get("type") or ("command" if body.get("command") else "unknown")
    unique = body.get("event_id") or body.get("trigger_id")
    if not unique:
        unique = "sha256:" + hashlib.sha256(raw_body.encode("utf-8")).hexdigest()
    return kind, f"{kind}:{unique}"


def first_delivery(db: sqlite_utils.Database, body: dict, raw_body: str) -> bool:
    """True the first time a request is seen; a failed claim (a lock held too long) counts as
    first, so a busy base never swallows a command."""
    kind, key = request_key(body, raw_body)
    try:
        with busy_timeout(db, CLAIM_WAIT_S):
            return inbox.claim(db, CHANNEL, key, kind)
    except sqlite3.Error:
        logger.exception("could not record Slack request %s; handling it anyway", key)
        return True
