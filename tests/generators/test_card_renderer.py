"""The offline card renderer: PNG output, layout inside the canvas, real glyphs, themes, page parsing."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from inkstream.generators.base import GeneratorError, OutlinePage, PageRequest
from inkstream.generators.cards import card_renderer, fonts
from inkstream.generators.cards.card_content import parse_card
from inkstream.generators.cards.card_renderer import CardRenderer, RenderResult
from inkstream.generators.cards.card_themes import THEMES, pick_theme
from inkstream.generators.cards.text_graphemes import is_emoji, split_graphemes
from inkstream.generators.offline import build_outline_text

TOPICS = ["秋天的第一杯奶茶怎么选", "新手露营装备清单 ⛺", "Weekend camping checklist"]


def seed_for(theme_name: str) -> str:
    """A style seed that selects `theme_name`, so every theme gets exercised."""
    return next(f"seed-{i}" for i in range(10_000) if pick_theme(f"seed-{i}").name == theme_name)


def requests_for(topic: str, seed: str) -> list[PageRequest]:
    raw = build_outline_text(topic)
    from inkstream.generators.outline_format import parse_outline

    pages = parse_outline(raw)
    return [PageRequest(page=p, total_pages=len(pages), topic=topic, full_outline=raw, style_seed=seed) for p in pages]


def assert_layout_sound(result: RenderResult) -> None:
    width, height = result.image.size
    assert result.drawn, "nothing was drawn"
    for item in result.drawn:
        left, top, right, bottom = item.box
        assert 0 <= left < right <= width and 0 <= top < bottom <= height, (item.text, item.box)
        graphemes = [g for g in split_graphemes(item.text) if not g.isspace()]
        if len(graphemes) == 1 and is_emoji(graphemes[0]):
            assert fonts.emoji_has_glyph(graphemes[0])
        else:
            # Drawn text runs never contain emoji, and none of their characters falls back to .notdef (tofu).
            assert not any(is_emoji(g) for g in graphemes), item.text
            assert all(fonts.cjk_has_glyph(g, "bold") for g in graphemes), item.text


@pytest.mark.asyncio
async def test_generate_image_returns_a_portrait_png() -> None:
    request = requests_for(TOPICS[0], "task-1")[0]
    png = await CardRenderer().generate_image(request)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1080, 1440) and image.mode == "RGB"


@pytest.mark.asyncio
async def test_size_is_configurable_and_accepts_a_yaml_list() -> None:
    png = await CardRenderer(size=[540, 720]).generate_image(requests_for(TOPICS[1], "x")[1])
    assert Image.open(io.BytesIO(png)).size == (540, 720)
    with pytest.raises(ValueError):
        CardRenderer(size=(100, 100))


def test_there_are_at_least_four_themes() -> None:
    assert len({t.name for t in THEMES}) >= 4
    assert len({t.decor for t in THEMES}) >= 4


@pytest.mark.parametrize("theme", [t.name for t in THEMES])
@pytest.mark.parametrize("topic", TOPICS)
def test_every_page_of_every_theme_stays_inside_the_canvas(theme: str, topic: str) -> None:
    # Half size keeps the matrix quick; layout scales with the canvas, and the long-page test covers 1080x1440.
    renderer = CardRenderer(size=(540, 720))
    for request in requests_for(topic, seed_for(theme)):
        result = renderer.render(request)
        assert result.theme.name == theme
        assert_layout_sound(result)


def test_all_pages_of_a_post_share_the_seeds_theme() -> None:
    renderer = CardRenderer(size=(540, 720))
    themes = {renderer.render(r).theme.name for r in requests_for(TOPICS[0], "one-task-seed")}
    assert themes == {pick_theme("one-task-seed").name}


def test_rendering_is_deterministic() -> None:
    request = requests_for(TOPICS[1], "stable")[2]
    assert CardRenderer().render_png(request) == CardRenderer().render_png(request)


def test_cover_shows_title_and_subtitle_without_format_markers() -> None:
    request = requests_for(TOPICS[1], "s")[0]
    drawn = "".join(item.text for item in CardRenderer().render(request).drawn)
    assert "新手露营装备清单" in drawn and "⛺" in drawn
    for marker in ("[封面]", "标题：", "副标题：", "背景："):
        assert marker not in drawn


def test_page_number_is_drawn() -> None:
    requests = requests_for(TOPICS[0], "s")
    texts = [item.text for item in CardRenderer().render(requests[2]).drawn]
    assert f"3 / {len(requests)}" in texts


def test_english_topic_renders() -> None:
    request = requests_for("Weekend camping checklist", "en")[0]
    result = CardRenderer().render(request)
    assert "Weekend" in "".join(item.text for item in result.drawn)
    assert_layout_sound(result)


@pytest.mark.parametrize("theme", [t.name for t in THEMES])
def test_very_long_page_shrinks_and_still_fits(theme: str) -> None:
    body = "\n".join(
        f"- 第{i}条：露营时一定要注意防潮、防晒和防蚊虫，提前查好天气，带够饮用水和保暖衣物🏕️" for i in range(40)
    )
    long_title = "一个非常非常长的标题" * 8
    page = OutlinePage(index=3, type="content", content=f"[内容]\n{long_title}\n\n{body}")
    request = PageRequest(page=page, total_pages=7, topic="露营" * 30, style_seed=seed_for(theme))
    result = CardRenderer().render(request)
    assert_layout_sound(result)
    area_bottom = result.text_area[3]
    body_boxes = [item.box for item in result.drawn if "露营时" in item.text]
    assert body_boxes and max(box[3] for box in body_boxes) <= area_bottom + 2


def test_empty_page_still_renders() -> None:
    page = OutlinePage(index=0, type="cover", content="")
    result = CardRenderer().render(PageRequest(page=page, total_pages=1))
    assert result.image.size == (1080, 1440)


def test_parse_card_understands_the_outline_format() -> None:
    card = parse_card("[封面]\n标题：新手露营⛺\n副标题：看完就会\n背景：草地上的帐篷")
    assert (card.type, card.title, card.subtitle, card.blocks) == ("cover", "新手露营⛺", "看完就会", [])
    content = parse_card(
        "[内容]\n## 必备清单\n\n装备：\n- 帐篷\n• 睡袋\n2. 防潮垫\n✅ 头灯\n普通一句话\n配图建议：俯拍"
    )
    assert content.title == "必备清单"
    assert [(b.kind, b.text, b.marker) for b in content.blocks] == [
        ("label", "装备：", ""),
        ("bullet", "帐篷", "•"),
        ("bullet", "睡袋", "•"),
        ("bullet", "防潮垫", "2"),
        ("bullet", "头灯", "✅"),
        ("text", "普通一句话", ""),
    ]


@pytest.mark.asyncio
async def test_missing_fonts_become_a_non_retryable_generator_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fonts(self: CardRenderer, request: PageRequest) -> bytes:
        raise fonts.FontsMissing(["regular"])

    monkeypatch.setattr(card_renderer.CardRenderer, "render_png", no_fonts)
    with ThreadPoolExecutor(1) as in_this_process, pytest.raises(GeneratorError) as info:  # so the patch applies
        await CardRenderer(executor=in_this_process).generate_image(requests_for(TOPICS[0], "s")[0])
    assert info.value.retryable is False
    assert "fonts-noto-cjk" in info.value.message


def test_render_workers_run_below_the_services_cpu_priority() -> None:
    """The event loop keeps first pick of the CPU: the pool's workers are `RENDER_NICENESS` nicer than we are."""
    import os

    ours = os.nice(0)
    theirs = card_renderer._pool().submit(os.nice, 0).result(timeout=60)
    assert theirs == min(19, ours + card_renderer.RENDER_NICENESS)
