"""Picks the outline and image generators from settings: the offline pair by default, remote providers when a
providers file is configured."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from inkstream.generators.base import (
    CopyGenerator,
    ImageGenerator,
    Outline,
    OutlineGenerator,
    PageRequest,
    PostCopy,
    TextSink,
)

if TYPE_CHECKING:
    from inkstream.config import Settings


class Delayed:
    """Adds a fixed latency to a generator: lets demos and tests exercise long tasks with offline generators."""

    def __init__(self, inner: OutlineGenerator | ImageGenerator, delay: float) -> None:
        self._inner = inner
        self._delay = delay
        self.name = f"{inner.name}+delay"
        self.model = getattr(inner, "model", "")

    async def generate_outline(
        self, topic: str, reference_images: list[bytes], sink: TextSink | None = None
    ) -> Outline:
        await asyncio.sleep(self._delay)
        return await self._inner.generate_outline(topic, reference_images, sink)  # type: ignore[union-attr]

    async def generate_copy(self, topic: str, outline: str, sink: TextSink | None = None) -> PostCopy:
        await asyncio.sleep(self._delay)
        return await self._inner.generate_copy(topic, outline, sink)  # type: ignore[union-attr]

    async def generate_image(self, request: PageRequest) -> bytes:
        await asyncio.sleep(self._delay)
        return await self._inner.generate_image(request)  # type: ignore[union-attr]


def build_generators(settings: Settings) -> tuple[OutlineGenerator, ImageGenerator]:
    if settings.providers_file is not None:
        from inkstream.generators.remote.providers_config import build_from_file

        outline, image = build_from_file(settings.providers_file)
    else:
        from inkstream.generators.cards.card_renderer import CardRenderer
        from inkstream.generators.offline import OfflineWriter

        # With a demo delay the writer's chunks trickle out too, so a client sees the outline grow.
        outline, image = OfflineWriter(chunk_pause=settings.offline_delay / 20), CardRenderer()
    if settings.offline_delay > 0:
        return Delayed(outline, settings.offline_delay), Delayed(image, settings.offline_delay)
    return outline, image


def copy_generator_for(outline: OutlineGenerator) -> CopyGenerator:
    """The copy comes from the text provider that writes the outline (every one of them can); the offline writer
    stands in for one that cannot."""
    if hasattr(outline, "generate_copy"):
        return outline  # type: ignore[return-value]
    from inkstream.generators.offline import OfflineWriter

    return OfflineWriter()
