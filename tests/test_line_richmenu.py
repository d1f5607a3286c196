"""`kosodate-bot line richmenu` against a fake LINE API on localhost.

The SDK's own clients talk to the fake (LINE_API_BASE_URL), so what is asserted is what LINE
would receive: the validate call, the menu as created, the image bytes and their content type,
the default, and which menus are deleted, in which order. The fake holds the account's menus
and refuses, as the real API does, what breaks the rules of messaging-api.yml and LINE's rich
menu reference (sizes, lengths, one image per menu, unknown ids).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import struct
import time
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner
from werkzeug import Request, Response

from bot.cli import cli
from handlers.line import richmenu

TOKEN = "test-channel-token"
LABELS = ["今週のイベント", "近くの拠点", "よくある質問", "設定", "ヘルプ"]
MENU_KEYS = {"size", "selected", "name", "chatBarText", "areas"}
FOREIGN_NAME = "spring campaign"  # a menu someone else made on the same account


@dataclass
class Seen:
    method: str
    path: str
    content_type: str | None
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class FakeLine:
    """The rich menu part of the Messaging API, as state and rules."""

    menus: dict = field(default_factory=dict)  # id -> the RichMenuResponse as LINE lists it
    images: dict = field(default_factory=dict)  # id -> (content type, bytes)
    default: str | None = None
    seen: list = field(default_factory=list)
    fail: dict = field(default_factory=dict)  # "METHOD /path-pattern" -> (status, body) or "sleep"
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add_menu(self, name: str, default: bool = False, with_image: bool = True) -> str:
        menu_id = f"richmenu-old{next(self.ids):029d}"
        menu = json.loads(richmenu.menu_json(richmenu.menu_request(name)))
        self.menus[menu_id] = {"richMenuId": menu_id, **menu}
        if with_image:
            self.images[menu_id] = ("image/png", b"old")
        if default:
            self.default = menu_id
        return menu_id

    def calls(self) -> list[str]:
        return [f"{s.method} {s.path}" for s in self.seen]

    # --- the server side ---

    def handle(self, request: Request) -> Response:
        body = request.get_data()
        self.seen.append(Seen(request.method, request.path, request.headers.get("Content-Type"), body))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(
                401, "Authentication failed. Confirm that the access token in the authorization header is valid."
            )
        key = f"{request.method} {request.path}"
        for pattern, failure in self.fail.items():
            if re.fullmatch(pattern, key):
                if failure == "sleep":
                    time.sleep(1.0)
                    return _json({})
                status, payload = failure
                return Response(payload, status=status, content_type="application/json")
        return self.route(request.method, request.path, body, request.headers.get("Content-Type"))

    def route(self, method: str, path: str, body: bytes, content_type: str | None) -> Response:
        if (method, path) == ("POST", "/v2/bot/richmenu/validate"):
            problems = menu_problems(json.loads(body))
            return _error(400, "The request body has errors", problems) if problems else _json({})
        if (method, path) == ("POST", "/v2/bot/richmenu"):
            menu = json.loads(body)
            problems = menu_problems(menu)
            if problems:
                return _error(400, "The request body has errors", problems)
            menu_id = f"richmenu-new{next(self.ids):029d}"
            self.menus[menu_id] = {"richMenuId": menu_id, **menu}
            return _json({"richMenuId": menu_id})
        if (method, path) == ("GET", "/v2/bot/richmenu/list"):
            return _json({"richmenus": list(self.menus.values())})
        if (method, path) == ("GET", "/v2/bot/user/all/richmenu"):
            return _json({"richMenuId": self.default}) if self.default else _error(404, "no default rich menu")
        if m := re.fullmatch(r"/v2/bot/richmenu/([^/]+)/content", path):
            return self.upload(m[1], body, content_type) if method == "POST" else _error(405, "method not allowed")
        if method == "POST" and (m := re.fullmatch(r"/v2/bot/user/all/richmenu/([^/]+)", path)):
            if m[1] not in self.menus:
                return _error(404, "richmenu not found")
            if m[1] not in self.images:
                return _error(400, "must upload richmenu image before applying it to user")
            self.default = m[1]
            return _json({})
        if method == "DELETE" and (m := re.fullmatch(r"/v2/bot/richmenu/([^/]+)", path)):
            if self.menus.pop(m[1], None) is None:
                return _error(404, "richmenu not found")
            self.images.pop(m[1], None)
            if self.default == m[1]:
                self.default = None
            return _json({})
        return _error(404, "Not found")

    def upload(self, menu_id: str, body: bytes, content_type: str | None) -> Response:
        if menu_id not in self.menus:
            return _error(404, "richmenu not found")
        if menu_id in self.images:
            return _error(400, "An image has already been uploaded to the richmenu")
        if content_type not in ("image/png", "image/jpeg"):
            return _error(415, "Unsupported Media Type")
        if len(body) > richmenu.MAX_IMAGE_BYTES:
            return _error(413, "Request Entity Too Large")
        self.images[menu_id] = (content_type, body)
        return _json({})


def menu_problems(menu: dict) -> list[dict]:
    """What LINE refuses in a rich menu object (RichMenuRequest and the rich menu reference)."""
    problems = []

    def bad(prop, message):
        problems.append({"property": prop, "message": message})

    if set(menu) != MENU_KEYS:
        bad("", f"expected exactly {sorted(MENU_KEYS)}, got {sorted(menu)}")
        return problems
    width, height = menu["size"]["width"], menu["size"]["height"]
    if not (800 <= width <= 2500 and height >= 250 and width / height >= 1.45):
        bad("size", "invalid size")
    if not isinstance(menu["selected"], bool):
        bad("selected", "must be a boolean")
    if not 1 <= len(menu["name"]) <= 300:
        bad("name", "size must be between 1 and 300")
    if not 1 <= len(menu["chatBarText"]) <= 14:
        bad("chatBarText", "size must be between 1 and 14")
    if not 1 <= len(menu["areas"]) <= 20:
        bad("areas", "size must be between 1 and 20")
    for i, area in enumerate(menu["areas"]):
        b, action = area["bounds"], area["action"]
        if set(b) != {"x", "y", "width", "height"} or b["x"] + b["width"] > width or b["y"] + b["height"] > height:
            bad(f"areas[{i}].bounds", "out of the rich menu")
        if action.get("type") != "message" or set(action) - {"type", "label", "text"}:
            bad(f"areas[{i}].action", "not a message action")
        if not 1 <= len(action.get("text", "")) <= 300:
            bad(f"areas[{i}].action.text", "size must be between 1 and 300")
        if len(action.get("label", "")) > 20:
            bad(f"areas[{i}].action.label", "size must be between 0 and 20")
    return problems


def _json(payload) -> Response:
    return Response(json.dumps(payload), status=200, content_type="application/json")


def _error(status: int, message: str, details: list | None = None) -> Response:
    payload = {"message": message, **({"details": details} if details else {})}
    return Response(json.dumps(payload), status=status, content_type="application/json")


@pytest.fixture
def line(httpserver):
    fake = FakeLine()
    httpserver.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    return fake


@pytest.fixture
def env(httpserver):
    return {
        "LINE_CHANNEL_SECRET": "test-secret",
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": httpserver.url_for("/"),
        "KOSODATE_LOG_LEVEL": None,
    }


def run(env, *args):
    return CliRunner().invoke(cli, ["line", "richmenu", *args], env=env)


def png_header(width: int, height: int, pad: int = 0) -> bytes:
    """A PNG's signature and IHDR: all the command reads of an image before sending it."""
    ihdr = struct.pack(">II5B", width, height, 8, 2, 0, 0, 0)
    return richmenu.PNG_SIGNATURE + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0" + b"\0" * pad


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\0"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


# --- a first run -------------------------------------------------------------------------------


def test_first_run_validates_creates_uploads_and_sets_default(line, env):
    result = run(env)

    assert result.exit_code == 0, result.output
    assert line.calls()[:3] == ["POST /v2/bot/richmenu/validate", "GET /v2/bot/richmenu/list", "POST /v2/bot/richmenu"]
    (new_id,) = line.menus
    assert line.calls()[3:] == [f"POST /v2/bot/richmenu/{new_id}/content", f"POST /v2/bot/user/all/richmenu/{new_id}"]
    validated, created = line.seen[0], line.seen[2]
    assert validated.content_type == created.content_type == "application/json"
    assert validated.json() == created.json()
    menu = created.json()
    assert menu["size"] == {"width": 2500, "height": 1686}
    assert menu["chatBarText"] == "メニュー" and menu["name"].startswith("kosodate-bot ")
    assert [a["action"] for a in menu["areas"]] == [{"type": "message", "label": t, "text": t} for t in LABELS]
    upload = line.seen[3]
    assert upload.content_type == "image/png"
    assert upload.body == richmenu.IMAGE_PATH.read_bytes()
    assert line.default == new_id
    assert result.output.strip() == f"rich menu {new_id} is now the default for all users"


def test_the_areas_cover_the_menu_without_overlap():
    areas = [a.bounds for a in richmenu.menu_request().areas]
    for a, b in itertools.combinations(areas, 2):
        overlap_x = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
        overlap_y = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        assert overlap_x <= 0 or overlap_y <= 0, (a, b)
    assert all(b.x + b.width <= richmenu.MENU_WIDTH and b.y + b.height <= richmenu.MENU_HEIGHT for b in areas)
    assert sum(b.width * b.height for b in areas) == richmenu.MENU_WIDTH * richmenu.MENU_HEIGHT
    assert not menu_problems(json.loads(richmenu.menu_json(richmenu.menu_request())))


def test_the_shipped_image_fits_the_menu():
    image = richmenu.load_image()
    assert (image.content_type, image.width, image.height) == ("image/png", 2500, 1686)
    assert len(image.data) <= richmenu.MAX_IMAGE_BYTES


# --- a rerun replaces ours and leaves others alone ---------------------------------------------


def test_rerun_sets_the_new_default_then_deletes_our_old_menus_only(line, env):
    old = line.add_menu("kosodate-bot 2026-01-01T00:00:00Z", default=True)
    stale = line.add_menu("kosodate-bot", with_image=False)  # left by an interrupted run
    foreign = line.add_menu(FOREIGN_NAME)
    lookalike = line.add_menu("kosodate-botanical garden")

    result = run(env)

    assert result.exit_code == 0, result.output
    new_id = next(i for i in line.menus if i.startswith("richmenu-new"))
    calls = line.calls()
    set_default = calls.index(f"POST /v2/bot/user/all/richmenu/{new_id}")
    assert calls[set_default + 1 :] == [f"DELETE /v2/bot/richmenu/{old}", f"DELETE /v2/bot/richmenu/{stale}"]
    assert set(line.menus) == {new_id, foreign, lookalike}
    assert line.default == new_id
    assert old in result.output and stale in result.output


def test_two_runs_leave_one_menu_of_ours(line, env):
    assert run(env).exit_code == 0
    assert run(env).exit_code == 0
    ours = [m for m in line.menus.values() if richmenu.is_ours(m["name"])]
    assert len(ours) == 1 and line.default == ours[0]["richMenuId"]


# --- failures leave the account as it was ------------------------------------------------------


def test_upload_refused_deletes_the_new_menu_and_keeps_the_old_default(line, env):
    old = line.add_menu("kosodate-bot 2026-01-01T00:00:00Z", default=True)
    line.fail[r"POST /v2/bot/richmenu/richmenu-new\w+/content"] = (
        400,
        json.dumps({"message": "Image size must match the rich menu size"}),
    )

    result = run(env)

    assert result.exit_code == 1
    assert result.output.count("\n") == 1  # one line
    assert "could not upload the rich menu image: 400 Image size must match the rich menu size" in result.output
    assert "the new menu was deleted again; the default menu is unchanged" in result.output
    assert set(line.menus) == {old} and line.default == old
    new_id = next(s.path.split("/")[4] for s in line.seen if s.path.endswith("/content"))
    assert line.calls()[-1] == f"DELETE /v2/bot/richmenu/{new_id}"


def test_set_default_failing_deletes_the_new_menu(line, env):
    old = line.add_menu("kosodate-bot 2026-01-01T00:00:00Z", default=True)
    line.fail[r"POST /v2/bot/user/all/richmenu/.*"] = (500, "<html>Internal Server Error</html>")

    result = run(env)

    assert result.exit_code == 1
    assert "could not set the rich menu as default: 500" in result.output
    assert set(line.menus) == {old} and line.default == old


def test_menu_refused_by_validate_reports_lines_details_and_creates_nothing(line, env):
    # The SDK's models already refuse what the spec bounds (a chatBarText over 14 characters);
    # LINE's validate checks more (an area outside the image, an action it does not accept).
    line.fail[r"POST /v2/bot/richmenu/validate"] = (
        400,
        json.dumps(
            {
                "message": "The request body has 1 error(s)",
                "details": [{"message": "must be within the rich menu", "property": "areas[2].bounds"}],
            }
        ),
    )

    result = run(env)

    assert result.exit_code == 1
    assert result.output == (
        "Error: LINE API could not validate the rich menu: 400 The request body has 1 error(s) "
        "(areas[2].bounds: must be within the rich menu)\n"
    )
    assert line.calls() == ["POST /v2/bot/richmenu/validate"] and not line.menus


def test_expired_token_is_one_line_with_lines_message(line, env):
    result = run({**env, "LINE_CHANNEL_ACCESS_TOKEN": "expired"})

    assert result.exit_code == 1
    assert result.output == (
        "Error: LINE API could not validate the rich menu: 401 Authentication failed. "
        "Confirm that the access token in the authorization header is valid.\n"
    )


def test_no_answer_in_time_is_reported_and_nothing_made(line, env, monkeypatch):
    monkeypatch.setattr(richmenu, "REQUEST_TIMEOUT_S", 0.3)
    line.fail[r"POST /v2/bot/richmenu"] = "sleep"

    result = run(env)

    assert result.exit_code == 1
    assert "could not create the rich menu: no answer within 0.3 s" in result.output
    assert not line.menus and line.default is None


def test_no_token_says_so_and_sends_nothing(line, env):
    result = run({**env, "LINE_CHANNEL_SECRET": None, "LINE_CHANNEL_ACCESS_TOKEN": None})

    assert result.exit_code == 1
    assert result.output == "Error: LINE_CHANNEL_ACCESS_TOKEN is not set\n"
    assert line.seen == []


# --- --dry-run and --image ---------------------------------------------------------------------


def test_dry_run_prints_the_menu_and_sends_nothing(line, env):
    result = CliRunner().invoke(cli, ["line", "richmenu", "--dry-run"], env=env)

    assert result.exit_code == 0, result.output
    menu = json.loads(result.stdout)
    assert [a["action"]["text"] for a in menu["areas"]] == LABELS
    assert not menu_problems(menu)
    assert "nothing sent" in result.stderr
    assert line.seen == []


def test_another_jpeg_image_is_uploaded_as_jpeg(line, env, tmp_path):
    path = tmp_path / "menu.jpg"
    path.write_bytes(jpeg_header(2500, 1686))

    result = run(env, "--image", str(path))

    assert result.exit_code == 0, result.output
    upload = next(s for s in line.seen if s.path.endswith("/content"))
    assert upload.content_type == "image/jpeg" and upload.body == path.read_bytes()


@pytest.mark.parametrize(
    "content, message",
    [
        (png_header(2500, 843), "2500×843 pixels; the menu needs 2500×1686"),
        (jpeg_header(1200, 810), "1200×810 pixels; the menu needs 2500×1686"),
        (b"GIF89a" + b"\0" * 20, "not a PNG or JPEG file"),
        (png_header(2500, 1686, pad=richmenu.MAX_IMAGE_BYTES), "bytes; LINE takes at most 1,048,576 (1 MB)"),
    ],
)
def test_a_wrong_image_is_refused_before_anything_is_sent(line, env, tmp_path, content, message):
    path = tmp_path / "menu.img"
    path.write_bytes(content)

    for args in (["--image", str(path)], ["--image", str(path), "--dry-run"]):
        result = run(env, *args)
        assert result.exit_code == 1
        assert result.output.startswith(f"Error: image {path}: ") and message in result.output
    assert line.seen == []


def test_a_missing_image_is_refused(line, env, tmp_path):
    result = run(env, "--image", str(tmp_path / "nothing.png"))

    assert result.exit_code == 1 and "cannot be read" in result.output
    assert line.seen == []


# --- the image generator (a dev tool: needs Pillow and the font) -------------------------------


def test_the_generator_draws_an_image_of_the_menus_size(tmp_path):
    pytest.importorskip("PIL")
    if importlib.util.find_spec("matplotlib_fontja") is None:
        pytest.skip("the font package matplotlib-fontja is not installed")
    from tools import richmenu_image

    out = tmp_path / "menu.png"
    assert richmenu_image.main(["--out", str(out)]) == 0
    image = richmenu.load_image(out)
    assert (image.width, image.height) == (2500, 1686)
