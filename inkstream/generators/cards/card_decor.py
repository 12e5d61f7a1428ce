"""Backgrounds and soft decorative shapes for cards, drawn anti-aliased.

Pillow draws shapes without anti-aliasing, so crisp shapes are collected on a `ShapeLayer` drawn at twice the
size and scaled down (cheap supersampling); soft blobs are blurred instead, which hides jagged edges anyway.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter

from inkstream.generators.cards.card_themes import RGB, Theme

Box = tuple[float, float, float, float]
_SS = 2  # supersampling factor for crisp shapes


def rgba(color: RGB, alpha: int = 255) -> tuple[int, int, int, int]:
    return (color[0], color[1], color[2], alpha)


@dataclass
class ShapeLayer:
    """Crisp shapes queued in canvas coordinates, rendered supersampled in one pass."""

    size: tuple[int, int]
    ops: list[Callable[[ImageDraw.ImageDraw], None]] = field(default_factory=list)

    def _s(self, box: Box) -> list[float]:
        return [v * _SS for v in box]

    def rounded_rect(
        self,
        box: Box,
        radius: float,
        fill: tuple[int, ...] | None = None,
        outline: tuple[int, ...] | None = None,
        width: float = 0,
    ) -> None:
        scaled, r, w = self._s(box), radius * _SS, round(width * _SS)
        self.ops.append(lambda d: d.rounded_rectangle(scaled, r, fill=fill, outline=outline, width=w))

    def ellipse(
        self, box: Box, fill: tuple[int, ...] | None = None, outline: tuple[int, ...] | None = None, width: float = 0
    ) -> None:
        scaled, w = self._s(box), round(width * _SS)
        self.ops.append(lambda d: d.ellipse(scaled, fill=fill, outline=outline, width=w))

    def polygon(self, points: list[tuple[float, float]], fill: tuple[int, ...]) -> None:
        scaled = [(x * _SS, y * _SS) for x, y in points]
        self.ops.append(lambda d: d.polygon(scaled, fill=fill))

    def composite_onto(self, canvas: Image.Image) -> None:
        if not self.ops:
            return
        layer = Image.new("RGBA", (self.size[0] * _SS, self.size[1] * _SS), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        for op in self.ops:
            op(draw)
        canvas.alpha_composite(layer.reduce(_SS))  # a box filter is exactly right for 2x supersampling
        self.ops.clear()


def _soft_layer(canvas: Image.Image, blur: float, paint: Callable[[ImageDraw.ImageDraw], None]) -> None:
    # Blurring shapes on a transparent layer drags its (0,0,0,0) pixels into their edges as a grey halo; painting
    # on a copy of the still-flat background and blurring that copy keeps the edges clean.
    layer = canvas.convert("RGB")  # an RGB target makes ImageDraw blend translucent fills instead of replacing
    paint(ImageDraw.Draw(layer, "RGBA"))
    canvas.paste(layer.filter(ImageFilter.GaussianBlur(blur)).convert("RGBA"))


def _shadow(canvas: Image.Image, blur: float, box: Box, radius: float, alpha: int) -> None:
    # Shadows are black, so a transparent-black layer blurs without a halo (unlike coloured shapes).
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    ImageDraw.Draw(layer).rounded_rectangle(box, radius, fill=(0, 0, 0, alpha))
    canvas.alpha_composite(layer.filter(ImageFilter.GaussianBlur(blur)))


def _sparkle(shapes: ShapeLayer, cx: float, cy: float, r: float, color: tuple[int, ...]) -> None:
    # A four-pointed star: the "✦" Xiaohongshu designers sprinkle around titles.
    pts = []
    for i in range(8):
        angle = math.pi / 4 * i - math.pi / 2
        radius = r if i % 2 == 0 else r * 0.28
        pts.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    shapes.polygon(pts, color)


def paint_decor(canvas: Image.Image, theme: Theme, page_index: int, seed: str) -> Box:
    """Paint background and decoration; return the box text may use (before the page's own margins)."""
    w, h = canvas.size
    u = w / 1080
    rng = random.Random(f"{seed}:{page_index}")  # same post + page -> same picture, pages still differ a little
    canvas.paste(rgba(theme.background), (0, 0, w, h))
    shapes = ShapeLayer(canvas.size)
    flip = page_index % 2 == 1  # alternate the heavy corner so swiping through a post feels alive
    content: Box = (0, 0, w, h)

    if theme.decor == "blobs":

        def blobs(d: ImageDraw.ImageDraw) -> None:
            r1 = (300 + rng.randint(0, 60)) * u
            cx = (w - 60 * u) if not flip else 60 * u
            d.ellipse((cx - r1, -r1 * 0.55, cx + r1, r1 * 1.45), fill=rgba(theme.soft, 230))
            r2 = (220 + rng.randint(0, 60)) * u
            cx2 = 40 * u if not flip else w - 40 * u
            d.ellipse((cx2 - r2, h - r2 * 0.9, cx2 + r2, h + r2 * 1.1), fill=rgba(theme.second, 120))
            r3 = 70 * u
            cx3, cy3 = w * (0.82 if not flip else 0.18), h * 0.78
            d.ellipse((cx3 - r3, cy3 - r3, cx3 + r3, cy3 + r3), fill=rgba(theme.soft, 160))

        _soft_layer(canvas, 6 * u, blobs)
        # Sparkles stay in the top strip above the text area, on the side away from the big blob.
        for k in range(3):
            x = (0.38 + 0.1 * k + rng.uniform(-0.03, 0.03)) * w
            _sparkle(
                shapes,
                w - x if flip else x,
                rng.uniform(0.03, 0.055) * h,
                rng.uniform(10, 17) * u,
                rgba(theme.accent, 150),
            )
    elif theme.decor == "panel":
        step = 40 * u
        for row in range(int(h / step) + 1):
            for col in range(int(w / step) + 1):
                x, y = col * step + step / 2, row * step + step / 2
                shapes.ellipse((x - 2.2 * u, y - 2.2 * u, x + 2.2 * u, y + 2.2 * u), fill=rgba(theme.accent, 45))
        shapes.composite_onto(canvas)
        margin = 52 * u
        panel = (margin, margin * 1.6, w - margin, h - margin * 1.6)
        _shadow(canvas, 18 * u, (panel[0], panel[1] + 14 * u, panel[2], panel[3] + 14 * u), 44 * u, 34)
        shapes.rounded_rect(panel, 44 * u, fill=rgba(theme.surface))
        # A clip ring at the panel top, like a card pinned to a board.
        cx = w / 2
        shapes.rounded_rect(
            (cx - 90 * u, panel[1] - 22 * u, cx + 90 * u, panel[1] + 22 * u), 22 * u, fill=rgba(theme.second, 235)
        )
        content = (panel[0] + 8 * u, panel[1] + 20 * u, panel[2] - 8 * u, panel[3])
    elif theme.decor == "notebook":
        gap = 64 * u
        y = 150 * u
        while y < h - 40 * u:
            shapes.rounded_rect((0, y, w, y + 2 * u), 1 * u, fill=rgba(theme.soft, 130))
            y += gap
        shapes.rounded_rect((92 * u, 0, 95 * u, h), 1 * u, fill=rgba(theme.accent, 70))
        # Two strips of washi tape at the top corners, slightly rotated.
        for cx, angle in ((w * 0.2, -8.0), (w * 0.8, 7.0)):
            tw, th = 190 * u, 52 * u
            a = math.radians(angle + rng.uniform(-2, 2))
            corners = [(-tw / 2, -th / 2), (tw / 2, -th / 2), (tw / 2, th / 2), (-tw / 2, th / 2)]
            pts = [
                (cx + x * math.cos(a) - y * math.sin(a), 62 * u + x * math.sin(a) + y * math.cos(a)) for x, y in corners
            ]
            shapes.polygon(pts, rgba(theme.second if cx < w / 2 else theme.soft, 210))
        content = (40 * u, 0, w, h)
    else:  # glow

        def glows(d: ImageDraw.ImageDraw) -> None:
            r = 420 * u
            cx = w * (0.9 if not flip else 0.1)
            d.ellipse((cx - r, -r * 0.7, cx + r, r * 1.3), fill=rgba(theme.second, 110))
            r = 360 * u
            cx = w * (0.08 if not flip else 0.92)
            d.ellipse((cx - r, h - r * 0.8, cx + r, h + r * 1.2), fill=rgba(theme.accent, 38))

        _soft_layer(canvas, 110 * u, glows)
        # The ring stays in the top-right corner, clear of the page number and heading on the left.
        ring = 130 * u
        cx, cy = w * 0.9, 40 * u
        shapes.ellipse((cx - ring, cy - ring, cx + ring, cy + ring), outline=rgba(theme.accent, 90), width=3 * u)
        for _ in range(14):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(1.5, 3.5) * u
            shapes.ellipse((x - r, y - r, x + r, y + r), fill=rgba(theme.text, rng.randint(60, 160)))
        _sparkle(shapes, cx - ring * 0.7, cy + ring * 0.75, 16 * u, rgba(theme.accent, 220))
    shapes.composite_onto(canvas)
    return content
