"""Lay out a card's body blocks (paragraphs, labels, bullets) at one shared font size that fits the box."""

from __future__ import annotations

from dataclasses import dataclass

from inkstream.generators.cards.card_content import Block
from inkstream.generators.cards.card_decor import rgba
from inkstream.generators.cards.card_painter import Painter
from inkstream.generators.cards.card_themes import Theme
from inkstream.generators.cards.fonts import FontWeight
from inkstream.generators.cards.text_graphemes import is_emoji, split_graphemes
from inkstream.generators.cards.textlayout import TextBlock, ellipsize_block, emoji_box, fit_block, layout_block

BODY_LINE_SPACING = 1.6


@dataclass(frozen=True)
class Placed:
    """A block at its size: `top` is relative to the body box, `indent` is the bullet marker column."""

    block: Block
    text: TextBlock | None
    top: float
    indent: float


@dataclass(frozen=True)
class BodyLayout:
    items: list[Placed]
    size: int
    height: float


def _indent(block: Block, size: int) -> float:
    if block.kind != "bullet":
        return 0.0
    if block.marker.isdigit():
        return size * 1.75
    graphemes = split_graphemes(block.marker)
    if len(graphemes) == 1 and is_emoji(block.marker):
        return emoji_box(size)[0] + size * 0.5
    return size * 1.2


def _gap_before(prev: Block | None, block: Block, size: int) -> float:
    if prev is None:
        return 0.0
    if block.kind == "gap" or prev.kind == "gap":
        return size * 0.35
    if block.kind == "label":
        return size * 0.8
    return size * 0.45


def _place(blocks: list[Block], size: int, width: float) -> BodyLayout:
    items: list[Placed] = []
    y = 0.0
    prev: Block | None = None
    for block in blocks:
        y += _gap_before(prev, block, size)
        if block.kind == "gap":
            items.append(Placed(block, None, y, 0.0))
        else:
            indent = _indent(block, size)
            weight: FontWeight = "bold" if block.kind == "label" else "regular"
            text = layout_block(block.text, size, width - indent, weight, BODY_LINE_SPACING)
            items.append(Placed(block, text, y, indent))
            y += text.height
        prev = block
    return BodyLayout(items, size, y)


def layout_body(blocks: list[Block], width: float, height: float, max_size: int, min_size: int) -> BodyLayout:
    """The largest shared size at which all blocks fit; at min_size, later blocks are dropped and cut with …."""
    size = max_size
    while True:
        layout = _place(blocks, size, width)
        if layout.height <= height or size <= min_size:
            break
        size = max(min_size, int(size * 0.94))
    if layout.height <= height:
        return layout
    kept: list[Placed] = []
    for item in layout.items:
        if item.text is None:
            kept.append(item)
            continue
        room = height - item.top
        if item.top + item.text.height <= height:
            kept.append(item)
            continue
        if room >= item.text.line_height:
            cut = fit_block(item.block.text, width - item.indent, room, size, size, item.text.weight, BODY_LINE_SPACING)
            kept.append(Placed(item.block, cut, item.top, item.indent))
        elif kept and (last := kept[-1]).text is not None:
            kept[-1] = Placed(last.block, ellipsize_block(last.text, width - last.indent), last.top, last.indent)
        break
    bottom = max((i.top + (i.text.height if i.text else 0.0) for i in kept), default=0.0)
    return BodyLayout(kept, size, bottom)


def paint_body(painter: Painter, layout: BodyLayout, theme: Theme, x: float, y: float, extra_gap: float = 0.0) -> None:
    """Queue the body at (x, y); `extra_gap` widens every gap between blocks to use spare height."""
    size = layout.size
    for index, item in enumerate(layout.items):
        if item.text is None:
            continue
        top = y + item.top + index * extra_gap
        first_line_mid = top + item.text.line_height / 2
        block = item.block
        if block.kind == "bullet":
            if block.marker.isdigit():
                d = size * 1.22
                circle = (x, first_line_mid - d / 2, x + d, first_line_mid + d / 2)
                painter.shapes.ellipse(circle, fill=rgba(theme.accent))
                painter.centred_label(block.marker, circle, max(8, int(size * 0.66)), rgba(theme.on_accent))
            elif item.indent > size * 1.3:  # an emoji marker
                marker = layout_block(block.marker, size, 10_000, "regular", BODY_LINE_SPACING)
                painter.text(marker, x, top, rgba(theme.text))
            else:
                r = size * 0.17
                cx = x + size * 0.35
                painter.shapes.ellipse(
                    (cx - r * 2, first_line_mid - r * 2, cx + r * 2, first_line_mid + r * 2), fill=rgba(theme.soft)
                )
                painter.shapes.ellipse(
                    (cx - r, first_line_mid - r, cx + r, first_line_mid + r), fill=rgba(theme.accent)
                )
        color = theme.accent if block.kind == "label" else theme.text
        painter.text(item.text, x + item.indent, top, rgba(color))
