"""The offline writer: a topic-aware outline and post copy from templates, with no AI and no network.

It reads the topic with jieba, picks one of thirteen categories (food and drink, travel, beauty and skincare,
fashion, fitness, home, study and exams, career, money, tech and gadgets, parenting, pets, health; a general
one otherwise) and fills that category's sections with the topic's own keywords. Deterministic, and labelled as a
template ("模板生成") wherever it is shown. Its text goes out in chunks through the same sink the streaming
providers use, so the delta path of the pipeline always runs.
"""

from __future__ import annotations

import asyncio

from inkstream.generators.base import Outline, PostCopy, TextSink
from inkstream.generators.copy_format import BODY_MAX, BODY_MIN, TAGS_MAX, TITLE_COUNT, TITLE_MAX, copy_as_text
from inkstream.generators.offline.compose import Plan, plan_for
from inkstream.generators.outline_format import PAGE_SEPARATOR, parse_outline

LABEL = "模板生成"
CHUNK_CHARS = 24  # about a line: what a streaming model sends in a few tokens

_SUBTITLES = ("关于{k}的实用经验，建议先收藏", "从准备到避坑，一篇讲清{k}", "亲测有效的{k}方法，照着做就行")
_CLOSINGS = (
    "你在{k}上踩过什么坑？评论区聊聊，一起少走弯路👇\n觉得有用就先收藏，下次直接照着做⭐",
    "还有什么想问的{k}问题，留言告诉我💬\n收藏这篇，需要的时候翻出来看📌",
)


async def emit(text: str, sink: TextSink | None, pause: float = 0.0) -> None:
    """Send `text` to `sink` in line-sized chunks (splitting on characters, never inside one)."""
    if sink is None:
        return
    for start in range(0, len(text), CHUNK_CHARS):
        await sink.write(text[start:start + CHUNK_CHARS])
        await asyncio.sleep(pause)  # yields to the event loop between chunks, like a network stream would


def build_outline_text(topic: str) -> str:
    """The outline text for `topic`, in the format remote models are prompted for."""
    plan = plan_for(topic)
    category = plan.category
    pages = [
        "\n".join((
            "[封面]",
            f"标题：{plan.titles(TITLE_MAX)[0]}",
            f"副标题：{plan.fill(plan.pick(_SUBTITLES, 2))}",
            f"背景：{plan.fill(category.scene)}",
        ))
    ]
    for n, section in enumerate(plan.sections):
        pages.append("\n".join(("[内容]", plan.fill(section.heading), "", *plan.lines(section, 8 + n))))
    tags = " ".join(f"#{t}" for t in _tags(plan)[:4])
    pages.append("\n".join((
        "[总结]",
        f"关于{plan.k}，记住这三点🌈",
        "",
        *(f"✅ {point}" for point in category.summary),
        "",
        plan.fill(plan.pick(_CLOSINGS, 3)),
        tags,
    )))
    return f"\n{PAGE_SEPARATOR}\n".join(pages)


def _tags(plan: Plan) -> list[str]:
    keywords = [k for k in plan.reading.keywords[:3] if len(k) <= 12]
    return list(dict.fromkeys([*keywords, plan.category.label, *plan.category.tags]))[:TAGS_MAX]


def build_copy(topic: str) -> PostCopy:
    """Three titles, a 200–800 character body and 5–10 tags for `topic`."""
    plan = plan_for(topic, content_pages=6)
    category = plan.category
    titles = plan.titles(TITLE_MAX)[:TITLE_COUNT]
    paragraphs = [plan.fill(plan.pick(category.hooks, 5))]
    for n, section in enumerate(plan.sections):
        emoji = category.emoji[n % len(category.emoji)]
        heading = plan.fill(section.heading)
        lines = plan.lines(section, 12 + n)[:3]
        paragraph = f"{emoji} {heading}\n" + "\n".join(lines)
        closing = plan.fill(plan.pick(_CLOSINGS, 6))
        if len("\n\n".join([*paragraphs, paragraph, closing])) > BODY_MAX:
            break
        paragraphs.append(paragraph)
    paragraphs.append(plan.fill(plan.pick(_CLOSINGS, 6)))
    body = "\n\n".join(paragraphs)
    if len(body) < BODY_MIN:  # only a very short category could do this; pad with its takeaways
        body += "\n\n" + "\n".join(f"✅ {p}" for p in category.summary)
    return PostCopy(titles=titles, body=body[:BODY_MAX], tags=_tags(plan))


class OfflineWriter:
    """OutlineGenerator and CopyGenerator from topic-aware templates — deterministic, NOT an AI model."""

    name = "offline-template"
    label = LABEL

    def __init__(self, chunk_pause: float = 0.0) -> None:
        self._pause = chunk_pause

    async def generate_outline(
        self, topic: str, reference_images: list[bytes], sink: TextSink | None = None
    ) -> Outline:
        # jieba's first use loads its dictionary (about a second): not on the event loop.
        raw = await asyncio.to_thread(build_outline_text, topic)
        await emit(raw, sink, self._pause)
        return Outline(raw=raw, pages=parse_outline(raw))

    async def generate_copy(self, topic: str, outline: str, sink: TextSink | None = None) -> PostCopy:
        copy = await asyncio.to_thread(build_copy, topic or _topic_from_outline(outline))
        await emit(copy_as_text(copy), sink, self._pause)
        return copy


def _topic_from_outline(outline: str) -> str:
    """A generation without a topic (the API allows it): the cover's title stands in for it."""
    for line in outline.splitlines():
        if line.strip().startswith("标题："):
            return line.split("：", 1)[1].strip()
    return outline.strip()[:30]
