"""Generator protocols: what the task runner needs from any outline or image source.

Two kinds of generators sit behind these protocols: the offline ones (template outline builder, Pillow card
renderer) that make the embedded default work with zero setup, and remote AI providers (OpenAI-compatible,
Gemini). The runner never knows which one it talks to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

PageType = Literal["cover", "content", "summary"]


@dataclass(frozen=True)
class OutlinePage:
    """One page of a post's outline, as the outline model returns it and the user edits it."""

    index: int
    type: PageType
    content: str


@dataclass(frozen=True)
class Outline:
    """A whole outline: the raw text a model (or the offline builder) produced and its pages."""

    raw: str
    pages: list[OutlinePage]


@dataclass(frozen=True)
class PageRequest:
    """Everything an image generator may use to draw one page."""

    page: OutlinePage
    total_pages: int
    topic: str = ""
    full_outline: str = ""
    # The user's uploaded reference images, already validated (PNG/JPEG/WebP bytes).
    reference_images: list[bytes] = field(default_factory=list)
    # Same value for every page of one task, so a renderer can keep one look across the post.
    style_seed: str = ""


class GeneratorError(Exception):
    """A generator failed for one page or one outline; `retryable` tells the runner whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class OutlineGenerator(Protocol):
    """Turns a topic (and optional reference images) into an outline of pages."""

    name: str

    async def generate_outline(
        self, topic: str, reference_images: list[bytes], sink: TextSink | None = None
    ) -> Outline: ...


class ImageGenerator(Protocol):
    """Draws one page; returns PNG bytes. Raises GeneratorError on failure."""

    name: str

    async def generate_image(self, request: PageRequest) -> bytes: ...


@dataclass(frozen=True)
class PostCopy:
    """The post's words beside its images: title options, the body text and the tags (without '#')."""

    titles: list[str]
    body: str
    tags: list[str]


class TextSink(Protocol):
    """Where a generator sends its text as it is written (streamed outline or copy)."""

    async def write(self, text: str) -> None:
        """The next chunk of text."""
        ...

    async def restart(self) -> None:
        """The text so far is abandoned (a repair retry starts over); what follows replaces it."""
        ...


class CopyGenerator(Protocol):
    """Writes the post's copy from its topic and confirmed outline."""

    name: str

    async def generate_copy(self, topic: str, outline: str, sink: TextSink | None = None) -> PostCopy: ...
