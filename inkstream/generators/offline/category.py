"""What a topic category is made of: the words that choose it and the writing the offline writer draws from.

Placeholders in every text: `{k}` the topic's main keyword, `{k2}` its second keyword (or the category's own
noun when the topic has only one), `{t}` the whole topic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """One content page: a heading and the lines under it (the writer keeps 4 of them)."""

    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    key: str
    label: str  # Chinese name, shown in the copy's tags
    vocab: frozenset[str]  # words (as the segmenter cuts them) that choose this category
    noun: str  # what `{k2}` falls back to
    emoji: tuple[str, ...]
    scene: str  # the cover's background description
    cover_titles: tuple[str, ...]
    hooks: tuple[str, ...]  # the copy's opening lines
    sections: tuple[Section, ...]
    summary: tuple[str, ...]  # three takeaways for the summary page
    tags: tuple[str, ...]


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())
