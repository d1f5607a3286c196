"""A fake Slack for the Slack tests: its Web API on localhost, and requests signed as Slack signs them.

``SlackFake`` answers the Web API methods the bot calls (on a pytest-httpserver) and the
``response_url`` posts, and keeps what it received; ``wait_for`` polls for a request the bot
sends after its ack (in Bolt's thread pool), so tests wait for an effect, never for a time.
``Slack`` posts commands, button clicks and modal submissions through Flask's test client,
signed with the signing secret (v0) exactly as Slack does.

A plugin (``pytest_plugins`` in tests/conftest.py): its fixtures ``base_path``, ``base``, ``fake``
and ``slack`` reach every test by name; test modules import only its constants and helpers.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse

import pytest
from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
STAFF_USER = "UOFFICE1"
STAFF_CHANNEL = "CNISHI01"  # 堺市西区's staff channel
STAFF_WARD = "堺市西区"
ASAHI_CHANNEL = "CASAHI01"
MIHARA_CHANNEL = "CMIHARA1"
REPORT_CHANNEL = "CREPORT1"
OUTSIDER = "UPARENT9"
PUBLIC_CHANNEL = "CPUBLIC1"
WAIT_S = 20.0
BLOCKS_MAX = 50  # Slack: blocks of one message

API_METHODS = (
    "views.open",
    "views.update",
    "chat.postMessage",
    "chat.postEphemeral",
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
)


class SlackFake:
    """The Web API and the response URLs, on one local HTTP server."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.server.expect_request("/auth.test").respond_with_json(
            {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "kosodate",
                "team_id": "T111",
                "user_id": "UBOT0001",
                "bot_id": "BBOT0001",
            }
        )
        for method in API_METHODS:
            if method == "files.getUploadURLExternal":
                self.server.expect_request(f"/{method}").respond_with_json(
                    {"ok": True, "upload_url": self.server.url_for("/upload/F0001"), "file_id": "F0001"}
                )
            elif method == "files.completeUploadExternal":
                self.server.expect_request(f"/{method}").respond_with_json(
                    {"ok": True, "files": [{"id": "F0001", "title": "sheet"}]}
                )
            else:
                self.server.expect_request(f"/{method}").respond_with_json(
                    {"ok": True, "ts": "1.0", "view": {"id": "V1"}}
                )
        self.server.expect_request("/upload/F0001").respond_with_data("OK - 1")
        self.server.expect_request("/respond", method="POST").respond_with_data("ok")

    @property
    def base_url(self) -> str:
        return self.server.url_for("/")

    @property
    def response_url(self) -> str:
        return self.server.url_for("/respond")

    def received(self, path: str) -> list[dict]:
        """The bodies (JSON or form, as dicts) the server received at ``path``, in order."""
        return [_body(req) for req, _resp in list(self.server.log) if req.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = WAIT_S) -> list[dict]:
        """Wait until ``count`` requests reached ``path``; return them all."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.received(path)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the fake Slack received {len(found)} request(s) at {path}, expected {count}: "
                    f"{[r.path for r, _ in self.server.log]}"
                )
            time.sleep(0.02)

    def paths(self) -> list[str]:
        return [req.path for req, _resp in list(self.server.log)]


def _body(req) -> dict:
    data = req.get_data(as_text=True)
    if req.path.startswith("/upload/"):  # a file's bytes (urllib sends them as a form)
        return {"raw": data}
    if (req.content_type or "").startswith("application/json"):
        return json.loads(data or "{}")
    if (req.content_type or "").startswith("application/x-www-form-urlencoded"):
        return {k: v for k, v in urllib.parse.parse_qsl(data)}
    return {"raw": data}


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=ts, body=body),
        "Content-Type": "application/x-www-form-urlencoded",
    }


class Slack:
    """What Slack sends the bot, through Flask's test client."""

    def __init__(self, client, fake: SlackFake):
        self.client = client
        self.fake = fake
        self.count = 0

    def _next(self) -> str:
        self.count += 1
        return f"{self.count}.{time.monotonic_ns()}.trigger"

    def post(self, body: str, headers: dict | None = None, **sign_args):
        return self.client.post(
            "/slack/events", data=body.encode("utf-8"), headers=sign(body, **sign_args) | (headers or {})
        )

    def command_body(
        self, text: str, *, user: str = STAFF_USER, channel: str = STAFF_CHANNEL, trigger_id: str | None = None
    ) -> str:
        return urllib.parse.urlencode(
            {
                "token": "verification_token",
                "team_id": "T111",
                "team_domain": "test",
                "channel_id": channel,
                "channel_name": "staff",
                "user_id": user,
                "user_name": f"name-{user}",
                "command": "/kosodate",
                "text": text,
                "api_app_id": "A111",
                "response_url": self.fake.response_url,
                "trigger_id": trigger_id or self._next(),
            }
        )

    def command(self, text: str, **kwargs):
        return self.post(self.command_body(text, **kwargs))

    def payload(self, payload: dict, headers: dict | None = None):
        body = urllib.parse.urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
        return self.post(body, headers)

    def submit(self, view: dict, values: dict[str, str], *, user: str = STAFF_USER):
        """Submit ``view`` (as the bot opened it) with ``values`` by block id."""
        state = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            kind = block["element"]["type"]
            value = values.get(block["block_id"])
            if kind == "static_select":
                chosen = (
                    {"selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}
                    if value
                    else {"selected_option": None}
                )
                state[block["block_id"]] = {"value": {"type": kind} | chosen}
            elif kind == "datepicker":
                state[block["block_id"]] = {"value": {"type": kind, "selected_date": value}}
            elif kind == "timepicker":
                state[block["block_id"]] = {"value": {"type": kind, "selected_time": value}}
            else:
                state[block["block_id"]] = {"value": {"type": kind, "value": value}}
        submitted = view | {"id": "V1", "state": {"values": state}}
        return self.payload(
            {
                "type": "view_submission",
                "team": {"id": "T111"},
                "user": {"id": user, "username": f"name-{user}", "team_id": "T111"},
                "api_app_id": "A111",
                "trigger_id": self._next(),
                "view": submitted,
            }
        )

    def click(self, action: dict, *, user: str = STAFF_USER, channel: str = STAFF_CHANNEL):
        return self.payload(
            {
                "type": "block_actions",
                "team": {"id": "T111"},
                "user": {"id": user, "username": f"name-{user}"},
                "api_app_id": "A111",
                "trigger_id": self._next(),
                "channel": {"id": channel},
                "container": {"type": "message", "channel_id": channel, "is_ephemeral": True},
                "response_url": self.fake.response_url,
                "actions": [action | {"type": "button", "block_id": "b1", "action_ts": "1.0"}],
            }
        )


# --- fixtures (a plugin: tests/conftest.py lists this module in pytest_plugins) ---------------


def slack_config(db_path, fake: SlackFake, **changes):
    from bot.config import Config

    settings = dict(
        db_path=str(db_path),
        slack_signing_secret=SECRET,
        slack_bot_token=TOKEN,
        slack_staff_users=(STAFF_USER,),
        slack_staff_channels=((STAFF_CHANNEL, "西区"), (ASAHI_CHANNEL, "旭区"), (MIHARA_CHANNEL, "美原区")),
        slack_report_channel=REPORT_CHANNEL,
        slack_api_base_url=fake.base_url,
    )
    return Config(**(settings | changes))


@pytest.fixture
def base_path(demo_db_path, tmp_path):
    """A private copy of the demo base, without the declined questions other tests may have
    logged in the session's base."""
    from knowledge import open_db

    path = tmp_path / "kb.db"
    shutil.copy(demo_db_path, path)
    db = open_db(path)
    db.execute("DELETE FROM unanswered")
    db.close()
    return path


@pytest.fixture
def fake(httpserver):
    return SlackFake(httpserver)


def app_with(base_path, fake: SlackFake, **changes) -> Slack:
    """A Slack posting to a fresh app on ``base_path`` (for a test that sets up its fake first)."""
    from bot.app import create_app

    return Slack(create_app(slack_config(base_path, fake, **changes)).test_client(), fake)


@pytest.fixture
def slack(base_path, fake):
    return app_with(base_path, fake)


@pytest.fixture
def base(base_path):
    """A connection to the test's base, to look at what the bot wrote."""
    from knowledge import open_db

    db = open_db(base_path)
    yield db
    db.close()


def fill_progress(db, program_id: str, n: int = 200, padding: str = "") -> None:
    """``n`` imported progress entries of one program, one a second: more than a message holds."""
    for i in range(n):
        db["progress"].insert(
            {
                "id": f"p{i}",
                "program_id": program_id,
                "period": "後期",
                "text": f"第{i}回 居場所の運営会議を開催し、参加団体と課題を共有した{padding}",
                "posted_by": "職員",
                "posted_at": f"2025-10-01T00:{i // 60:02d}:{i % 60:02d}+00:00",
                "origin": "import",
            }
        )
