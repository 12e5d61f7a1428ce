"""Font discovery and loading for the offline card renderer (Noto CJK + Noto Color Emoji).

Fonts are looked up at run time rather than bundled: the Noto CJK collections are ~20 MB each, every Debian/Ubuntu
machine can install them with one apt command, and fontconfig already knows where they live.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import ImageFont

FontWeight = Literal["regular", "bold"]

INSTALL_HINT = "apt-get install fonts-noto-cjk fonts-noto-color-emoji"

# In the Noto CJK .ttc collections the faces are ordered JP, KR, SC, TC, HK; SC has the mainland glyph shapes.
CJK_SC_INDEX = 2
# NotoColorEmoji is a CBDT bitmap font: FreeType only accepts the strike size it was built with.
EMOJI_NATIVE_SIZE = 109

_KNOWN_PATHS: dict[str, tuple[str, ...]] = {
    "regular": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    ),
    "bold": (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
    ),
    "emoji": (
        "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
        "/usr/share/fonts/noto/NotoColorEmoji.ttf",
        "/usr/share/fonts/google-noto-emoji/NotoColorEmoji.ttf",
    ),
}

# fontconfig patterns; the file name is still checked because fc-match always answers with *some* font.
_FC_PATTERNS: dict[str, tuple[str, str]] = {
    "regular": ("Noto Sans CJK SC:style=Regular", "NotoSansCJK-Regular"),
    "bold": ("Noto Sans CJK SC:style=Bold", "NotoSansCJK-Bold"),
    "emoji": ("Noto Color Emoji", "NotoColorEmoji"),
}


class FontsMissing(RuntimeError):
    """The fonts the offline card renderer needs are not installed on this machine."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            f"Offline card rendering needs fonts that were not found ({', '.join(missing)}). "
            f"Install them with: {INSTALL_HINT}"
        )
        self.missing = missing


@dataclass(frozen=True)
class FontPaths:
    """Where the three font files live; found once per process."""

    regular: Path
    bold: Path
    emoji: Path


def _fc_match(pattern: str, must_contain: str) -> Path | None:
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(out) if out else None
    if path is not None and must_contain in path.name and path.is_file():
        return path
    return None


def _find(role: str) -> Path | None:
    for candidate in _KNOWN_PATHS[role]:
        if Path(candidate).is_file():
            return Path(candidate)
    pattern, must_contain = _FC_PATTERNS[role]
    return _fc_match(pattern, must_contain)


@lru_cache(maxsize=1)
def font_paths() -> FontPaths:
    """Locate the CJK regular/bold collections and the colour emoji font, or raise FontsMissing."""
    found = {role: _find(role) for role in ("regular", "bold", "emoji")}
    missing = [role for role, path in found.items() if path is None]
    if missing:
        raise FontsMissing(missing)
    return FontPaths(regular=found["regular"], bold=found["bold"], emoji=found["emoji"])  # type: ignore[arg-type]


def _layout_engine() -> ImageFont.Layout:
    # Raqm (HarfBuzz) is what turns ZWJ sequences, flags and keycaps into one emoji glyph; fall back if absent.
    from PIL import features

    return ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


@lru_cache(maxsize=128)
def cjk_font(size: int, weight: FontWeight = "regular") -> ImageFont.FreeTypeFont:
    """The Simplified Chinese face of Noto Sans CJK at `size` px (cached: the renderer asks for few sizes)."""
    paths = font_paths()
    path = paths.bold if weight == "bold" else paths.regular
    return ImageFont.truetype(str(path), max(1, int(size)), index=CJK_SC_INDEX, layout_engine=_layout_engine())


@lru_cache(maxsize=1)
def emoji_font() -> ImageFont.FreeTypeFont:
    """Noto Color Emoji at its only bitmap strike; callers scale the drawn tile to the text size."""
    return ImageFont.truetype(str(font_paths().emoji), EMOJI_NATIVE_SIZE, layout_engine=_layout_engine())


@lru_cache(maxsize=2)
def _cjk_notdef_mask(weight: FontWeight) -> tuple[tuple[int, int], bytes]:
    # U+10FFFD is a private-use code point no Noto font maps; its mask is what .notdef (tofu) looks like.
    mask = cjk_font(48, weight).getmask("\U0010fffd")
    return mask.size, bytes(mask)


@lru_cache(maxsize=4096)
def cjk_has_glyph(text: str, weight: FontWeight = "regular") -> bool:
    """True when every character of `text` draws as a real glyph (not tofu) in the CJK font."""
    font = cjk_font(48, weight)
    notdef = _cjk_notdef_mask(weight)
    for ch in text:
        if ch.isspace():
            continue
        mask = font.getmask(ch)
        if (mask.size, bytes(mask)) == notdef:
            return False
    return True


@lru_cache(maxsize=4096)
def emoji_has_glyph(grapheme: str) -> bool:
    """True when the emoji font draws `grapheme` (its .notdef is empty, so an ink-free bbox means missing)."""
    left, top, right, bottom = emoji_font().getbbox(grapheme)
    return bottom > top and right > left
