"""A two-pass painter for one card: shapes first (supersampled together), then text on top, boxes recorded.

Layout code decides positions of shapes and text in one go; deferring the drawing lets every crisp shape share a
single supersampled layer and guarantees text is never covered by a shape queued later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from inkstream.generators.cards.card_decor import ShapeLayer
from inkstream.generators.cards.text_draw import DrawnText, draw_block
from inkstream.generators.cards.textlayout import TextBlock, layout_block


@dataclass
class Painter:
    """Queues shapes and text for `canvas`; `finish()` draws them and returns what text went where."""

    canvas: Image.Image
    shapes: ShapeLayer = field(init=False)
    _texts: list[Callable[[], list[DrawnText]]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.shapes = ShapeLayer(self.canvas.size)

    def text(
        self,
        block: TextBlock,
        x: float,
        y: float,
        fill: tuple[int, ...],
        align: str = "left",
        width: float | None = None,
    ) -> None:
        self._texts.append(lambda: draw_block(self.canvas, block, x, y, fill, align, width))

    def centred_label(
        self, text: str, box: tuple[float, float, float, float], size: int, fill: tuple[int, ...], weight: str = "bold"
    ) -> None:
        """One short line (a number, a page count) centred in `box`, e.g. inside a pill or a circle."""
        block = layout_block(text, size, 10_000, "bold" if weight == "bold" else "regular", 1.0)
        top = (box[1] + box[3]) / 2 - block.line_height / 2
        self.text(block, box[0], top, fill, "center", box[2] - box[0])

    def finish(self) -> list[DrawnText]:
        self.shapes.composite_onto(self.canvas)
        drawn: list[DrawnText] = []
        for op in self._texts:
            drawn += op()
        self._texts.clear()
        return drawn
