"""Grapheme splitting, font choice, kinsoku line breaking and auto-sizing for card text."""

from __future__ import annotations

import pytest

from inkstream.generators.cards import fonts
from inkstream.generators.cards.text_graphemes import is_emoji, split_graphemes
from inkstream.generators.cards.textlayout import (
    ELLIPSIS,
    NO_LINE_END,
    NO_LINE_START,
    fit_block,
    font_runs,
    text_width,
    wrap,
)

PUNCTUATED = (
    "在家冲的咖啡总是又苦又涩？其实，90%的人第一步就选错了工具！（真的）「先别急」，『慢慢来』。"
    "【重点】：水温、粉水比；时间……《手冲指南》说：别怕失败！！新手露营装备清单⛺，帐篷、睡袋、防潮垫。"
)


@pytest.mark.parametrize(
    "grapheme",
    [
        "👩\u200d👩\u200d👧",
        "👍🏽",
        "🇨🇳",
        "1️⃣",
        "❤️",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "é",
    ],
)
def test_emoji_sequences_stay_one_grapheme(grapheme: str) -> None:
    assert split_graphemes(f"a{grapheme}中") == ["a", grapheme, "中"]


def test_split_graphemes_round_trips() -> None:
    text = "露营⛺ camping 👨\u200d👩\u200d👧\u200d👦🇯🇵\r\nok"
    assert "".join(split_graphemes(text)) == text


@pytest.mark.parametrize("grapheme", ["⛺", "✨", "👍🏽", "1️⃣", "🇨🇳", "☕", "❌"])
def test_emoji_go_to_the_emoji_font(grapheme: str) -> None:
    assert is_emoji(grapheme)


@pytest.mark.parametrize("grapheme", ["中", "a", "，", "1", "%", "℃", "©"])
def test_text_stays_in_the_cjk_font(grapheme: str) -> None:
    assert not is_emoji(grapheme)


def test_font_runs_split_text_and_emoji() -> None:
    assert font_runs("装备清单⛺✨ok") == [("装备清单", False), ("⛺", True), ("✨", True), ("ok", False)]


def test_glyph_check_detects_tofu() -> None:
    # The check the renderer tests rely on must itself tell a real glyph from .notdef.
    assert fonts.cjk_has_glyph("秋天的第一杯奶茶怎么选")
    assert not fonts.cjk_has_glyph("✨")
    assert fonts.emoji_has_glyph("⛺") and not fonts.emoji_has_glyph("中")


@pytest.mark.parametrize("weight", ["regular", "bold"])
def test_chinese_strings_have_real_glyphs(weight: fonts.FontWeight) -> None:
    for text in (PUNCTUATED, "新手露营装备清单", "秋天的第一杯奶茶怎么选", "建议收藏 · 干货分享 划重点 1 / 8 #"):
        graphemes = [g for g in split_graphemes(text) if not is_emoji(g) and not g.isspace()]
        missing = [g for g in graphemes if not fonts.cjk_has_glyph(g, weight)]
        assert missing == []


@pytest.mark.parametrize("max_width", [150, 200, 260, 333, 410, 517, 640])
def test_kinsoku_rules_hold_at_every_width(max_width: int) -> None:
    lines = wrap(PUNCTUATED, 32, max_width)
    assert len(lines) > 1
    for line in lines:
        assert line.text[0] not in NO_LINE_START, line.text
        assert line.text[-1] not in NO_LINE_END, line.text
        assert line.width <= max_width


def test_wrapping_keeps_all_text() -> None:
    lines = wrap(PUNCTUATED, 32, 300)
    assert "".join(line.text for line in lines) == PUNCTUATED


def test_latin_words_are_not_split() -> None:
    text = "Weekend camping checklist for absolute beginners with a tiny budget"
    lines = wrap(text, 40, 420)
    assert len(lines) > 1
    assert " ".join(line.text for line in lines) == text
    for line in lines:
        assert line.width <= 420


def test_a_word_wider_than_the_box_is_split_rather_than_overflowing() -> None:
    lines = wrap("https://example.com/" + "x" * 80, 30, 300)
    assert len(lines) > 1
    assert all(line.width <= 300 for line in lines)


def test_short_last_line_is_avoided() -> None:
    # Without widow control the last line would hold "坑？" alone.
    text = "你在新手露营装备清单上踩过什么坑？"
    size = 40
    width = text_width(text[:-2], size) + 2
    lines = wrap(text, size, width)
    assert len(lines) == 2
    assert len(lines[-1].text) > 2


def test_long_text_shrinks_to_fit() -> None:
    block = fit_block(PUNCTUATED * 3, 600, 500, 60, 20)
    assert block.size < 60
    assert block.height <= 500
    assert all(line.width <= 600 for line in block.lines)
    assert not block.lines[-1].text.endswith(ELLIPSIS)  # it fit by shrinking, nothing was cut


def test_text_too_long_even_at_min_size_is_cut_with_an_ellipsis() -> None:
    block = fit_block(PUNCTUATED * 40, 500, 300, 40, 24)
    assert block.size == 24
    assert block.height <= 300
    assert block.lines[-1].text.endswith(ELLIPSIS)
    assert all(line.width <= 500 for line in block.lines)


def test_short_title_keeps_max_size() -> None:
    block = fit_block("露营⛺", 900, 400, 120, 40, "bold")
    assert block.size == 120 and len(block.lines) == 1


def test_fonts_missing_names_the_apt_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_find", lambda role: None)
    fonts.font_paths.cache_clear()
    try:
        with pytest.raises(fonts.FontsMissing) as info:
            fonts.font_paths()
    finally:
        fonts.font_paths.cache_clear()
    assert "apt-get install fonts-noto-cjk fonts-noto-color-emoji" in str(info.value)
