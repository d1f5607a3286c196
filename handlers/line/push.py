"""Sending one batch of a digest to LINE, exactly once, and reading the month's quota.

A batch goes to LINE in one call: multicast for up to ``MAX_MULTICAST`` users, push for one.
Every attempt of a batch carries the same ``X-Line-Retry-Key`` (stored in the ledger by the
caller before the first attempt), so LINE executes it once however often it is sent; LINE's
409 for a key it already accepted means the batch was delivered by an earlier attempt (or an
earlier run) and counts as sent (docs: messaging-api/retrying-api-request).

What is retried, and how long: 429 (rate limit) and 5xx answers, time-outs and connection
errors, after ``Retry-After`` when LINE gives one (at most ``MAX_RETRY_AFTER_S``: a longer
wait gives the batch up for this run) else an exponential back-off from ``BASE_BACKOFF_S`` to
``MAX_BACKOFF_S``, at most ``MAX_ATTEMPTS`` attempts. A 429 for the monthly limit and any other
4xx are not retried: sending again cannot help. A batch given up is reported ``failed`` and the
next run retries it with its same key; it never stops the other batches.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass

import urllib3
from linebot.v3.messaging import MessagingApi, MulticastRequest, PushMessageRequest
from linebot.v3.messaging.exceptions import ApiException

from handlers.line.client import REQUEST_TIMEOUT_S

logger = logging.getLogger(__name__)

MAX_MULTICAST = 500  # user ids in one multicast call (LINE's limit)
MAX_ATTEMPTS = 5
BASE_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
MAX_RETRY_AFTER_S = 120.0  # a Retry-After longer than this gives the batch up for this run
CONFLICT = 409
MONTHLY_LIMIT = "monthly limit"  # in the message of LINE's 429 when the quota is spent


def sleep(seconds: float) -> None:
    """The back-off's wait (tests replace it to record the waits instead of waiting)."""
    time.sleep(seconds)


@dataclass(frozen=True)
class Outcome:
    sent: bool
    status: int | None  # the last answer's HTTP status; None after a network error
    attempts: int
    request_id: str | None = None  # X-Line-Request-Id, or the accepted request's for a 409
    detail: str | None = None  # why it failed, or "accepted before" for a 409


def send(api: MessagingApi, user_ids: list[str], messages: list[dict], retry_key: str) -> Outcome:
    """Send one batch, retrying with the same key until sent, refused or out of attempts."""
    status, detail = None, None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        wait = None
        try:
            response = _call(api, user_ids, messages, retry_key)
            return Outcome(True, response.status_code, attempt, _header(response.headers, "x-line-request-id"))
        except ApiException as e:
            status, detail = e.status, _message(e)
            if e.status == CONFLICT:
                accepted = _header(e.headers, "x-line-accepted-request-id")
                logger.info("digest batch key %s was accepted before (request %s): sent", retry_key, accepted)
                return Outcome(True, CONFLICT, attempt, accepted, "accepted before")
            if not _retryable(e):
                return Outcome(False, status, attempt, _header(e.headers, "x-line-request-id"), detail)
            wait = _retry_after(e.headers)
            if wait is not None and wait > MAX_RETRY_AFTER_S:
                return Outcome(False, status, attempt, None, f"{detail} (Retry-After {wait:g} s: given up)")
        except (urllib3.exceptions.HTTPError, OSError) as e:
            status, detail = None, f"{type(e).__name__}: {e}"
        except Exception as e:  # noqa: BLE001 - a bug or a surprise fails this batch, not the run
            logger.exception("digest batch key %s: unexpected error; the batch is left for a rerun", retry_key)
            return Outcome(False, None, attempt, None, f"{type(e).__name__}: {e}")
        if attempt == MAX_ATTEMPTS:
            break
        wait = wait if wait is not None else _backoff(attempt)
        logger.warning(
            "digest batch key %s: %s on attempt %d; retrying in %.1f s with the same key",
            retry_key,
            status or detail,
            attempt,
            wait,
        )
        sleep(wait)
    return Outcome(False, status, MAX_ATTEMPTS, None, f"gave up after {MAX_ATTEMPTS} attempts: {detail}")


def _call(api: MessagingApi, user_ids: list[str], messages: list[dict], retry_key: str):
    """One attempt; the answer's body is not parsed (only its status and request id matter)."""
    if len(user_ids) == 1:
        request = PushMessageRequest.from_dict({"to": user_ids[0], "messages": messages})
        return api.push_message_with_http_info(
            request, x_line_retry_key=retry_key, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_S
        )
    if not 1 < len(user_ids) <= MAX_MULTICAST:
        raise ValueError(f"a multicast takes 2 to {MAX_MULTICAST} users, not {len(user_ids)}")
    request = MulticastRequest.from_dict({"to": user_ids, "messages": messages})
    return api.multicast_with_http_info(
        request, x_line_retry_key=retry_key, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_S
    )


def _retryable(e: ApiException) -> bool:
    if e.status == 429:
        return MONTHLY_LIMIT not in (_message(e) or "").lower()
    return e.status is not None and e.status >= 500


def _message(e: ApiException) -> str | None:
    try:
        return json.loads(e.body or b"{}").get("message") or e.reason
    except (ValueError, AttributeError):
        return e.reason


def _header(headers, name: str) -> str | None:
    if not headers:
        return None
    return next((v for k, v in dict(headers).items() if k.lower() == name), None)


def _retry_after(headers) -> float | None:
    """Seconds from ``Retry-After`` (LINE gives seconds; an HTTP date is not expected)."""
    value = _header(headers, "retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _backoff(attempt: int) -> float:
    """1, 2, 4 … seconds (capped), with jitter so that runs retrying together spread out."""
    return min(BASE_BACKOFF_S * 2 ** (attempt - 1), MAX_BACKOFF_S) * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class Quota:
    limit: int | None  # None: no monthly limit (LINE's type "none")
    used: int

    @property
    def left(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)


def quota(api: MessagingApi) -> Quota:
    """This month's message quota and what is used of it, through the SDK."""
    q = api.get_message_quota(_request_timeout=REQUEST_TIMEOUT_S)
    used = api.get_message_quota_consumption(_request_timeout=REQUEST_TIMEOUT_S).total_usage
    return Quota(q.value if q.type == "limited" else None, int(used or 0))
