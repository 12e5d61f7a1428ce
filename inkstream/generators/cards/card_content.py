"""Turn one outline page's text into what a card shows: a title, a subtitle and typed body blocks.

The page text is written for AI image models too, so it carries lines a card must not print verbatim: the
`[封面]` tag, `标题：`/`副标题：` prefixes, and art-direction lines such as `背景：` or `配图建议：`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from inkstream.generators.base import PageType
from inkstream.generators.cards.text_graphemes import is_emoji, split_graphemes
from inkstream.generators.outline_format import page_type_of, strip_type_tag

BlockKind = Literal["text", "bullet", "label", "gap"]

# Directions for an image model, not text for the reader.
_ART_DIRECTION = re.compile(r"^(背景|配图建议|配图|画面|图片建议|视觉|image|background)\s*[：:]", re.IGNORECASE)
_TITLE = re.compile(r"^(主?标题|title)\s*[：:]\s*", re.IGNORECASE)
_SUBTITLE = re.compile(r"^(副标题|subtitle)\s*[：:]\s*", re.IGNORECASE)
_BULLET = re.compile(r"^([-•·*●○▪◆◇▶►✓✔]|\u2022)\s*")
_NUMBERED = re.compile(r"^(\d{1,2})\s*[.、)）．]\s*|^([①-⑳])\s*")
_MARKDOWN = re.compile(r"^#{1,6}\s*|\*\*|__")


@dataclass(frozen=True)
class Block:
    """One piece of body text. `marker` is the bullet glyph, number or leading emoji of a bullet."""

    kind: BlockKind
    text: str = ""
    marker: str = ""


@dataclass(frozen=True)
class CardContent:
    """The printable parts of a page."""

    type: PageType
    title: str
    subtitle: str = ""
    blocks: list[Block] = field(default_factory=list)


def _clean(line: str) -> str:
    return _MARKDOWN.sub("", line).strip()


def _block_for(line: str) -> Block:
    numbered = _NUMBERED.match(line)
    if numbered:
        marker = numbered.group(1) or str("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳".index(numbered.group(2)) + 1)
        return Block("bullet", line[numbered.end() :].strip(), marker)
    bullet = _BULLET.match(line)
    if bullet and line[bullet.end() :].strip():
        return Block("bullet", line[bullet.end() :].strip(), "•")
    graphemes = split_graphemes(line)
    # "✅ 水温 92-96℃": an emoji leading a line acts as its bullet, as Xiaohongshu posts use them.
    if len(graphemes) > 2 and is_emoji(graphemes[0]) and not line.rstrip().endswith(("：", ":")):
        return Block("bullet", "".join(graphemes[1:]).strip(), graphemes[0])
    if line.endswith(("：", ":")) and len(line) <= 18:
        return Block("label", line)
    return Block("text", line)


def parse_card(content: str, fallback_type: PageType = "content") -> CardContent:
    """Parse a page's text; an empty heading falls back to the first body line."""
    page_type = page_type_of(content) or fallback_type
    lines = [_clean(line) for line in strip_type_tag(content).split("\n")]
    title = subtitle = ""
    body: list[str] = []
    for line in lines:
        if _ART_DIRECTION.match(line):
            continue
        if not title and _TITLE.match(line):
            title = _TITLE.sub("", line)
        elif not subtitle and _SUBTITLE.match(line):
            subtitle = _SUBTITLE.sub("", line)
        else:
            body.append(line)
    while body and not body[0]:
        body.pop(0)
    if not title and body:
        title = body.pop(0)
    if page_type == "cover" and not subtitle and body and body[0]:
        subtitle = body.pop(0)
    blocks: list[Block] = []
    for line in body:
        if not line:
            if blocks and blocks[-1].kind != "gap":
                blocks.append(Block("gap"))
            continue
        blocks.append(_block_for(line))
    while blocks and blocks[0].kind == "gap":
        blocks.pop(0)
    while blocks and blocks[-1].kind == "gap":
        blocks.pop()
    return CardContent(page_type, title, subtitle, blocks)
