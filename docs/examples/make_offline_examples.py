"""Regenerates the offline example posts in this folder: every page as PNG plus post.txt (the copy), exactly as the
embedded default (offline writer + card renderer) makes them. Run: .venv/bin/python docs/examples/make_offline_examples.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from inkstream.generators.base import PageRequest
from inkstream.generators.cards.card_renderer import CardRenderer
from inkstream.generators.copy_format import copy_as_text
from inkstream.generators.offline import OfflineWriter

# Topics the writer was not tuned on (chosen after it was written; see README "The offline writer").
POSTS = {"japan-trip": "第一次去日本自由行", "beijing-rental": "北漂租房避坑"}
HERE = Path(__file__).parent


async def main() -> None:
    writer, renderer = OfflineWriter(), CardRenderer()
    for slug, topic in POSTS.items():
        out = HERE / slug
        out.mkdir(exist_ok=True)
        outline = await writer.generate_outline(topic, [])
        copy = await writer.generate_copy(topic, outline.raw)
        (out / "post.txt").write_text(copy_as_text(copy), encoding="utf-8")
        (out / "outline.txt").write_text(outline.raw + "\n", encoding="utf-8")
        for page in outline.pages:
            request = PageRequest(page=page, total_pages=len(outline.pages), topic=topic, full_outline=outline.raw,
                                  style_seed=slug)
            (out / f"page_{page.index + 1:02d}.png").write_bytes(renderer.render_png(request))
        print(out, len(outline.pages), "pages")


if __name__ == "__main__":
    asyncio.run(main())
