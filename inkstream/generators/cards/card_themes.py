"""Card themes: a palette plus a decoration style, picked from a post's style seed.

Every page of one post is drawn from the same seed, so a post keeps one look while different posts vary.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

RGB = tuple[int, int, int]
Decor = Literal["blobs", "panel", "notebook", "glow"]


def _hex(value: str) -> RGB:
    value = value.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


@dataclass(frozen=True)
class Theme:
    """Colours and decoration for one look. `surface` is the panel colour text sits on when decor is "panel"."""

    name: str
    decor: Decor
    background: RGB
    surface: RGB
    text: RGB
    muted: RGB
    accent: RGB
    soft: RGB  # a pale tint of the accent: highlights, bullet halos, blobs
    second: RGB  # a companion colour for shapes
    on_accent: RGB  # text drawn on an accent fill


def _theme(name: str, decor: Decor, palette: str) -> Theme:
    # Palette order: background surface text muted accent soft second on_accent.
    return Theme(name, decor, *(_hex(c) for c in palette.split()))


THEMES: tuple[Theme, ...] = (
    _theme("cream-terracotta", "blobs", "FBF5EC FFFDF8 3B2A26 8A7670 D9674A F6D7C6 F2C879 FFFFFF"),
    _theme("mint-card", "panel", "DDEFE6 FFFFFF 1E3833 6B827C 2A9D82 CDEBDF A9D6E5 FFFFFF"),
    _theme("blush-notebook", "notebook", "FFF3F4 FFFFFF 4A2A35 93717C E2587F FFD3DF FFE3A3 FFFFFF"),
    _theme("midnight-gold", "glow", "1D2133 272C44 F6F1E7 AEB3C8 F4C25B 3A4166 6C7BD9 1D2133"),
    _theme("sky-card", "panel", "DCE8FB FFFFFF 1C2946 6A7796 3E6FD8 D3E1FB FFD48A FFFFFF"),
    _theme("lemon-notebook", "notebook", "FFF8E1 FFFFFF 3A3122 8C7F66 E8890C FFE7A8 B7DFA8 FFFFFF"),
)


def pick_theme(style_seed: str) -> Theme:
    """The theme for a post: a stable hash of its seed (Python's hash() is salted per process, so not that)."""
    digest = hashlib.sha256(style_seed.encode("utf-8")).digest()
    return THEMES[int.from_bytes(digest[:4], "big") % len(THEMES)]


def theme_by_name(name: str) -> Theme:
    """Look a theme up by name (for tests and for forcing a look)."""
    for theme in THEMES:
        if theme.name == name:
            return theme
    raise KeyError(name)
