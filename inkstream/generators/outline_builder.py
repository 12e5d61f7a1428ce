"""Offline outline generator: a fixed-template outline for any topic, so the app works with no AI configured."""

from __future__ import annotations

import hashlib
import re

from inkstream.generators.base import Outline
from inkstream.generators.outline_format import PAGE_SEPARATOR, parse_outline

# Section templates for content pages, in reading order. `{t}` is the topic. Each is (heading, body lines).
# The topic only goes where any phrasing reads well (quoted, or as a sentence subject): topics are often questions.
_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "为什么一定要认真对待「{t}」？🤔",
        (
            "很多人一开始都觉得随便弄弄就行",
            "结果花了时间又花了钱，效果却一般😣",
            "",
            "其实只要抓住几个关键点：",
            "• 先想清楚自己的真实需求",
            "• 把预算和时间提前规划好",
            "• 少走弯路，比盲目努力更重要",
        ),
    ),
    (
        "先搞懂基础📌 抓住核心再行动",
        (
            "别急着上手，先把这三件事弄明白👇",
            "1. 目标：你想要达到什么效果",
            "2. 条件：手头有哪些资源和限制",
            "3. 标准：怎样才算做得好",
            "",
            "想清楚这三点，后面的选择都会简单很多",
        ),
    ),
    (
        "手把手教你：{t}的正确打开方式✍️",
        (
            "第一步：列出需求，分清必须和可选",
            "第二步：多做对比，看真实评价而不是广告",
            "第三步：小成本试一试，再决定要不要加码",
            "第四步：记录过程，方便下次复盘",
            "",
            "小贴士💡：每一步都不用追求完美，先完成再优化",
        ),
    ),
    (
        "必备清单✅ 建议截图保存",
        (
            "✅ 最核心的那一样，预算优先给它",
            "✅ 能提升体验的小物件，按需添加",
            "✅ 备用方案，以防临时出状况",
            "✅ 一份写好的计划表",
            "",
            "清单不在多，在于每一项都用得上",
        ),
    ),
    (
        "避坑指南⚠️ 关于{t}的常见误区",
        (
            "❌ 只看价格，不看是否适合自己",
            "❌ 跟风购买网红款，结果用不上",
            "❌ 一次投入太多，没有留调整空间",
            "",
            "多数人不知道💡：",
            "最贵的不一定最好，最适合的才是",
        ),
    ),
    (
        "进阶玩法🚀 做到这些就超过九成的人",
        (
            "基础做好之后，可以试试这些小心思：",
            "• 加入自己的风格和习惯",
            "• 参考身边做得好的朋友",
            "• 定期复盘，找出可以优化的地方",
            "",
            "慢慢你会发现，细节才是拉开差距的地方✨",
        ),
    ),
    (
        "省钱又省心的小技巧💰",
        (
            "• 关注换季和大促节点，提前做好功课",
            "• 能借就借、能租就租，先体验再购买",
            "• 和朋友拼单或交换，性价比翻倍",
            "",
            "把省下来的预算，花在真正重要的地方",
        ),
    ),
)

_COVER_TITLES = (
    "{t}｜看完这篇就够了✨",
    "关于{t}，我终于整理明白了📝",
    "{t}全攻略｜新手也能轻松上手🌟",
    "超实用！{t}一篇讲清楚💡",
)
_COVER_SUBTITLES = (
    "亲测有效的经验分享，建议先收藏",
    "从入门到避坑，一次说清楚",
    "少走弯路的实用指南",
)


def _digest(topic: str) -> bytes:
    return hashlib.sha256(topic.encode("utf-8")).digest()


def page_count_for(topic: str) -> int:
    """6-9 pages, a stable function of the topic (cover + 4-7 content pages + summary)."""
    return 6 + _digest(topic)[0] % 4


def _clean_topic(topic: str) -> str:
    # Titles quote the topic; collapse whitespace so a pasted multi-line topic still makes one-line headings.
    return re.sub(r"\s+", " ", topic).strip() or "这个话题"


class OfflineOutlineBuilder:
    """OutlineGenerator that fills fixed Chinese templates with the topic — deterministic, NOT an AI model.

    The same topic always yields the same outline; reference images are ignored. Its `raw` text uses exactly
    the format remote models are prompted for, so the rest of the pipeline cannot tell the difference.
    """

    name = "offline-template"

    async def generate_outline(self, topic: str, reference_images: list[bytes]) -> Outline:
        raw = self.build_raw(topic)
        return Outline(raw=raw, pages=parse_outline(raw))

    def build_raw(self, topic: str) -> str:
        """The outline text for `topic` (pure function; generate_outline wraps it)."""
        t = _clean_topic(topic)
        digest = _digest(t)
        total = page_count_for(t)
        content_count = total - 2
        # Keep the "why" and "how" pages, then fill up with other sections in their natural order.
        optional = [i for i in range(len(_SECTIONS)) if i not in (0, 2)]
        ranked = sorted(optional, key=lambda i: digest[4 + i])
        chosen = sorted([0, 2] + ranked[: content_count - 2])
        pages = [
            "\n".join(
                (
                    "[封面]",
                    f"标题：{_COVER_TITLES[digest[1] % len(_COVER_TITLES)].format(t=t)}",
                    f"副标题：{_COVER_SUBTITLES[digest[2] % len(_COVER_SUBTITLES)]}",
                    f"背景：与「{t}」相关的温馨场景，明亮柔和的色调",
                )
            )
        ]
        for i in chosen:
            heading, body = _SECTIONS[i]
            pages.append("\n".join(("[内容]", heading.format(t=t), "", *body)))
        pages.append(
            "\n".join(
                (
                    "[总结]",
                    f"关于{t}，记住这几点就够了🌈",
                    "",
                    "✅ 先明确需求，再动手",
                    "✅ 多对比，少跟风",
                    "✅ 从小处开始，边做边调整",
                    "",
                    "你在这件事上踩过什么坑？",
                    "评论区聊聊，一起少走弯路👇",
                    "觉得有用就收藏起来，下次直接照着做⭐",
                )
            )
        )
        return f"\n{PAGE_SEPARATOR}\n".join(pages)
