"""The offline writer (topic-aware template outline and copy) and the shared outline text format."""

from __future__ import annotations

import pytest

from inkstream.generators.base import OutlinePage
from inkstream.generators.copy_format import copy_to_dict, validate_copy
from inkstream.generators.offline import OfflineWriter, build_copy, build_outline_text
from inkstream.generators.offline.keywords import read_topic
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


class Collect:
    """A TextSink that keeps what it was sent."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self.restarts = 0

    async def write(self, text: str) -> None:
        self.chunks.append(text)

    async def restart(self) -> None:
        self.restarts += 1
        self.chunks.clear()


# One topic per category; none of them was used while writing the categories (the health one was added with
# its category, after ten untuned topics showed that 「手脚冰凉」 or 「睡不好」 fell into food or general).
BY_CATEGORY = {
    "food": "减脂期也能吃的火锅蘸料",
    "travel": "带爸妈去云南自驾要注意什么",
    "beauty": "敏感肌换季泛红怎么办",
    "fashion": "小个子冬天大衣怎么选",
    "fitness": "下班后在家跳绳减脂",
    "home": "出租屋卫生间收纳改造",
    "study": "雅思口语备考三个月计划",
    "career": "工作三年要不要跳槽",
    "money": "刚工作怎么开始记账",
    "tech": "学生党买平板还是笔记本",
    "parenting": "两岁宝宝哄睡困难怎么办",
    "pets": "柯基掉毛严重怎么护理",
    "health": "长期熬夜后怎么调整作息",
}


async def test_outline_is_deterministic_per_topic() -> None:
    first = await OfflineWriter().generate_outline("新手露营装备清单 ⛺", [])
    second = await OfflineWriter().generate_outline("新手露营装备清单 ⛺", [b"ignored"])
    assert first == second


@pytest.mark.parametrize("topic", TOPICS + list(BY_CATEGORY.values()))
async def test_outline_has_cover_content_and_summary(topic: str) -> None:
    outline = await OfflineWriter().generate_outline(topic, [])
    assert 6 <= len(outline.pages) <= 8
    assert [p.type for p in outline.pages] == ["cover"] + ["content"] * (len(outline.pages) - 2) + ["summary"]
    assert [p.index for p in outline.pages] == list(range(len(outline.pages)))
    cover = outline.pages[0].content.split("\n")
    assert cover[0] == "[封面]" and cover[1].startswith("标题：") and cover[2].startswith("副标题：")
    assert len(cover[1].removeprefix("标题：")) <= 20


@pytest.mark.parametrize(("category", "topic"), BY_CATEGORY.items())
def test_the_category_comes_from_the_topics_words(category: str, topic: str) -> None:
    assert read_topic(topic).category.key == category


def test_a_topic_no_category_claims_gets_the_general_one() -> None:
    assert read_topic("如何面对三十岁").category.key == "general"


@pytest.mark.parametrize("topic", BY_CATEGORY.values())
def test_pages_use_the_topics_own_keyword(topic: str) -> None:
    reading = read_topic(topic)
    keyword = reading.keywords[0]
    assert keyword in topic
    pages = parse_outline(build_outline_text(topic))
    content = [p.content for p in pages if p.type == "content"]
    assert sum(keyword in c for c in content) >= len(content) // 2


def test_posts_of_different_categories_share_no_content_line() -> None:
    outlines = {c: parse_outline(build_outline_text(t)) for c, t in BY_CATEGORY.items()}
    lines = {
        c: {line for p in pages if p.type == "content" for line in p.content.splitlines()[2:] if line}
        for c, pages in outlines.items()
    }
    for a in lines:
        for b in lines:
            if a < b:
                assert not lines[a] & lines[b], (a, b, lines[a] & lines[b])


def test_two_topics_of_one_category_differ_beyond_the_title() -> None:
    first, second = build_outline_text("拿铁和美式怎么选"), build_outline_text("在家做蛋糕失败的原因")
    assert read_topic("拿铁和美式怎么选").category is read_topic("在家做蛋糕失败的原因").category
    body = lambda raw: {line for line in raw.splitlines()[4:]}  # noqa: E731
    assert len(body(first) ^ body(second)) >= 10


@pytest.mark.parametrize("topic", TOPICS + list(BY_CATEGORY.values()) + ["a", "   ", "{k} 花括号 {t}"])
def test_offline_copy_obeys_the_copy_rules(topic: str) -> None:
    copy = build_copy(topic)
    checked = validate_copy(copy_to_dict(copy), require_emoji=True)
    assert checked == copy


async def test_text_goes_out_in_chunks_that_add_up() -> None:
    sink = Collect()
    outline = await OfflineWriter().generate_outline("周末去海边露营", [], sink)
    assert len(sink.chunks) > 5 and "".join(sink.chunks) == outline.raw
    copy_sink = Collect()
    copy = await OfflineWriter().generate_copy("周末去海边露营", outline.raw, copy_sink)
    text = "".join(copy_sink.chunks)
    assert copy.body in text and all(t in text for t in copy.titles)


async def test_copy_without_topic_uses_the_cover_title() -> None:
    raw = build_outline_text("猫咪挑食怎么办")
    copy = await OfflineWriter().generate_copy("", raw)
    assert read_topic(copy.titles[0]).category.key == "pets"


def test_writer_is_labelled_as_a_template() -> None:
    assert OfflineWriter.name == "offline-template" and OfflineWriter.label == "模板生成"
    assert "NOT an AI model" in (OfflineWriter.__doc__ or "")


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
