"""Filling a category's writing with one topic's keywords: the pieces the outline and the copy share.

Every choice (page count, which sections, which lines, which title) is a function of the topic's SHA-256, so
the same topic always yields the same post and different topics of one category still differ.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from inkstream.generators.offline.category import Category, Section
from inkstream.generators.offline.keywords import TopicReading, read_topic

_LINES_PER_PAGE = 4
_MAX_KEYWORD_IN_TITLE = 10
_NUMBERED = re.compile(r"^\d+\. ")


@dataclass(frozen=True)
class Plan:
    """One topic's choices: its reading, keywords and the sections its pages use."""

    reading: TopicReading
    k: str
    k2: str
    digest: bytes
    sections: tuple[Section, ...]

    @property
    def category(self) -> Category:
        return self.reading.category

    def fill(self, text: str) -> str:
        # str.replace, not str.format: a topic may contain braces.
        return text.replace("{k}", self.k).replace("{k2}", self.k2).replace("{t}", self.reading.topic)

    def pick(self, options: tuple[str, ...], salt: int) -> str:
        return options[self.digest[salt % len(self.digest)] % len(options)]

    def lines(self, section: Section, salt: int) -> list[str]:
        """Four of the section's lines, in their order: which one is dropped depends on the topic."""
        drop = self.digest[salt % len(self.digest)] % len(section.lines)
        if any(_NUMBERED.match(line) for line in section.lines):
            drop = len(section.lines) - 1  # steps keep their order and numbers: drop the last one
        kept = [line for i, line in enumerate(section.lines) if i != drop][:_LINES_PER_PAGE]
        return [self.fill(line) for line in kept]

    def titles(self, limit: int) -> list[str]:
        """The category's cover titles filled in, those within `limit` characters, topic order rotated."""
        options = self.category.cover_titles
        start = self.digest[1] % len(options)
        rotated = options[start:] + options[:start]
        filled = [self.fill(t) for t in rotated]
        fitting = [t for t in filled if len(t) <= limit]
        short_k = self.k[:_MAX_KEYWORD_IN_TITLE]
        fallback = [f"{short_k}｜{self.category.label}干货", f"{short_k}，建议收藏", f"关于{short_k}的经验"]
        return list(dict.fromkeys(fitting + [t[:limit] for t in fallback]))


def plan_for(topic: str, content_pages: int | None = None) -> Plan:
    """The plan for `topic`; `content_pages` defaults to 4–6, chosen by the topic."""
    reading = read_topic(topic)
    digest = hashlib.sha256(reading.topic.encode("utf-8")).digest()
    category = reading.category
    k = reading.keywords[0] if reading.keywords else (reading.topic[:12] or "这个话题")
    k2 = reading.keywords[1] if len(reading.keywords) > 1 else category.noun
    available = len(category.sections)
    count = min(available, content_pages if content_pages is not None else 4 + digest[0] % 3)
    ranked = sorted(range(available), key=lambda i: (digest[4 + i], i))
    chosen = sorted(ranked[:count])
    return Plan(reading, k, k2, digest, tuple(category.sections[i] for i in chosen))
