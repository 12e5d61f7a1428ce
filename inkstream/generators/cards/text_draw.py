"""Draw laid-out text lines onto a card: CJK runs with Noto Sans CJK, emoji as scaled colour-bitmap tiles.

Noto Color Emoji only exists as 109 px bitmaps, so each emoji is rendered once at that size on a transparent tile
(`embedded_color=True`), scaled to the text size and pasted; every drawn run's box is returned for inspection.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from inkstream.generators.cards.fonts import FontWeight, cjk_font, emoji_font
from inkstream.generators.cards.textlayout import EMOJI_GAP_EM, TextBlock, emoji_box, font_runs

# Noto CJK's ideographs sit between -0.12 em and 0.88 em around the baseline: their optical centre is 0.38 em up.
IDEOGRAPH_CENTRE_EM = 0.38


@dataclass(frozen=True)
class DrawnText:
    """A run of text (or one emoji) that was drawn, with its ink bounding box on the canvas."""

    text: str
    box: tuple[int, int, int, int]


@lru_cache(maxsize=512)
def _emoji_tile(grapheme: str, width: int, height: int) -> Image.Image:
    font = emoji_font()
    left, top, right, bottom = font.getbbox(grapheme)
    tile = Image.new("RGBA", (max(1, int(right)), max(1, int(bottom))), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((0, 0), grapheme, font=font, embedded_color=True)
    return tile.resize((width, height), Image.Resampling.LANCZOS)


def draw_line(
    canvas: Image.Image,
    text: str,
    x: float,
    line_top: float,
    size: int,
    line_height: float,
    fill: tuple[int, ...],
    weight: FontWeight = "regular",
) -> list[DrawnText]:
    """Draw one line whose box starts at (x, line_top); the text is centred optically in the line box."""
    draw = ImageDraw.Draw(canvas)
    baseline = line_top + line_height / 2 + size * IDEOGRAPH_CENTRE_EM
    drawn: list[DrawnText] = []
    for run, emoji in font_runs(text):
        if emoji:
            w, h = emoji_box(size)
            top = round(baseline - size * IDEOGRAPH_CENTRE_EM - h / 2)
            left = round(x + size * EMOJI_GAP_EM / 2)
            tile = _emoji_tile(run, w, h)
            canvas.paste(tile, (left, top), tile)
            drawn.append(DrawnText(run, (left, top, left + w, top + h)))
            x += w + size * EMOJI_GAP_EM
            continue
        font = cjk_font(size, weight)
        if run.strip():
            draw.text((x, baseline), run, font=font, fill=fill, anchor="ls")
            box = draw.textbbox((x, baseline), run, font=font, anchor="ls")
            drawn.append(DrawnText(run, (int(box[0]), int(box[1]), int(box[2]), int(box[3]))))
        x += font.getlength(run)
    return drawn


def draw_block(
    canvas: Image.Image,
    block: TextBlock,
    x: float,
    y: float,
    fill: tuple[int, ...],
    align: str = "left",
    width: float | None = None,
) -> list[DrawnText]:
    """Draw a laid-out block with its top-left at (x, y); `align` is left/center/right within `width`."""
    drawn: list[DrawnText] = []
    box_width = block.width if width is None else width
    for i, line in enumerate(block.lines):
        offset = {"center": (box_width - line.width) / 2, "right": box_width - line.width}.get(align, 0.0)
        top = y + i * block.line_height
        drawn += draw_line(canvas, line.text, x + offset, top, block.size, block.line_height, fill, block.weight)
    return drawn
