"""``fake_line``: a fake LINE Messaging API that refuses what the real one would refuse.

A test gives the app ``fake_line.url`` as its LINE API base URL, e.g. the SDK's
``Configuration(access_token="t", host=fake_line.url)`` (or ``LINE_API_BASE_URL=fake_line.url``).
Every request is recorded; every JSON body is checked with ``tests/line_spec.py`` against
LINE's published OpenAPI spec plus the limits LINE documents elsewhere. A body LINE would refuse
is answered 400 with LINE's error shape **and** recorded as a violation, and the fixture fails
the test at teardown unless the test called ``fake_line.expect_violations()``: no test passes
while the app sends LINE something it would reject.

Plugged in by ``pytest_plugins = ["line_fake"]`` in ``tests/conftest.py`` (``tests/`` is on
``sys.path`` there, as for ``from conftest import ...``), so any test can ask for ``fake_line``.

What the SDK does with the host (line-bot-sdk 3.x, ``linebot/v3/messaging/api_client.py``):
``ApiClient.__call_api`` uses ``configuration.host + resource_path`` whenever
``Configuration.host`` is set, and only otherwise the operation's own host. So the blob API
(``MessagingApiBlob``: rich menu images, message content), whose operations name
``https://api-data.line.me``, is sent to the same fake as ``MessagingApi`` once ``host`` is set:
one server serves both, as here. Left unset (``Configuration(access_token=...)``), the SDK
reaches api.line.me and api-data.line.me themselves. Also, ``set_rich_menu_image`` sets no
Content-Type of its own, and ``rest.py`` JSON-encodes any body sent without one, so image bytes
fail in the client with "Object of type bytes is not JSON serializable": pass
``_headers={"Content-Type": "image/png"}`` (or image/jpeg) with the bytes.

Why a server of its own rather than pytest-httpserver's shared ``httpserver``: that one is
single-threaded (a ``delay()`` would stall every other request, and an app sending from a
background thread would queue behind the test), and the fake's catch-all handler would swallow
requests meant for another fake on it. ``line_api_server`` is the same pytest-httpserver
``HTTPServer``, threaded, one per session, cleared between tests.

Emulated (answers shaped as the spec's response schemas, checked in test_line_spec.py): reply,
push, multicast, broadcast, the five message-validation endpoints, rich menus (create, validate,
get, list, delete, image upload/download, default set/get/cancel, per-user link/get/unlink),
quota and its consumption, bot info, user profile, message content, loading animation, mark as
read. ``X-Line-Retry-Key`` works as LINE documents (docs/messaging-api/retrying-api-request):
only push, multicast, narrowcast and broadcast take it (elsewhere: 400), it must be a UUID, and
once a request with a key was accepted, a request reusing the key gets 409 with header
``x-line-accepted-request-id`` (the accepted request's ``X-Line-Request-Id``). A reply token
works once. Anything else a test needs: ``fake_line.respond(method, path, ...)``; a request the
fake cannot answer is a violation that says so.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import pytest
from line_spec import Operation, Problem, check_request, find_operation
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

MESSAGE_PATHS = (
    "/v2/bot/message/reply",
    "/v2/bot/message/push",
    "/v2/bot/message/multicast",
    "/v2/bot/message/broadcast",
    "/v2/bot/message/narrowcast",
)
RETRY_KEY = "X-Line-Retry-Key"
RICH_MENU_IMAGE_TYPES = {"image/png", "image/jpeg"}
RICH_MENU_IMAGE_MAX_BYTES = 1_000_000  # "Max file size: 1 MB" (reference #upload-rich-menu-image; unverified)

# The ``message`` of LINE's error answers. "The request body has N error(s)" is the reference's own
# example (#error-responses); the others are LINE's wording as commonly reported (unverified).
# A scripted failure without a body gets the one for its status.
ERROR_MESSAGES = {
    400: "The request body has 1 error(s)",
    401: "Authentication failed. Confirm that the access token in the authorization header is valid.",
    403: "Access to this API is not available for your account",
    404: "Not found",
    409: "The retry key is already accepted",
    429: "The API rate limit has been exceeded. Try again later.",
    500: "Internal server error",
}
NO_AUTH_MESSAGE = "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'"
MONTHLY_LIMIT_MESSAGE = "You have reached your monthly limit."
# Message types LINE returns a quoteToken for when sent: the quotable ones (reference
# #sent-message-object says "a message object that can be specified as a quote target"; the
# list is unverified). The bot's tests only need text to have one and flex not.
QUOTABLE_TYPES = {"text", "textV2", "sticker", "image", "video"}
_NONE_EXPECTED = object()  # expect_violations() not called


@dataclass
class RecordedRequest:
    """One request as the fake received it, and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any  # the parsed JSON body; None when the body is not JSON
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))  # answered as X-Line-Request-Id
    status: int | None = None  # set once answered
    response: Any = None  # the JSON answered (None for an empty or binary answer)

    def header(self, name: str, default: str | None = None) -> str | None:
        """A request header, looked up without regard to case."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)

    @property
    def retry_key(self) -> str | None:
        return self.header(RETRY_KEY)

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Violation:
    """A request LINE would have refused because of what the app sent."""

    method: str
    path: str
    problems: tuple[Problem, ...]

    def __str__(self) -> str:
        return f"{self.method} {self.path}: " + "; ".join(map(str, self.problems))


@dataclass
class _Script:
    """A scripted answer (``respond``/``fail``) or pause (``delay``) for matching requests."""

    method: str | None
    path: str
    times: int | None  # None: every time
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return self.path == path and self.method in (None, method) and self.times != 0

    def use(self) -> None:
        if self.times is not None:
            self.times -= 1


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any = None  # JSON, or bytes for a binary answer
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


class _Refusal(Exception):
    """Raised inside request handling: answer with ``answer``; a violation unless ``legit``."""

    def __init__(self, answer: _Answer, problems: tuple[Problem, ...] = (), legit: bool = False):
        super().__init__(answer.status)
        self.answer, self.problems, self.legit = answer, problems, legit


def error_body(message: str, problems: tuple[Problem, ...] = ()) -> dict:
    """LINE's error shape: ``{"message": ..., "details": [{"message", "property"}]}``."""
    body: dict[str, Any] = {"message": message}
    details = [{"message": p.message, **({"property": p.property} if p.property else {})} for p in problems]
    if details:
        body["details"] = details
    return body


def _refuse(status: int, message: str, problems: tuple[Problem, ...] = (), legit: bool = False) -> _Refusal:
    return _Refusal(_Answer(status, error_body(message, problems)), problems or (Problem("", message),), legit)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class FakeLine:
    """The state and behaviour behind the ``fake_line`` fixture. Thread-safe: requests are
    handled on the server's threads, the test reads from its own."""

    def __init__(self, server: HTTPServer):
        self._server = server
        self._lock = threading.Condition()
        self._closing = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._violations: list[Violation] = []
        self._scripts: list[_Script] = []
        self._delays: list[_Script] = []
        self._expected_violations: int | None | object = _NONE_EXPECTED  # None: at least one
        self._ids = itertools.count(1)
        self._retry_keys: dict[str, RecordedRequest] = {}  # key -> the request holding it
        self._used_reply_tokens: set[str] = set()
        self.rich_menus: dict[str, dict] = {}  # id -> the RichMenuRequest body
        self.rich_menu_images: dict[str, tuple[str, bytes]] = {}  # id -> (content type, bytes)
        self.default_rich_menu: str | None = None
        self.user_rich_menus: dict[str, str] = {}  # user id -> rich menu id
        self.quota: int | None = None  # None: no monthly limit ({"type": "none"})
        self.usage = 0  # messages counted against the quota this "month"
        self.bot_info = {
            "userId": "U" + "0" * 31 + "1",
            "basicId": "@000fake",
            "displayName": "kosodate-bot (fake LINE)",
            "chatMode": "bot",
            "markAsReadMode": "auto",
        }
        self.profiles: dict[str, dict] = {}  # user id -> UserProfileResponse; a default otherwise
        self.contents: dict[str, tuple[str, bytes]] = {}  # message id -> (content type, bytes)
        server.expect_request(re.compile(r"/.*")).respond_with_handler(self._handle)

    # --- what a test reads ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give the app (no trailing slash: the SDK appends /v2/...)."""
        return self._server.url_for("/").rstrip("/")

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def violations(self) -> list[Violation]:
        with self._lock:
            return list(self._violations)

    def sent(self, path: str = "/v2/bot/message/reply", method: str = "POST") -> list[Any]:
        """JSON bodies of the requests to ``path`` that the fake accepted (2xx), i.e. what
        LINE would have acted on; refused ones are in ``requests``."""
        return [r.json for r in self.requests if r.path == path and r.method == method and r.accepted]

    def messages(self, path: str | None = None) -> list[dict]:
        """Message objects LINE would have delivered, across reply/push/multicast/broadcast/
        narrowcast (or only ``path``), in the order sent."""
        paths = (path,) if path else MESSAGE_PATHS
        return [
            m
            for r in self.requests
            if r.path in paths and r.method == "POST" and r.accepted
            for m in (r.json or {}).get("messages", [])
        ]

    def wait_for(
        self, path: str, count: int = 1, timeout: float = 5.0, method: str | None = None
    ) -> list[RecordedRequest]:
        """Wait until ``count`` requests to ``path`` have been answered (for an app that sends
        from a background thread); returns those answered so far. Fails the test on timeout."""

        def answered() -> list[RecordedRequest]:
            return [r for r in self._requests if r.path == path and method in (None, r.method) and r.status is not None]

        with self._lock:
            if not self._lock.wait_for(lambda: len(answered()) >= count, timeout):
                seen = [f"{r.method} {r.path} -> {r.status}" for r in self._requests]
                pytest.fail(
                    f"fake_line: {len(answered())} of {count} requests to {path} "
                    f"within {timeout}s; requests so far: {seen}"
                )
            return answered()

    # --- what a test scripts -------------------------------------------------------------

    def respond(
        self,
        method: str,
        path: str,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """Answer ``method path`` with ``body`` (JSON; ``{}`` by default) after the auth and
        body checks, ``times`` times or always: for endpoints the fake does not emulate, or to
        override one."""
        with self._lock:
            self._scripts.append(
                _Script(method.upper(), path, times, status, {} if body is None else body, dict(headers or {}))
            )

    def fail(
        self,
        path: str,
        status: int = 500,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        method: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests to ``path`` with an error: e.g. 429 with
        ``{"Retry-After": "1"}``, 401 for an expired token, 500, or 409 as for a reused retry key
        (then with ``x-line-accepted-request-id`` unless given)."""
        headers = dict(headers or {})
        if status == HTTPStatus.CONFLICT and not any(k.lower() == "x-line-accepted-request-id" for k in headers):
            headers["x-line-accepted-request-id"] = str(uuid.uuid4())
        message = ERROR_MESSAGES.get(status) or HTTPStatus(status).phrase
        with self._lock:
            self._scripts.append(
                _Script(
                    method and method.upper(),
                    path,
                    times,
                    status,
                    error_body(message) if body is None else body,
                    headers,
                )
            )

    def delay(self, path: str, seconds: float, times: int | None = None, method: str | None = None) -> None:
        """Hold requests to ``path`` for ``seconds`` before answering (client timeouts). The
        wait ends early when the test ends."""
        with self._lock:
            self._delays.append(_Script(method and method.upper(), path, times, seconds=seconds))

    def expect_violations(self, count: int | None = None) -> None:
        """Declare that this test sends LINE something it would refuse (``count`` times, or at
        least once): the teardown then checks that instead of failing on it."""
        with self._lock:
            self._expected_violations = count

    def set_quota(self, limit: int | None) -> None:
        """A monthly message limit (None: none). Push counts 1, multicast one per recipient;
        a send over the limit gets 429 as at LINE."""
        with self._lock:
            self.quota = limit

    # --- teardown ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving: wake delayed requests so the server thread is free for the next test."""
        self._closing.set()

    def verify(self) -> None:
        """Fail the test if it sent LINE something LINE would refuse and did not say so."""
        with self._lock:
            violations, expected = list(self._violations), self._expected_violations
        listing = "\n".join(f"  {v}" for v in violations)
        if expected is _NONE_EXPECTED:
            if violations:
                pytest.fail(f"fake_line: {len(violations)} request(s) LINE would refuse:\n{listing}", pytrace=False)
        elif expected is None:
            if not violations:
                pytest.fail("fake_line: the test expected a refused request and none happened", pytrace=False)
        elif len(violations) != expected:
            pytest.fail(
                f"fake_line: expected {expected} refused request(s), got {len(violations)}:\n{listing}", pytrace=False
            )

    # --- request handling ----------------------------------------------------------------

    def _handle(self, request: Request) -> Response:
        record = self._record(request)
        self._pause(record)
        try:
            answer = self._answer(record)
        except _Refusal as refusal:
            answer = refusal.answer
            if not refusal.legit:
                self._violate(record, refusal.problems)
        except Exception as crash:  # a bug in the fake: fail the test, do not hide it in a 500
            answer = _Answer(500, error_body(ERROR_MESSAGES[500]))
            self._violate(record, (Problem("", f"fake_line crashed: {crash!r}"),))
        with self._lock:
            record.status = answer.status
            record.response = None if isinstance(answer.body, bytes) else answer.body
            self._lock.notify_all()
        return self._response(answer, record.request_id)

    def _violate(self, record: RecordedRequest, problems: tuple[Problem, ...]) -> None:
        with self._lock:
            self._violations.append(Violation(record.method, record.path, problems))

    def _record(self, request: Request) -> RecordedRequest:
        body = request.get_data()
        parsed = None
        if request.mimetype == "application/json" and body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        record = RecordedRequest(
            request.method, request.path, request.args.to_dict(), dict(request.headers), body, parsed
        )
        with self._lock:
            self._requests.append(record)
        return record

    def _pause(self, record: RecordedRequest) -> None:
        with self._lock:
            delay = next((d for d in self._delays if d.matches(record.method, record.path)), None)
            if delay:
                delay.use()
        if delay:
            self._closing.wait(delay.seconds)

    def _answer(self, record: RecordedRequest) -> _Answer:
        """LINE's order: the endpoint, the token, the body, the retry key; then what the test
        scripted, the monthly limit, and the emulated endpoint."""
        op = find_operation(record.method, record.path)
        if op is None:
            why = Problem("", f"{record.method} {record.path} is not an endpoint of the Messaging API")
            raise _Refusal(_Answer(404, error_body(ERROR_MESSAGES[404])), (why,))
        self._check_auth(record)
        self._check_body(record, op)
        self._check_retry_key(record, op)
        scripted = self._scripted(record)
        if scripted:
            return scripted
        handler: Callable[[RecordedRequest, Operation], _Answer] | None = getattr(self, f"_op_{op.operation_id}", None)
        if handler is None:
            raise _refuse(
                501,
                f"fake_line does not emulate {op.operation_id} ({op.method} {op.template}); "
                "script it with fake_line.respond()",
            )
        with self._lock:  # one state change at a time: quota check and count, rich menus, ids
            self._check_quota(record)
            return handler(record, op)

    def _check_auth(self, record: RecordedRequest) -> None:
        auth = record.header("Authorization") or ""
        if not re.fullmatch(r"Bearer \S+", auth):
            raise _refuse(401, NO_AUTH_MESSAGE)

    def _check_body(self, record: RecordedRequest, op: Operation) -> None:
        if op.request_schema and record.json is None:
            raise _refuse(400, f"{op.method} {op.template} needs a JSON body (Content-Type: application/json)")
        json_body = record.json if op.request_schema else None
        problems = tuple(check_request(record.method, record.path, json_body))
        if problems:
            raise _refuse(400, f"The request body has {len(problems)} error(s)", problems)

    def _check_retry_key(self, record: RecordedRequest, op: Operation) -> None:
        key = record.retry_key
        if key is None:
            return
        if RETRY_KEY not in op.header_params:
            raise _refuse(400, f"{op.operation_id} does not accept {RETRY_KEY}")
        if not _is_uuid(key):
            raise _refuse(400, f"{RETRY_KEY} must be a UUID (got {key!r})")
        with self._lock:
            holder = self._retry_keys.get(key)
            if holder is None or (holder.status is not None and not holder.accepted):
                self._retry_keys[key] = record  # the key is this request's until it is refused
                return
        # Accepted, or still being answered: LINE executes a keyed request once.
        sent = holder.response.get("sentMessages") if isinstance(holder.response, dict) else None
        body = error_body(ERROR_MESSAGES[409]) | ({"sentMessages": sent} if sent else {})
        raise _Refusal(_Answer(409, body, {"x-line-accepted-request-id": holder.request_id}), legit=True)

    def _scripted(self, record: RecordedRequest) -> _Answer | None:
        with self._lock:
            script = next((s for s in self._scripts if s.matches(record.method, record.path)), None)
            if script is None:
                return None
            script.use()
        return _Answer(script.status, script.body, script.headers)

    def _check_quota(self, record: RecordedRequest) -> None:
        cost = self._quota_cost(record)
        if self.quota is not None and cost and self.usage + cost > self.quota:
            raise _refuse(429, MONTHLY_LIMIT_MESSAGE, legit=True)

    @staticmethod
    def _quota_cost(record: RecordedRequest) -> int:
        """Messages counted against the monthly limit: one per recipient, replies free."""
        if record.method != "POST" or not isinstance(record.json, dict):
            return 0
        if record.path == "/v2/bot/message/push":
            return 1
        if record.path == "/v2/bot/message/multicast":
            return len(record.json.get("to", []))
        return 0

    @staticmethod
    def _response(answer: _Answer, request_id: str) -> Response:
        headers = {"X-Line-Request-Id": request_id, **answer.headers}
        if isinstance(answer.body, bytes):
            return Response(answer.body, answer.status, headers, content_type=answer.content_type)
        text = "" if answer.body is None else json.dumps(answer.body, ensure_ascii=False)
        return Response(text, answer.status, headers, content_type="application/json")

    # --- emulated operations (called with the lock held; named _op_<operationId>) ---------

    def _sent_messages(self, messages: list[dict]) -> list[dict]:
        sent = []
        for message in messages:
            n = next(self._ids)
            entry = {"id": str(600_000_000_000_000_000 + n)}
            if message.get("type") in QUOTABLE_TYPES:
                entry["quoteToken"] = f"fakeQuoteToken{n:08d}"
            sent.append(entry)
        return sent

    def _op_replyMessage(self, record, op) -> _Answer:
        token = record.json["replyToken"]
        if token in self._used_reply_tokens:
            raise _refuse(400, "Invalid reply token")
        self._used_reply_tokens.add(token)
        return _Answer(200, {"sentMessages": self._sent_messages(record.json["messages"])})

    def _op_pushMessage(self, record, op) -> _Answer:
        self.usage += self._quota_cost(record)
        return _Answer(200, {"sentMessages": self._sent_messages(record.json["messages"])})

    def _op_multicast(self, record, op) -> _Answer:
        self.usage += self._quota_cost(record)
        return _Answer(200, {})

    def _op_broadcast(self, record, op) -> _Answer:
        return _Answer(200, {})

    def _validated(self, record, op) -> _Answer:
        return _Answer(200, {})

    _op_validateReply = _op_validatePush = _op_validateMulticast = _validated
    _op_validateNarrowcast = _op_validateBroadcast = _op_validateRichMenuObject = _validated

    def _op_createRichMenu(self, record, op) -> _Answer:
        rich_menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.rich_menus[rich_menu_id] = record.json
        return _Answer(200, {"richMenuId": rich_menu_id})

    def _rich_menu(self, record, op) -> str:
        rich_menu_id = op.params(record.path)["richMenuId"]
        if rich_menu_id not in self.rich_menus:
            raise _refuse(404, "richmenu not found", legit=True)
        return rich_menu_id

    def _op_getRichMenu(self, record, op) -> _Answer:
        rich_menu_id = self._rich_menu(record, op)
        return _Answer(200, {"richMenuId": rich_menu_id, **self.rich_menus[rich_menu_id]})

    def _op_getRichMenuList(self, record, op) -> _Answer:
        return _Answer(200, {"richmenus": [{"richMenuId": i, **menu} for i, menu in self.rich_menus.items()]})

    def _op_deleteRichMenu(self, record, op) -> _Answer:
        rich_menu_id = self._rich_menu(record, op)
        del self.rich_menus[rich_menu_id]
        self.rich_menu_images.pop(rich_menu_id, None)
        if self.default_rich_menu == rich_menu_id:
            self.default_rich_menu = None
        self.user_rich_menus = {u: m for u, m in self.user_rich_menus.items() if m != rich_menu_id}
        return _Answer(200, {})

    def _op_setRichMenuImage(self, record, op) -> _Answer:
        rich_menu_id = self._rich_menu(record, op)
        content_type = (record.header("Content-Type") or "").split(";")[0].strip()
        if content_type not in RICH_MENU_IMAGE_TYPES:
            raise _refuse(400, f"A rich menu image must be image/png or image/jpeg (got {content_type!r})")
        if not record.body or len(record.body) > RICH_MENU_IMAGE_MAX_BYTES:
            raise _refuse(
                400, f"A rich menu image must be 1 to {RICH_MENU_IMAGE_MAX_BYTES:,} bytes (got {len(record.body):,})"
            )
        if rich_menu_id in self.rich_menu_images:
            raise _refuse(400, "An image has already been uploaded to the richmenu")
        self.rich_menu_images[rich_menu_id] = (content_type, record.body)
        return _Answer(200, {})

    def _op_getRichMenuImage(self, record, op) -> _Answer:
        rich_menu_id = self._rich_menu(record, op)
        if rich_menu_id not in self.rich_menu_images:
            raise _refuse(404, "richmenu image not found", legit=True)
        content_type, image = self.rich_menu_images[rich_menu_id]
        return _Answer(200, image, content_type=content_type)

    def _linkable(self, record, op) -> str:
        """A rich menu can be shown to users only once it has its image (LINE refuses otherwise)."""
        rich_menu_id = self._rich_menu(record, op)
        if rich_menu_id not in self.rich_menu_images:
            raise _refuse(400, "must upload richmenu image before applying it to user")
        return rich_menu_id

    def _op_setDefaultRichMenu(self, record, op) -> _Answer:
        self.default_rich_menu = self._linkable(record, op)
        return _Answer(200, {})

    def _op_getDefaultRichMenuId(self, record, op) -> _Answer:
        if self.default_rich_menu is None:
            raise _refuse(404, "no default richmenu", legit=True)
        return _Answer(200, {"richMenuId": self.default_rich_menu})

    def _op_cancelDefaultRichMenu(self, record, op) -> _Answer:
        self.default_rich_menu = None
        return _Answer(200, {})

    def _op_linkRichMenuIdToUser(self, record, op) -> _Answer:
        self.user_rich_menus[op.params(record.path)["userId"]] = self._linkable(record, op)
        return _Answer(200, {})

    def _op_getRichMenuIdOfUser(self, record, op) -> _Answer:
        rich_menu_id = self.user_rich_menus.get(op.params(record.path)["userId"])
        if rich_menu_id is None:
            raise _refuse(404, "the user has no richmenu", legit=True)
        return _Answer(200, {"richMenuId": rich_menu_id})

    def _op_unlinkRichMenuIdFromUser(self, record, op) -> _Answer:
        self.user_rich_menus.pop(op.params(record.path)["userId"], None)
        return _Answer(200, {})

    def _op_getMessageQuota(self, record, op) -> _Answer:
        return _Answer(200, {"type": "none"} if self.quota is None else {"type": "limited", "value": self.quota})

    def _op_getMessageQuotaConsumption(self, record, op) -> _Answer:
        return _Answer(200, {"totalUsage": self.usage})

    def _op_getBotInfo(self, record, op) -> _Answer:
        return _Answer(200, dict(self.bot_info))

    def _op_getProfile(self, record, op) -> _Answer:
        user_id = op.params(record.path)["userId"]
        default = {"userId": user_id, "displayName": f"User {user_id[-4:]}", "language": "ja"}
        return _Answer(200, self.profiles.get(user_id, default))

    def _op_getMessageContent(self, record, op) -> _Answer:
        message_id = op.params(record.path)["messageId"]
        if message_id not in self.contents:
            raise _refuse(404, ERROR_MESSAGES[404], legit=True)
        content_type, content = self.contents[message_id]
        return _Answer(200, content, content_type=content_type)

    def _op_showLoadingAnimation(self, record, op) -> _Answer:
        return _Answer(202, {})

    def _op_markMessagesAsRead(self, record, op) -> _Answer:
        return _Answer(200, {})

    _op_markMessagesAsReadByToken = _op_markMessagesAsRead


@pytest.fixture(scope="session")
def line_api_server():
    """One threaded pytest-httpserver for the session (see the module docstring for why)."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def fake_line(line_api_server):
    """A fresh fake LINE API; the test fails at teardown if the app sent LINE something LINE
    would refuse, unless the test called ``fake_line.expect_violations()``."""
    line_api_server.clear()
    fake = FakeLine(line_api_server)
    yield fake
    fake.close()
    line_api_server.clear()
    fake.verify()
