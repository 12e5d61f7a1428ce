"""Picks the outline and image generators from settings: the offline pair by default, remote providers when a
providers file is configured."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from inkstream.generators.base import ImageGenerator, Outline, OutlineGenerator, PageRequest

if TYPE_CHECKING:
    from inkstream.config import Settings


class Delayed:
    """Adds a fixed latency to a generator: lets demos and tests exercise long tasks with offline generators."""

    def __init__(self, inner: OutlineGenerator | ImageGenerator, delay: float) -> None:
        self._inner = inner
        self._delay = delay
        self.name = f"{inner.name}+delay"
        self.model = getattr(inner, "model", "")

    async def generate_outline(self, topic: str, reference_images: list[bytes]) -> Outline:
        await asyncio.sleep(self._delay)
        return await self._inner.generate_outline(topic, reference_images)  # type: ignore[union-attr]

    async def generate_image(self, request: PageRequest) -> bytes:
        await asyncio.sleep(self._delay)
        return await self._inner.generate_image(request)  # type: ignore[union-attr]


def build_generators(settings: Settings) -> tuple[OutlineGenerator, ImageGenerator]:
    if settings.providers_file is not None:
        from inkstream.generators.providers_config import build_from_file

        outline, image = build_from_file(settings.providers_file)
    else:
        from inkstream.generators.card_renderer import CardRenderer
        from inkstream.generators.outline_builder import OfflineOutlineBuilder

        outline, image = OfflineOutlineBuilder(), CardRenderer()
    if settings.offline_delay > 0:
        return Delayed(outline, settings.offline_delay), Delayed(image, settings.offline_delay)
    return outline, image
