"""Measure, line-break and auto-size mixed Chinese / Latin / emoji text for Pillow cards (drawing: text_draw).

Pillow's own `multiline_text` knows neither CJK line breaking nor font fallback, so cards use this instead:
every grapheme is drawn with the font that has it (colour emoji vs Noto CJK SC), lines break between ideographs
but not inside Latin words, and the kinsoku rules keep closing punctuation off the start of a line and opening
brackets off its end.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from inkstream.generators.cards.fonts import FontWeight, cjk_font
from inkstream.generators.cards.text_graphemes import is_emoji, is_wide, split_graphemes

# Kinsoku shori: characters that may not begin a line, and ones that may not end one.
# Full-width and ASCII forms both, since model output mixes them.
NO_LINE_START = frozenset(
    "，。！？、；：）」』】》…,.!?;:)]}%’”〉〕〗〙〛～ー々・·—ぁぃぅぇぉっゃゅょァィゥェォッャュョ"
)
NO_LINE_END = frozenset("（「『【《(〈〔〖〘〚[{‘“")
ELLIPSIS = "…"

# Emoji are drawn a touch taller than the em so they read at the same weight as ideographs beside them.
EMOJI_HEIGHT_EM = 1.02
EMOJI_GAP_EM = 0.06


@dataclass(frozen=True)
class Line:
    """One laid-out line: its text (already stripped of break spaces) and measured width in px."""

    text: str
    width: float


@dataclass(frozen=True)
class TextBlock:
    """Lines of one font size and weight; `height` is lines x line_height, the space the block needs."""

    lines: list[Line]
    size: int
    weight: FontWeight
    line_height: float
    source: str = ""  # the text the lines were wrapped from

    @property
    def width(self) -> float:
        return max((line.width for line in self.lines), default=0.0)

    @property
    def height(self) -> float:
        return len(self.lines) * self.line_height


def font_runs(text: str) -> list[tuple[str, bool]]:
    """Group graphemes into (text, is_emoji) runs so each run is drawn with a single font."""
    runs: list[tuple[str, bool]] = []
    for g in split_graphemes(text):
        emoji = is_emoji(g)
        if runs and runs[-1][1] == emoji and not emoji:
            runs[-1] = (runs[-1][0] + g, emoji)
        else:
            runs.append((g, emoji))
    return runs


def emoji_box(size: int) -> tuple[int, int]:
    """Pixel size of an emoji tile drawn beside text of `size` px (Noto's bitmaps are 136 x 128)."""
    h = max(1, round(size * EMOJI_HEIGHT_EM))
    return max(1, round(h * 136 / 128)), h


@lru_cache(maxsize=16384)
def text_width(text: str, size: int, weight: FontWeight = "regular") -> float:
    """Advance width of `text` in px, honouring per-grapheme font choice."""
    total = 0.0
    for run, emoji in font_runs(text):
        if emoji:
            total += emoji_box(size)[0] + size * EMOJI_GAP_EM
        else:
            total += cjk_font(size, weight).getlength(run)
    return total


def _units(paragraph: str) -> list[str]:
    """Cut a paragraph into unbreakable units: one wide grapheme or emoji, a Latin word, or a space."""
    units: list[str] = []
    word = ""
    for g in split_graphemes(paragraph):
        if g.isspace():
            if word:
                units.append(word)
                word = ""
            units.append(" ")
        elif is_wide(g) or is_emoji(g):
            if word:
                units.append(word)
                word = ""
            units.append(g)
        else:
            word += g
    if word:
        units.append(word)
    # Kinsoku: glue opening brackets to what follows, then closing punctuation to what precedes.
    glued: list[str] = []
    carry = ""
    for unit in units:
        if unit == " ":
            if carry:
                glued.append(carry)
                carry = ""
            glued.append(unit)
            continue
        unit, carry = carry + unit, ""
        if unit[-1] in NO_LINE_END:
            carry = unit
        else:
            glued.append(unit)
    if carry:
        glued.append(carry)
    merged: list[str] = []
    for unit in glued:
        if unit != " " and unit[0] in NO_LINE_START and merged:
            if merged[-1] == " " and len(merged) > 1:
                merged.pop()
                unit = " " + unit
            if merged[-1] != " ":
                merged[-1] += unit
                continue
        merged.append(unit)
    return merged


def _split_long(unit: str, size: int, weight: FontWeight, max_width: float) -> list[str]:
    # Only reached when one word is wider than the whole box (a URL, a very long English word): split it anyway.
    parts: list[str] = []
    current = ""
    for g in split_graphemes(unit):
        if current and text_width(current + g, size, weight) > max_width:
            parts.append(current)
            current = g
        else:
            current += g
    if current:
        parts.append(current)
    return parts


def _wrap_paragraph(paragraph: str, size: int, max_width: float, weight: FontWeight) -> list[list[str]]:
    def width(units: list[str]) -> float:
        return text_width("".join(units).rstrip(), size, weight)

    lines: list[list[str]] = []
    current: list[str] = []
    for unit in _units(paragraph):
        if unit == " " and not current:
            continue  # a break space never starts a line
        if width([*current, unit]) <= max_width:
            current.append(unit)
            continue
        if "".join(current).strip():
            lines.append(current)
        current = [] if unit == " " else [unit]
        if current and width(current) > max_width:
            *full, rest = _split_long(unit, size, weight, max_width)
            lines.extend([part] for part in full)
            current = [rest]
    lines.append(current)
    # Widow control: a last line of one or two characters ("坑？", a lone emoji) looks like a mistake on a card,
    # so pull one unit down from the line above when that line can spare it.
    if len(lines) >= 2:
        prev, last = lines[-2], lines[-1]
        while len(split_graphemes("".join(last).strip())) < 3 and sum(u != " " for u in prev) >= 4:
            while prev[-1] == " ":
                prev.pop()
            if width([prev[-1], *last]) > max_width:
                break
            last.insert(0, prev.pop())
    return lines


def wrap(text: str, size: int, max_width: float, weight: FontWeight = "regular") -> list[Line]:
    """Break `text` into lines no wider than `max_width` (explicit newlines start new lines)."""
    lines: list[Line] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        for units in _wrap_paragraph(paragraph, size, max_width, weight):
            line = "".join(units).strip()
            lines.append(Line(line, text_width(line, size, weight)))
    return lines


_BREAK_AFTER = frozenset("，。！？、；：,.!?;:｜|）」』】》 ")


def _break_score(lines: list[Line]) -> float:
    # Good title breaks fall after punctuation or an emoji; lines of similar length read calmer.
    natural = sum(
        1
        for line in lines[:-1]
        if line.text and (line.text[-1] in _BREAK_AFTER or is_emoji(split_graphemes(line.text)[-1]))
    )
    widths = [line.width for line in lines]
    return natural - 1.2 * (1 - min(widths) / max(widths))


def balanced(block: TextBlock, max_width: float) -> TextBlock:
    """Re-wrap a multi-line block, keeping its line count, to even out lines and break at punctuation."""
    count = len(block.lines)
    source = block.source
    if count <= 1 or "\n" in source:
        return block  # explicit line breaks are the author's choice; leave them alone
    best, best_score = block.lines, _break_score(block.lines)
    lo = block.width * (count - 1) / count
    for step in range(16):
        lines = wrap(source, block.size, lo + (max_width - lo) * step / 15, block.weight)
        if len(lines) == count and (score := _break_score(lines)) > best_score + 1e-6:
            best, best_score = lines, score
    return TextBlock(best, block.size, block.weight, block.line_height, source)


def layout_block(
    text: str, size: int, max_width: float, weight: FontWeight = "regular", line_spacing: float = 1.5
) -> TextBlock:
    """Wrap `text` at one fixed size."""
    return TextBlock(wrap(text, size, max_width, weight), size, weight, size * line_spacing, text)


def _ellipsize(line: Line, size: int, max_width: float, weight: FontWeight) -> Line:
    graphemes = split_graphemes(line.text.rstrip(ELLIPSIS))
    while graphemes and text_width("".join(graphemes) + ELLIPSIS, size, weight) > max_width:
        graphemes.pop()
    text = "".join(graphemes).rstrip().rstrip("，。、；：,.;:") + ELLIPSIS  # "衣物，…" reads as a typo
    return Line(text, text_width(text, size, weight))


def ellipsize_block(block: TextBlock, max_width: float) -> TextBlock:
    """The same block with its last line ending in "…" (shortened if needed) to show that text was cut."""
    if not block.lines:
        return block
    lines = [*block.lines[:-1], _ellipsize(block.lines[-1], block.size, max_width, block.weight)]
    return TextBlock(lines, block.size, block.weight, block.line_height, block.source)


def fit_block(
    text: str,
    max_width: float,
    max_height: float,
    max_size: int,
    min_size: int,
    weight: FontWeight = "regular",
    line_spacing: float = 1.5,
    max_lines: int | None = None,
    balance: bool = False,
) -> TextBlock:
    """The largest size in [min_size, max_size] at which `text` fits the box; at min_size, cut with an ellipsis.

    Whatever the input, the block is never wider than `max_width`, and never taller than `max_height` unless even
    one line at `min_size` is. `balance` evens out line lengths (for titles, where a one-word last line is ugly).
    """
    size = max_size
    while True:
        block = layout_block(text, size, max_width, weight, line_spacing)
        fits = block.height <= max_height and (max_lines is None or len(block.lines) <= max_lines)
        if fits or size <= min_size:
            break
        size = max(min_size, int(size * 0.93))
    if fits:
        return balanced(block, max_width) if balance else block
    keep = max(1, int(max_height // block.line_height))
    if max_lines is not None:
        keep = min(keep, max_lines)
    cut = TextBlock(block.lines[:keep], size, weight, block.line_height, text)
    return ellipsize_block(cut, max_width)
