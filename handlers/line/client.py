"""The SDK's Messaging API clients, made from the channel's token and an optional base URL.

With no base URL each operation goes to LINE's own host (``api.line.me``, and
``api-data.line.me`` for images); with one (``LINE_API_BASE_URL``: a local fake in tests, a
proxy) every call, blob calls included, goes there: the SDK's ``Configuration(host=...)``
overrides the per-operation hosts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, MessagingApiBlob

REQUEST_TIMEOUT_S = 10  # a call LINE has not answered by then is logged as failed, not waited on


def configuration(token: str, base_url: str | None = None) -> Configuration:
    return Configuration(access_token=token, host=base_url or None)


@contextlib.contextmanager
def messaging_api(token: str, base_url: str | None = None) -> Iterator[MessagingApi]:
    with ApiClient(configuration(token, base_url)) as client:
        yield MessagingApi(client)


@contextlib.contextmanager
def messaging_blob_api(token: str, base_url: str | None = None) -> Iterator[MessagingApiBlob]:
    with ApiClient(configuration(token, base_url)) as client:
        yield MessagingApiBlob(client)
