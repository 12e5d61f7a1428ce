"""Reading a topic with jieba: its content words, its main keywords, and the category they point to.

jieba (a maintained Chinese segmenter) does the cutting and part-of-speech tagging; this module only decides which
of its words matter. The categories' own vocabularies are added to jieba's dictionary once, so a word such as
「穿搭」 or 「小户型」 stays one token instead of being cut into characters.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from inkstream.generators.offline.category import Category
from inkstream.generators.offline.growth import GENERAL, GROWTH
from inkstream.generators.offline.lifestyle import LIFESTYLE
from inkstream.generators.offline.wellness import HEALTH

CATEGORIES: tuple[Category, ...] = LIFESTYLE + GROWTH + (HEALTH,)
# Words that say what kind of post it is, not what it is about.
_STOPWORDS = frozenset(
    "清单 攻略 指南 推荐 分享 技巧 方法 教程 心得 经验 干货 合集 避坑 入门 新手 小白 必看 建议 "
    "怎么 如何 什么 需要 准备 "
    "一下 一些 这些 那些 可以 应该 真的 到底 为什么 哪些 哪个 还是 或者 以及 步骤 注意 事项 问题 第一次 分钟 全攻略 "
    "保姆级 超全 最全 整理 总结 记录 日常 一周 不重样 选择 更显 显大 大全 原来 怎么办 缓解 利用 要不要 能不能 "
    "是不是 有没有 解决".split()
)
# Parts of speech that carry content: nouns (n, nr, ns, nt, nz, ng), verbal nouns, abbreviations, foreign words,
# verbs and adjectives; time words (t) are kept apart as the second keyword's fallback.
_CONTENT_POS = ("n", "vn", "j", "eng", "v", "a", "t", "l", "i")
_NOUNISH_POS = ("n", "vn", "j", "eng", "l", "i")
_MAX_KEYWORD = 6

_init_lock = threading.Lock()
_posseg: Any = None  # jieba.posseg, once loaded


def _tagger() -> Any:
    """jieba's part-of-speech cutter, imported and given our vocabulary on first use: importing jieba takes
    ~0.5 s (pkg_resources included), which every process start paid, copy written or not."""
    global _posseg
    with _init_lock:
        if _posseg is not None:
            return _posseg
        import jieba
        import jieba.posseg

        jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict…" chatter is not our log
        for category in CATEGORIES:
            for word in category.vocab:
                if len(word) > 1:
                    jieba.add_word(word, freq=2000, tag="n")
        _posseg = jieba.posseg
        return _posseg


@dataclass(frozen=True)
class TopicReading:
    """What the offline writer knows about a topic."""

    topic: str
    words: tuple[str, ...]  # every token jieba cut, in order
    keywords: tuple[str, ...]  # content phrases, most important first
    category: Category
    scores: dict[str, int]


def _clean(topic: str) -> str:
    return re.sub(r"\s+", " ", topic).strip()


def _phrases(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Adjacent content tokens joined into short phrases (「降噪」+「耳机」 → 「降噪耳机」), each with its kind."""
    phrases: list[tuple[str, str]] = []
    current, kind = "", ""
    for word, flag in tokens + [("", "x")]:
        content = (
            word not in _STOPWORDS and flag.startswith(_CONTENT_POS) and not flag.startswith("t")
            and (len(word) > 1 or flag.startswith("n"))
        )
        joinable = content and flag.startswith(_NOUNISH_POS + ("v",)) and len(current + word) <= _MAX_KEYWORD
        if current and joinable and (kind == "noun" or flag.startswith(_NOUNISH_POS)):
            current += word
            kind = "noun" if flag.startswith(_NOUNISH_POS) else kind
            continue
        if current:
            phrases.append((current, kind))
        current, kind = (word, "noun" if flag.startswith(_NOUNISH_POS) else "other") if content else ("", "")
    return phrases


def read_topic(topic: str) -> TopicReading:
    """Segment `topic`, score every category by the words it contains, and pick the keywords."""
    text = _clean(topic)
    tokens = [(p.word, p.flag) for p in _tagger().cut(text) if p.word.strip()]
    words = tuple(w for w, _ in tokens)
    scores: dict[str, int] = {}
    last_hit: dict[str, int] = {}
    for category in CATEGORIES:
        # A multi-character vocabulary word counts double: 「护肤」 says more than 「吃」.
        scores[category.key] = sum(2 if len(w) > 1 else 1 for w in words if w in category.vocab)
        last_hit[category.key] = max((i for i, w in enumerate(words) if w in category.vocab), default=-1)
    # Ties go to the word said last: in 「刚工作怎么开始记账」 the post is about 记账, 工作 only sets the scene.
    best = max(CATEGORIES, key=lambda c: (scores[c.key], last_hit[c.key]))
    category = best if scores[best.key] > 0 else GENERAL
    phrases = _phrases(tokens)
    # Nouns first (they name the subject), longer before shorter, the topic's order breaking ties.
    ranked = sorted(enumerate(phrases), key=lambda ip: (ip[1][1] != "noun", -len(ip[1][0]), ip[0]))
    keywords = tuple(dict.fromkeys(p for _, (p, _) in ranked))
    times = tuple(w for w, f in tokens if f.startswith("t") and w not in keywords)
    return TopicReading(topic=text, words=words, keywords=keywords + times, category=category, scores=scores)
