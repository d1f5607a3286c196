"""Draw the rich menu's image: five calm tiles, each with a simple icon and its Japanese label.

A developer's tool, run once when the menu changes; its output, ``handlers/line/data/richmenu.png``,
is committed so that running the bot needs neither Pillow nor a font.

Requirements (not the bot's): Pillow and the IPAexGothic font, which the PyPI package
``matplotlib-fontja`` ships (IPA Font License v1.0, which allows images drawn with the font to be
used and distributed freely). Install the package without its matplotlib dependency, which this
tool does not need::

    .venv/bin/pip install pillow && .venv/bin/pip install --no-deps matplotlib-fontja
    .venv/bin/python -m tools.richmenu_image            # writes handlers/line/data/richmenu.png
    .venv/bin/python -m tools.richmenu_image --font /path/to/font.ttf --out /tmp/menu.png

The tiles are laid out from ``handlers.line.richmenu.TILES``, the same bounds the menu's tap
areas use, so the picture and the taps cannot drift apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import math
import pathlib
import sys

from PIL import Image, ImageDraw, ImageFont

from handlers.line.richmenu import IMAGE_PATH, MAX_IMAGE_BYTES, MENU_HEIGHT, MENU_WIDTH, TILES, Tile

logger = logging.getLogger(__name__)

SCALE = 2  # drawn at twice the size and scaled down: Pillow's shapes have no anti-aliasing
BACKGROUND = (251, 247, 240)  # warm off-white between the tiles
INK = (74, 66, 56)  # warm dark grey for labels: softer than black, still high contrast
GAP = 14  # space between tiles (at final size), inside each tap area
RADIUS = 36
LABEL_PX = 92
ICON_PX = 300
FONT_PACKAGE = "matplotlib_fontja"
FONT_FILE = pathlib.Path("fonts") / "ipaexg.ttf"

# Tile colour (pastel) and icon colour (a deeper shade of it), per tile key.
COLOURS = {
    "events": ((250, 218, 200), (222, 128, 96)),  # peach
    "bases": ((207, 234, 214), (86, 160, 112)),  # mint
    "faq": ((210, 228, 244), (88, 140, 196)),  # sky
    "settings": ((226, 219, 241), (134, 112, 182)),  # lavender
    "help": ((249, 234, 186), (206, 160, 48)),  # butter
}


def find_font() -> pathlib.Path:
    """IPAexGothic from the installed ``matplotlib-fontja``, found without importing it (its
    ``__init__`` imports matplotlib)."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("no font: install it with `pip install --no-deps matplotlib-fontja`, or pass --font")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / FONT_FILE


def draw_menu(font_path: pathlib.Path) -> Image.Image:
    big = Image.new("RGB", (MENU_WIDTH * SCALE, MENU_HEIGHT * SCALE), BACKGROUND)
    draw = ImageDraw.Draw(big)
    font = ImageFont.truetype(str(font_path), LABEL_PX * SCALE)
    for tile in TILES:
        _draw_tile(draw, tile, font)
    return big.resize((MENU_WIDTH, MENU_HEIGHT), Image.Resampling.LANCZOS)


def _draw_tile(draw: ImageDraw.ImageDraw, tile: Tile, font: ImageFont.FreeTypeFont) -> None:
    s = SCALE
    fill, accent = COLOURS[tile.key]
    box = ((tile.x + GAP) * s, (tile.y + GAP) * s, (tile.x + tile.width - GAP) * s, (tile.y + tile.height - GAP) * s)
    draw.rounded_rectangle(box, radius=RADIUS * s, fill=fill)
    cx = (box[0] + box[2]) // 2
    icon_cy = box[1] + (box[3] - box[1]) * 38 // 100
    ICONS[tile.key](draw, cx, icon_cy, ICON_PX * s // 2, accent, font)
    label_cy = box[1] + (box[3] - box[1]) * 78 // 100
    draw.text((cx, label_cy), tile.text, font=font, fill=INK, anchor="mm")


# --- icons: each drawn in a square of half-size r around (cx, cy) ----------------------------


def _calendar(draw, cx, cy, r, colour, _font):
    w, h = r * 1.7, r * 1.55
    left, top = cx - w / 2, cy - h / 2 + r * 0.08
    draw.rounded_rectangle(
        (left, top, left + w, top + h), radius=r * 0.16, fill="white", outline=colour, width=int(r * 0.09)
    )
    draw.rounded_rectangle((left, top, left + w, top + h * 0.28), radius=r * 0.16, fill=colour)
    draw.rectangle((left, top + h * 0.16, left + w, top + h * 0.28), fill=colour)
    for dx in (-0.45, 0.45):  # the rings
        x = cx + dx * r
        draw.rounded_rectangle((x - r * 0.07, top - r * 0.2, x + r * 0.07, top + r * 0.14), radius=r * 0.07, fill=INK)
    cell = w / 5.2
    for row in range(3):
        for col in range(4):
            x = left + cell * (0.7 + col * 1.1)
            y = top + h * 0.38 + row * cell * 0.95
            highlighted = (row, col) == (1, 2)
            draw.rounded_rectangle(
                (x, y, x + cell * 0.7, y + cell * 0.6),
                radius=cell * 0.12,
                fill=colour if highlighted else (238, 226, 218),
            )


def _pin(draw, cx, cy, r, colour, _font):
    head_r = r * 0.62
    head_cy = cy - r * 0.22
    tip = (cx, cy + r * 0.95)
    # The tail: a triangle from the head's sides down to the tip.
    angle = math.radians(35)
    left = (cx - head_r * math.cos(angle), head_cy + head_r * math.sin(angle))
    right = (cx + head_r * math.cos(angle), head_cy + head_r * math.sin(angle))
    draw.polygon([left, right, tip], fill=colour)
    draw.ellipse((cx - head_r, head_cy - head_r, cx + head_r, head_cy + head_r), fill=colour)
    # A little house inside the head: the base (拠点) the pin points to.
    hw = head_r * 0.5
    draw.polygon(
        [(cx - hw * 1.15, head_cy - hw * 0.05), (cx, head_cy - hw * 1.0), (cx + hw * 1.15, head_cy - hw * 0.05)],
        fill="white",
    )
    draw.rectangle((cx - hw * 0.8, head_cy - hw * 0.1, cx + hw * 0.8, head_cy + hw * 0.75), fill="white")
    draw.rectangle((cx - hw * 0.22, head_cy + hw * 0.2, cx + hw * 0.22, head_cy + hw * 0.75), fill=colour)
    draw.ellipse((cx - r * 0.45, cy + r * 0.88, cx + r * 0.45, cy + r * 1.02), outline=colour, width=int(r * 0.05))


def _speech(draw, cx, cy, r, colour, font):
    w, h = r * 1.8, r * 1.3
    left, top = cx - w / 2, cy - h / 2 - r * 0.1
    draw.polygon(
        [(cx - r * 0.45, top + h - 2), (cx - r * 0.05, top + h - 2), (cx - r * 0.55, top + h + r * 0.4)], fill=colour
    )
    draw.rounded_rectangle((left, top, left + w, top + h), radius=r * 0.35, fill=colour)
    q_font = font.font_variant(size=int(r * 0.78))
    draw.text((cx, top + h / 2), "Q&A", font=q_font, fill="white", anchor="mm")


def _gear(draw, cx, cy, r, colour, _font):
    teeth = 8
    outer, inner = r * 0.92, r * 0.7
    half_tooth = math.pi / teeth * 0.45
    for i in range(teeth):
        a = 2 * math.pi * i / teeth
        points = [
            (cx + inner * math.cos(a - half_tooth * 1.3), cy + inner * math.sin(a - half_tooth * 1.3)),
            (cx + outer * math.cos(a - half_tooth), cy + outer * math.sin(a - half_tooth)),
            (cx + outer * math.cos(a + half_tooth), cy + outer * math.sin(a + half_tooth)),
            (cx + inner * math.cos(a + half_tooth * 1.3), cy + inner * math.sin(a + half_tooth * 1.3)),
        ]
        draw.polygon(points, fill=colour)
    draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=colour)
    hole = r * 0.3
    draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=COLOURS["settings"][0])


def _help(draw, cx, cy, r, colour, font):
    ring = r * 0.85
    draw.ellipse((cx - ring, cy - ring, cx + ring, cy + ring), fill=colour)
    q_font = font.font_variant(size=int(r * 1.2))
    draw.text((cx, cy + r * 0.04), "?", font=q_font, fill="white", anchor="mm")


ICONS = {"events": _calendar, "bases": _pin, "faq": _speech, "settings": _gear, "help": _help}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", type=pathlib.Path, help="a TrueType/OpenType font with Japanese glyphs")
    parser.add_argument("--out", type=pathlib.Path, default=IMAGE_PATH)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    font = args.font or find_font()
    image = draw_menu(font)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image.save(args.out, "PNG", optimize=True)
    size = args.out.stat().st_size
    logger.info("wrote %s (%d×%d, %s bytes, font %s)", args.out, *image.size, f"{size:,}", font.name)
    if size > MAX_IMAGE_BYTES:
        logger.error("%s is over LINE's 1 MB limit", args.out)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
