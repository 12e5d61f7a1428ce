"""Offline image generator: draws each outline page as a designed text card with Pillow (no AI, no network).

It is the zero-setup default behind the ImageGenerator protocol: a 3:4 portrait PNG with a cover, content and
summary layout, one of several themes chosen from the post's style seed so all its pages match.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

from PIL import Image

from inkstream.generators.base import GeneratorError, PageRequest
from inkstream.generators.cards.card_body import layout_body, paint_body
from inkstream.generators.cards.card_content import CardContent, parse_card
from inkstream.generators.cards.card_decor import Box, paint_decor, rgba
from inkstream.generators.cards.card_painter import Painter
from inkstream.generators.cards.card_themes import Theme, pick_theme
from inkstream.generators.cards.fonts import FontsMissing
from inkstream.generators.cards.text_draw import DrawnText
from inkstream.generators.cards.textlayout import fit_block, text_width

DEFAULT_SIZE = (1080, 1440)


@dataclass(frozen=True)
class RenderResult:
    """A rendered card plus what was drawn where, so tests (and debugging) can inspect the layout."""

    image: Image.Image
    theme: Theme
    drawn: list[DrawnText]
    text_area: Box


_POOL: ProcessPoolExecutor | None = None


def _pool() -> ProcessPoolExecutor:
    """One pool per process, started on first use, one worker per core; "spawn", because the service process has
    threads (a fork could copy a lock some thread holds)."""
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(max_workers=os.cpu_count() or 2, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_start_worker, initargs=(os.getpid(),))
    return _POOL


# Render workers yield the CPU to the service's event loop: with one worker per core busy, a stream's first event
# and every heartbeat would otherwise wait for a time slice behind a card being drawn. Idle cores still render.
RENDER_NICENESS = 10


def _start_worker(parent: int) -> None:
    """Runs once in each pool worker: lower its CPU priority, and end it when its service process is gone."""
    try:
        os.nice(RENDER_NICENESS)
    except OSError:  # not permitted here: render at the same priority
        pass
    _exit_with_parent(parent)


def _exit_with_parent(parent: int) -> None:
    """A worker whose service process was killed (SIGKILL leaves no time to stop the pool) ends itself."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="inkstream-parent-watch", daemon=True).start()


def _render_in_worker(size: tuple[int, int], request: PageRequest) -> tuple[str, bytes | str]:
    """Runs in a pool worker. Returns ("ok", png) or ("fonts_missing", message): plain values, since an exception
    with a custom constructor does not survive the trip back between processes."""
    try:
        return "ok", CardRenderer(size).render_png(request)
    except FontsMissing as exc:
        return "fonts_missing", str(exc)


class CardRenderer:
    """ImageGenerator that renders outline pages as text cards; `size` is (width, height) in px."""

    name = "offline-cards"

    def __init__(self, size: Sequence[int] = DEFAULT_SIZE, executor: Executor | None = None) -> None:
        # A sequence, not only a tuple: the providers file is YAML, where `size: [1080, 1440]` arrives as a list.
        if len(size) != 2 or int(size[0]) < 270 or int(size[1]) < 360:
            raise ValueError(f"card size must be (width, height), at least 270x360; got {size!r}")
        self.size: tuple[int, int] = (int(size[0]), int(size[1]))
        self._executor = executor  # None: the shared process pool

    async def generate_image(self, request: PageRequest) -> bytes:
        # In worker processes, not threads: layout is Python code that holds the GIL, and rendering in threads
        # starved the event loop (time to first event of other tasks' streams: 32 ms alone, ~300 ms beside four
        # rendering tasks, bench/README.md). The card draws nothing from reference images: they are not shipped.
        job = dataclasses.replace(request, reference_images=[])
        outcome, value = await asyncio.get_running_loop().run_in_executor(
            self._executor or _pool(), _render_in_worker, self.size, job
        )
        if outcome == "fonts_missing":
            raise GeneratorError(str(value), retryable=False)
        return value  # type: ignore[return-value]

    def render_png(self, request: PageRequest) -> bytes:
        buffer = io.BytesIO()
        # zlib's default level, not optimize=True: on a 1080×1440 card that took 370 ms instead of 58 ms (of a
        # ~0.26 s render) for a file 9 % smaller — each page would reach its viewers ~0.3 s later, and the renderer
        # would draw less than half as many pages per core.
        self.render(request).image.save(buffer, format="PNG", compress_level=6)
        return buffer.getvalue()

    def render(self, request: PageRequest) -> RenderResult:
        """Draw one page synchronously (CPU-bound; generate_image runs it in a worker process)."""
        seed = request.style_seed or request.topic
        theme = pick_theme(seed)
        card = parse_card(request.page.content, request.page.type)
        canvas = Image.new("RGBA", self.size)
        w, h = self.size
        u = min(w / 1080, h / 1440)
        content = paint_decor(canvas, theme, request.page.index, seed)
        pad = 56 * u if theme.decor == "panel" else 88 * u
        area: Box = (content[0] + pad, content[1] + 120 * u, content[2] - pad, content[3] - 150 * u)
        painter = Painter(canvas)
        if card.type == "cover":
            self._cover(painter, card, theme, area, u)
        else:
            self._page(painter, card, theme, area, u, request.page.index)
        self._footer(painter, theme, content, area, u, request)
        drawn = painter.finish()
        return RenderResult(canvas.convert("RGB"), theme, drawn, area)

    # ----- page layouts -------------------------------------------------------------------------------------

    def _cover(self, p: Painter, card: CardContent, theme: Theme, area: Box, u: float) -> None:
        left, top, right, bottom = area
        width = right - left
        centred = theme.decor in ("panel", "glow")
        align = "center" if centred else "left"
        chip = "建议收藏 · 干货分享"
        chip_size = int(30 * u)
        chip_w = text_width(chip, chip_size) + 56 * u
        chip_x = left + (width - chip_w) / 2 if centred else left
        chip_box = (chip_x, top, chip_x + chip_w, top + 64 * u)
        p.shapes.rounded_rect(chip_box, 32 * u, fill=rgba(theme.accent))
        p.centred_label(chip, chip_box, chip_size, rgba(theme.on_accent), "regular")

        title = fit_block(
            card.title or " ",
            width,
            (bottom - top) * 0.56,
            int(136 * u),
            int(60 * u),
            "bold",
            1.28,
            max_lines=5,
            balance=True,
        )
        extra = "\n".join(b.text for b in card.blocks if b.text)
        sub_text = "\n".join(t for t in (card.subtitle, extra) if t)
        subtitle = (
            fit_block(
                sub_text, width * 0.92, (bottom - top) * 0.24, int(50 * u), int(30 * u), "regular", 1.5, max_lines=4
            )
            if sub_text
            else None
        )
        gap = 64 * u
        total = title.height + (gap + 16 * u + subtitle.height if subtitle else 0)
        # The title block sits a little above the optical centre, the way cover designers place it.
        y = max(chip_box[3] + 60 * u, top + (bottom - top - total) * 0.42)
        highlight = rgba(theme.second, 150) if theme.decor == "glow" else rgba(theme.second, 170)
        for i, line in enumerate(title.lines):
            lx = left + ((width - line.width) / 2 if centred else 0)
            lt = y + i * title.line_height
            p.shapes.rounded_rect(
                (lx - 8 * u, lt + title.line_height * 0.56, lx + line.width + 8 * u, lt + title.line_height * 0.84),
                10 * u,
                fill=highlight,
            )
        p.text(title, left, y, rgba(theme.text), align, width)
        if subtitle:
            y += title.height + gap
            bar_x = left + (width - 72 * u) / 2 if centred else left
            p.shapes.rounded_rect((bar_x, y - 30 * u, bar_x + 72 * u, y - 22 * u), 4 * u, fill=rgba(theme.accent))
            p.text(subtitle, left, y, rgba(theme.muted), align, width)

    def _page(self, p: Painter, card: CardContent, theme: Theme, area: Box, u: float, index: int) -> None:
        left, top, right, bottom = area
        width = right - left
        summary = card.type == "summary"
        tag = "划重点 · 总结" if summary else f"{index:02d}"
        tag_size = int(30 * u) if summary else int(54 * u)
        if summary:
            tag_w = text_width(tag, tag_size, "bold") + 52 * u
            box = (left, top, left + tag_w, top + 60 * u)
            p.shapes.rounded_rect(box, 30 * u, fill=rgba(theme.accent))
            p.centred_label(tag, box, tag_size, rgba(theme.on_accent))
            y = box[3] + 30 * u
        else:
            number = fit_block(tag, width, 80 * u, tag_size, tag_size, "bold", 1.1)
            p.text(number, left, top - 6 * u, rgba(theme.accent))
            nx = left + number.width + 20 * u
            mid = top - 6 * u + number.line_height / 2
            p.shapes.rounded_rect((nx, mid - 2 * u, nx + 90 * u, mid + 2 * u), 2 * u, fill=rgba(theme.accent, 140))
            y = top + number.height + 10 * u
        heading = fit_block(
            card.title or " ", width, 260 * u, int(72 * u), int(46 * u), "bold", 1.35, max_lines=3, balance=True
        )
        p.text(heading, left, y, rgba(theme.text))
        y += heading.height + 26 * u
        p.shapes.rounded_rect((left, y, left + 64 * u, y + 8 * u), 4 * u, fill=rgba(theme.accent))
        y += 8 * u + 46 * u
        body_box = (left, y, right, bottom)
        if summary and card.blocks:
            # The summary body sits on a tinted note so the takeaways read as one thing to screenshot.
            inset = 36 * u
            body_box = (left + inset, y + inset, right - inset, bottom - inset)
        layout = layout_body(
            card.blocks, body_box[2] - body_box[0], body_box[3] - body_box[1], int(46 * u), int(24 * u)
        )
        # Spare height first loosens the gaps between blocks, then a little of it moves the body down, so short
        # pages look composed rather than unfinished.
        spare = body_box[3] - body_box[1] - layout.height
        gaps = max(1, len(layout.items) - 1)
        extra = min(layout.size * 0.8, max(0.0, spare * 0.6) / gaps)
        shift = max(0.0, spare - extra * gaps) * (0.0 if summary else 0.25)
        if summary and card.blocks:
            note_bottom = body_box[1] + layout.height + extra * gaps + 36 * u
            fill = rgba(theme.soft, 110) if theme.decor == "glow" else rgba(theme.soft, 150)
            p.shapes.rounded_rect((left, y, right, note_bottom), 32 * u, fill=fill)
        paint_body(p, layout, theme, body_box[0], body_box[1] + shift, extra)

    def _footer(self, p: Painter, theme: Theme, content: Box, area: Box, u: float, request: PageRequest) -> None:
        label = f"{request.page.index + 1} / {max(request.total_pages, request.page.index + 1)}"
        size = int(28 * u)
        pill_w = text_width(label, size) + 44 * u
        cy = content[3] - 78 * u
        box = (area[2] - pill_w, cy - 26 * u, area[2], cy + 26 * u)
        fill = rgba(theme.soft, 90) if theme.decor == "glow" else rgba(theme.soft, 230)
        p.shapes.rounded_rect(box, 26 * u, fill=fill)
        p.centred_label(label, box, size, rgba(theme.text), "regular")
        if request.topic:
            topic = fit_block(
                f"# {request.topic}", box[0] - area[0] - 40 * u, 48 * u, size, size, "regular", 1.5, max_lines=1
            )
            p.text(topic, area[0], cy - topic.line_height / 2, rgba(theme.muted))
