"""The offline template outline builder and the shared outline text format."""

from __future__ import annotations

import pytest

from inkstream.generators.base import OutlinePage
from inkstream.generators.outline_builder import OfflineOutlineBuilder, page_count_for
from inkstream.generators.outline_format import format_outline, parse_outline, strip_type_tag

TOPICS = [
    "秋天的第一杯奶茶怎么选",
    "新手露营装备清单 ⛺",
    "Weekend camping checklist",
    "考研英语怎么复习",
    "猫咪第一次打疫苗",
]

# RedInk's example answer, shortened: what a remote model returns.
REDINK_SAMPLE = """[封面]
标题：5分钟学会手冲咖啡☕
副标题：新手也能做出咖啡店的味道
背景：温馨的家庭咖啡角
<page>
[内容]
在家冲的咖啡总是又苦又涩？

必备工具：
• 手冲壶（细嘴壶）
• 滤杯和滤纸
<page>
[总结]
完成！享受你的手冲咖啡✨
✅ 水温 92-96℃
评论区聊聊你踩过的坑👇"""


@pytest.mark.asyncio
async def test_outline_is_deterministic_per_topic() -> None:
    builder = OfflineOutlineBuilder()
    first = await builder.generate_outline("新手露营装备清单 ⛺", [])
    second = await OfflineOutlineBuilder().generate_outline("新手露营装备清单 ⛺", [b"ignored"])
    assert first == second


@pytest.mark.asyncio
@pytest.mark.parametrize("topic", TOPICS)
async def test_outline_has_cover_content_and_summary(topic: str) -> None:
    outline = await OfflineOutlineBuilder().generate_outline(topic, [])
    assert 6 <= len(outline.pages) <= 9
    assert len(outline.pages) == page_count_for(topic.strip())
    assert [p.type for p in outline.pages] == ["cover"] + ["content"] * (len(outline.pages) - 2) + ["summary"]
    assert [p.index for p in outline.pages] == list(range(len(outline.pages)))
    cover = outline.pages[0].content
    assert cover.startswith("[封面]\n标题：") and "\n副标题：" in cover
    assert topic.strip() in cover.split("\n")[1]


def test_page_count_varies_with_topic() -> None:
    counts = {page_count_for(f"话题{i}") for i in range(40)}
    assert counts == {6, 7, 8, 9}


@pytest.mark.asyncio
async def test_raw_uses_the_model_format_and_parses_to_the_pages() -> None:
    outline = await OfflineOutlineBuilder().generate_outline("秋天的第一杯奶茶怎么选", [])
    chunks = outline.raw.split("\n<page>\n")
    assert len(chunks) == len(outline.pages)
    assert all(chunk.split("\n")[0] in ("[封面]", "[内容]", "[总结]") for chunk in chunks)
    assert parse_outline(outline.raw) == outline.pages
    assert "|" not in outline.raw  # the RedInk prompt forbids it; keep the offline text equally safe


def test_builder_is_not_pretending_to_be_a_model() -> None:
    builder = OfflineOutlineBuilder()
    assert builder.name == "offline-template"
    assert "NOT an AI model" in (OfflineOutlineBuilder.__doc__ or "")


def test_parse_outline_reads_a_model_answer() -> None:
    pages = parse_outline(REDINK_SAMPLE)
    assert [p.type for p in pages] == ["cover", "content", "summary"]
    assert strip_type_tag(pages[1].content).startswith("在家冲的咖啡总是又苦又涩？")
    assert pages[0].content.startswith("[封面]")


def test_parse_outline_round_trips() -> None:
    pages = parse_outline(REDINK_SAMPLE)
    assert format_outline(pages) == REDINK_SAMPLE
    assert parse_outline(format_outline(pages)) == pages


def test_parse_outline_tolerates_fences_crlf_and_missing_tags() -> None:
    raw = "```\r\n标题：露营\r\n<PAGE>\r\n第一页内容\r\n<page>\r\n\r\n<page>\r\n[总结]\r\n好\r\n```"
    pages = parse_outline(raw)
    assert [p.type for p in pages] == ["cover", "content", "summary"]
    assert pages[1] == OutlinePage(index=1, type="content", content="第一页内容")
    assert parse_outline(format_outline(pages)) == [
        OutlinePage(0, "cover", "[封面]\n标题：露营"),
        OutlinePage(1, "content", "[内容]\n第一页内容"),
        OutlinePage(2, "summary", "[总结]\n好"),
    ]


def test_parse_outline_of_empty_text_is_empty() -> None:
    assert parse_outline("  \n<page>\n ") == []
