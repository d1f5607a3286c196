"""The bot's LINE rich menu: what it holds, and the steps that put it in place.

A rich menu is five tiles under the chat. Each tile sends a plain text message, as if the parent
had typed it, so the bot's ordinary text handler answers it and nothing else needs to know
about the menu. The menu's image is generated once by ``tools/richmenu_image.py`` and shipped in
``handlers/line/data/richmenu.png``: running the bot needs neither Pillow nor a font.

``install`` replaces the menu instead of adding one more each run: the menus this bot made
before are found by their name (``MENU_NAME_PREFIX``) and deleted only after the new one is the
default, so parents never see the chat without a menu. A menu left half made (its image upload
failed) is deleted at once, and the old default stays.
"""

from __future__ import annotations

import json
import logging
import pathlib
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

import urllib3
from linebot.v3.messaging import (
    ApiException,
    MessageAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)

from handlers.line import client as line_client

logger = logging.getLogger(__name__)

# Menus whose name is this, or starts with it and a space, are this bot's: a rerun deletes them.
MENU_NAME_PREFIX = "kosodate-bot"
MENU_WIDTH, MENU_HEIGHT = 2500, 1686  # LINE's large template size; the image must match it
CHAT_BAR_TEXT = "メニュー"  # shown on the bar that opens and closes the menu (≤ 14 characters)
MENU_OPEN_BY_DEFAULT = True  # parents see what the bot offers without finding the bar first
MAX_IMAGE_BYTES = 1024 * 1024  # LINE refuses rich menu images over 1 MB
MAX_LABEL_CHARS = 20  # an action's label, read out by screen readers
MAX_CHAT_BAR_CHARS = 14
IMAGE_PATH = pathlib.Path(__file__).resolve().parent / "data" / "richmenu.png"
REQUEST_TIMEOUT_S = line_client.REQUEST_TIMEOUT_S

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8"
# JPEG start-of-frame markers (which carry the image size): C0..CF except DHT, JPG and DAC.
JPEG_SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class RichMenuError(Exception):
    """Why the menu could not be put in place, in one line a person can act on."""


@dataclass(frozen=True)
class Tile:
    """One tappable area: the label drawn on the image is the text the tap sends."""

    key: str  # names the tile for the image generator (its icon and colour)
    text: str
    x: int
    y: int
    width: int
    height: int


def _layout() -> tuple[Tile, ...]:
    """Three tiles on the top row, two wider ones below, covering the image without gaps."""
    half = MENU_HEIGHT // 2
    third = MENU_WIDTH // 3
    top = [("events", "今週のイベント"), ("bases", "近くの拠点"), ("faq", "よくある質問")]
    bottom = [("settings", "設定"), ("help", "ヘルプ")]
    tiles = []
    for i, (key, text) in enumerate(top):
        width = third if i < len(top) - 1 else MENU_WIDTH - third * (len(top) - 1)
        tiles.append(Tile(key, text, i * third, 0, width, half))
    for i, (key, text) in enumerate(bottom):
        width = MENU_WIDTH // 2 if i == 0 else MENU_WIDTH - MENU_WIDTH // 2
        tiles.append(Tile(key, text, i * (MENU_WIDTH // 2), half, width, MENU_HEIGHT - half))
    return tuple(tiles)


TILES = _layout()
# What a tap sends: the LINE text handler must answer each of these (今週のイベント goes to
# knowledge.ask; the others are the handler's own commands).
MENU_TEXTS = tuple(t.text for t in TILES)


def menu_name(now: datetime | None = None) -> str:
    """The prefix that marks the menu as ours, and when it was made (for people reading a list)."""
    now = now or datetime.now(UTC)
    return f"{MENU_NAME_PREFIX} {now.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def is_ours(name: str | None) -> bool:
    return bool(name) and (name == MENU_NAME_PREFIX or name.startswith(MENU_NAME_PREFIX + " "))


def menu_request(name: str | None = None) -> RichMenuRequest:
    """The menu object as LINE's create and validate calls take it."""
    return RichMenuRequest(
        size=RichMenuSize(width=MENU_WIDTH, height=MENU_HEIGHT),
        selected=MENU_OPEN_BY_DEFAULT,
        name=name or menu_name(),
        chat_bar_text=CHAT_BAR_TEXT,
        areas=[
            RichMenuArea(
                bounds=RichMenuBounds(x=t.x, y=t.y, width=t.width, height=t.height),
                action=MessageAction(label=t.text[:MAX_LABEL_CHARS], text=t.text),
            )
            for t in TILES
        ],
    )


def menu_json(menu: RichMenuRequest) -> str:
    return json.dumps(menu.to_dict(), ensure_ascii=False, indent=2)


# --- the image -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuImage:
    path: pathlib.Path
    data: bytes
    content_type: str
    width: int
    height: int


def load_image(path: str | pathlib.Path | None = None) -> MenuImage:
    """Read and check the image before anything is sent: LINE would refuse it only after the
    menu was made, and a refused image is a menu without a picture."""
    path = pathlib.Path(path) if path else IMAGE_PATH
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RichMenuError(f"image {path}: cannot be read ({e.strerror or e})") from e
    if len(data) > MAX_IMAGE_BYTES:
        raise RichMenuError(f"image {path}: {len(data):,} bytes; LINE takes at most {MAX_IMAGE_BYTES:,} (1 MB)")
    content_type, size = _image_type_and_size(data)
    if content_type is None:
        raise RichMenuError(f"image {path}: not a PNG or JPEG file")
    if size != (MENU_WIDTH, MENU_HEIGHT):
        found = f"{size[0]}×{size[1]}" if size else "an unreadable size"
        raise RichMenuError(f"image {path}: {found} pixels; the menu needs {MENU_WIDTH}×{MENU_HEIGHT}")
    return MenuImage(path, data, content_type, *size)


def _image_type_and_size(data: bytes) -> tuple[str | None, tuple[int, int] | None]:
    """The image's content type and pixel size from its header, without an imaging library."""
    if data.startswith(PNG_SIGNATURE):
        # The first chunk is IHDR: length (4), type (4), then width and height (4 each).
        if len(data) >= 24 and data[12:16] == b"IHDR":
            return "image/png", struct.unpack(">II", data[16:24])
        return "image/png", None
    if data.startswith(JPEG_SIGNATURE):
        return "image/jpeg", _jpeg_size(data)
    return None, None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in JPEG_SOF_MARKERS:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


# --- the API steps ---------------------------------------------------------------------------


@dataclass
class InstallResult:
    rich_menu_id: str
    deleted: list[str] = field(default_factory=list)


def install(token: str, base_url: str | None, image: MenuImage, now: datetime | None = None) -> InstallResult:
    """Validate, create, upload the image, set as default, then delete this bot's older menus.

    Raises ``RichMenuError`` on the first failure. Up to the default being set, a failure
    leaves the account as it was (the new menu is deleted again); after it, the new menu is
    in place and the error names the old menus still to delete (a rerun deletes them).
    """
    menu = menu_request(menu_name(now))
    with line_client.messaging_api(token, base_url) as api, line_client.messaging_blob_api(token, base_url) as blob:
        _call("validate the rich menu", api.validate_rich_menu_object, menu)
        listed = _call("list the rich menus", api.get_rich_menu_list)
        old = [m.rich_menu_id for m in listed.richmenus if is_ours(m.name)]
        new_id = _call("create the rich menu", api.create_rich_menu, menu).rich_menu_id
        logger.info("rich menu %s created", new_id)
        try:
            _call(
                "upload the rich menu image",
                blob.set_rich_menu_image,
                new_id,
                image.data,
                _headers={"Content-Type": image.content_type},
            )
            _call("set the rich menu as default", api.set_default_rich_menu, new_id)
        except RichMenuError as e:
            raise RichMenuError(f"{e}; {_undo_create(api, new_id)}") from e
        logger.info("rich menu %s set as default", new_id)
        result = InstallResult(new_id)
        for old_id in old:
            try:
                _call(f"delete the old rich menu {old_id}", api.delete_rich_menu, old_id)
            except RichMenuError as e:
                raise RichMenuError(
                    f"{e} (the new menu {new_id} is the default; run again to delete the old one)"
                ) from e
            logger.info("old rich menu %s deleted", old_id)
            result.deleted.append(old_id)
        return result


def _undo_create(api, new_id: str) -> str:
    """Delete the menu just made, so no menu without an image lingers; say what became of it."""
    try:
        _call(f"delete the new rich menu {new_id}", api.delete_rich_menu, new_id)
    except RichMenuError as e:
        return f"{e}: delete it by hand; the default menu is unchanged"
    logger.info("rich menu %s deleted again", new_id)
    return "the new menu was deleted again; the default menu is unchanged"


def _call(step: str, method, *args, **kwargs):
    """One API call; a refusal or a silence becomes one line naming the step and LINE's words."""
    try:
        return method(*args, _request_timeout=REQUEST_TIMEOUT_S, **kwargs)
    except ApiException as e:
        raise RichMenuError(f"LINE API could not {step}: {e.status} {_line_message(e)}") from e
    except urllib3.exceptions.HTTPError as e:
        if not _timed_out(e):
            raise RichMenuError(f"LINE API could not {step}: {_root_reason(e)}") from e
        raise RichMenuError(f"LINE API could not {step}: no answer within {REQUEST_TIMEOUT_S:g} s") from e


def _line_message(e: ApiException) -> str:
    """LINE's own error message and details (``ErrorResponse``), else the HTTP reason."""
    body = e.body.decode("utf-8", "replace") if isinstance(e.body, bytes) else (e.body or "")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or not payload.get("message"):
        return str(e.reason or body.strip() or "no error message").replace("\n", " ")
    details = [
        ": ".join(str(d[k]) for k in ("property", "message") if d.get(k))
        for d in payload.get("details") or []
        if isinstance(d, dict)
    ]
    message = str(payload["message"])
    return f"{message} ({'; '.join(details)})" if any(details) else message


def _timed_out(e: urllib3.exceptions.HTTPError) -> bool:
    """A read timeout comes bare on POST; on GET, after urllib3's retries, as a MaxRetryError.
    A refused connection is not one, though urllib3 makes ``NewConnectionError`` a subclass of
    ``ConnectTimeoutError``."""
    cause = getattr(e, "reason", None) or e
    return isinstance(cause, urllib3.exceptions.TimeoutError) and not isinstance(
        cause, urllib3.exceptions.NewConnectionError
    )


def _root_reason(e: urllib3.exceptions.HTTPError) -> str:
    reason = getattr(e, "reason", None) or e
    return str(reason).replace("\n", " ")
