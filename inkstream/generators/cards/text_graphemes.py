"""Split text into user-perceived characters (graphemes) and decide which of them are emoji.

Why a hand-written splitter: the standard library has no grapheme segmentation, and the PyPI options either pull in
a large regex engine (`regex`) or lag behind Unicode (`grapheme`). Cards only need the emoji-relevant parts of
UAX #29 extended grapheme clusters: a base character keeps its combining marks, variation selectors, skin-tone
modifiers, tag characters (subdivision flags) and keycap mark; a ZWJ glues the next pictograph on; regional
indicators pair up into flags; CR LF stays one break. Hangul jamo and Indic conjuncts are out of scope for a
Chinese-first product — they fall back to one code point per grapheme, which still renders, just breaks worse.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ZWJ = "\u200d"
VS15_TEXT = "\ufe0e"
VS16_EMOJI = "\ufe0f"
KEYCAP = "\u20e3"


def _is_regional_indicator(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _is_extend(ch: str) -> bool:
    cp = ord(ch)
    return (
        0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # tag characters (England/Scotland/Wales flags)
        or cp == 0x20E3  # combining enclosing keycap
        or unicodedata.category(ch) in ("Mn", "Me", "Mc")
    )


def split_graphemes(text: str) -> list[str]:
    """Split `text` into graphemes; joining the result always gives back `text`."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        start = i
        ch = text[i]
        i += 1
        if ch == "\r" and i < n and text[i] == "\n":
            out.append("\r\n")
            i += 1
            continue
        if ch in "\n\r":
            out.append(ch)
            continue
        if _is_regional_indicator(ch) and i < n and _is_regional_indicator(text[i]):
            i += 1
        while i < n:
            nxt = text[i]
            if _is_extend(nxt):
                i += 1
            elif nxt == ZWJ:
                i += 1
                # A ZWJ joins the following pictograph (👩‍💻); a trailing ZWJ simply stays attached.
                if i < n and text[i] not in "\n\r" and not text[i].isspace():
                    i += 1
            else:
                break
        out.append(text[start:i])
    return out


# BMP code points whose *default* presentation is emoji (Unicode Emoji_Presentation=Yes), so "⛺" without FE0F
# is still a tent picture. Inclusive ranges, written the way Unicode's emoji-data.txt writes them.
_BMP_EMOJI_PRESENTATION: tuple[tuple[int, int], ...] = tuple(
    (int(lo, 16), int(hi or lo, 16))
    for lo, _, hi in (
        r.partition("-")
        for r in (
            "231A-231B 23E9-23EC 23F0 23F3 25FD-25FE 2614-2615 2648-2653 267F 2693 26A1 26AA-26AB 26BD-26BE "
            "26C4-26C5 26CE 26D4 26EA 26F2-26F3 26F5 26FA 26FD 2705 270A-270B 2728 274C 274E 2753-2755 2757 "
            "2795-2797 27B0 27BF 2B1B-2B1C 2B50 2B55"
        ).split()
    )
)


def _default_emoji_presentation(cp: int) -> bool:
    if 0x1F000 <= cp <= 0x1FAFF:
        return True
    return any(lo <= cp <= hi for lo, hi in _BMP_EMOJI_PRESENTATION)


@lru_cache(maxsize=8192)
def is_emoji(grapheme: str) -> bool:
    """Whether `grapheme` should be drawn with the colour emoji font rather than the CJK text font."""
    # Imported here so the splitter stays usable (and testable) without any font installed.
    from inkstream.generators.cards.fonts import cjk_has_glyph, emoji_has_glyph

    if not grapheme or grapheme.isspace():
        return False
    if VS15_TEXT in grapheme:
        return False
    first = grapheme[0]
    wants_emoji = (
        VS16_EMOJI in grapheme
        or KEYCAP in grapheme
        or (ZWJ in grapheme and len(grapheme) > 1)
        or any(0x1F3FB <= ord(c) <= 0x1F3FF for c in grapheme)
        or _default_emoji_presentation(ord(first))
    )
    if wants_emoji:
        return emoji_has_glyph(grapheme)
    # Text-default symbols (©, ↑, ★) stay in the text font when it has them; only tofu sends them to emoji.
    return not cjk_has_glyph(first) and emoji_has_glyph(grapheme)


def is_wide(grapheme: str) -> bool:
    """East Asian wide/fullwidth text (ideographs, kana, fullwidth punctuation): a line may break on either side."""
    return unicodedata.east_asian_width(grapheme[0]) in ("W", "F")
