"""The page runner: executes one task's pages through the generators and records every step as an event.

Order of effects for a page: image file written → `complete` appended (dedupe key per page and round) → page
marked done. A crash anywhere in between re-runs the page on resume, and the dedupe key keeps its `complete`
from appearing twice.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from inkstream.events.log import EventLog
from inkstream.generators.base import GeneratorError, ImageGenerator, OutlineGenerator, OutlinePage, PageRequest
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.images import ImageStore
from inkstream.storage.tables import Page, Task
from inkstream.storage.uploads import load_reference_images
from inkstream.tasks import states

log = logging.getLogger(__name__)


class TaskRunner:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        images: ImageStore,
        uploads_dir: Path,
        outline_generator: OutlineGenerator,
        image_generator: ImageGenerator,
        page_concurrency: int,
        page_timeout: float = 600.0,
    ) -> None:
        self._db = db
        self._events = events
        self._images = images
        self._uploads = uploads_dir
        self._outline = outline_generator
        self._image = image_generator
        self._page_concurrency = page_concurrency
        self._page_timeout = page_timeout

    async def run(self, task_id: str) -> None:
        async with self._db.write() as s:
            task = await s.get(Task, task_id)
            if task is None or task.status not in states.ACTIVE:
                return
            task.status, task.updated_at = states.RUNNING, utcnow()
        refs = load_reference_images(self._uploads, task_id, task.reference_images)
        if task.kind == states.OUTLINE:
            await self._run_outline(task, refs)
        else:
            await self._run_pages(task, refs)

    async def _run_outline(self, task: Task, refs: list[bytes]) -> None:
        await self._events.append(task.id, "progress", {"index": 0, "status": "generating", "current": 1, "total": 1})
        try:
            outline = await asyncio.wait_for(self._outline.generate_outline(task.topic, refs), self._page_timeout)
        except (GeneratorError, TimeoutError) as exc:
            message = exc.message if isinstance(exc, GeneratorError) else "The outline generator timed out."
            retryable = exc.retryable if isinstance(exc, GeneratorError) else True
            await self._events.append(
                task.id, "error", {"index": 0, "status": "error", "message": message, "retryable": retryable},
                dedupe_key=states.error_key(0, task.round),
            )
            await self._finish_outline(task, None, message)
            return
        result = {"raw": outline.raw, "pages": [asdict(p) for p in outline.pages]}
        await self._finish_outline(task, result, None)

    async def _finish_outline(self, task: Task, result: dict[str, Any] | None, error: str | None) -> None:
        async with self._db.write() as s:  # the result first: `finish` tells clients it can be read
            await s.execute(update(Task).where(Task.id == task.id).values(result=result, error=error,
                                                                          total=len(result["pages"]) if result else 0))
        await self._events.append(
            task.id, "finish",
            {"success": result is not None, "task_id": task.id, "total": 1, "completed": 1 if result else 0,
             "failed": 0 if result else 1, "images": [], "pages": result["pages"] if result else []},
            dedupe_key=states.finish_key(task.round),
        )
        async with self._db.write() as s:
            await s.execute(
                update(Task).where(Task.id == task.id, Task.status == states.RUNNING).values(
                    status=states.DONE if result else states.FAILED, updated_at=utcnow(), finished_at=utcnow()
                )
            )

    async def _run_pages(self, task: Task, refs: list[bytes]) -> None:
        async with self._db.read() as s:
            pages = (await s.scalars(select(Page).where(Page.task_id == task.id).order_by(Page.index))).all()
        todo = [p for p in pages if p.status in (states.PAGE_PENDING, states.PAGE_GENERATING)]
        slots = asyncio.Semaphore(self._page_concurrency)

        async def one(page: Page) -> None:
            async with slots:
                await self._run_page(task, page, len(pages), refs)

        await asyncio.gather(*(one(p) for p in todo))
        await self._finish_pages(task)

    async def _run_page(self, task: Task, page: Page, total: int, refs: list[bytes]) -> None:
        await self._set_page(task.id, page.index, status=states.PAGE_GENERATING)
        await self._events.append(
            task.id, "progress",
            {"index": page.index, "status": "generating", "current": page.index + 1, "total": total},
        )
        request = PageRequest(
            page=OutlinePage(page.index, page.type, page.content),  # type: ignore[arg-type]
            total_pages=total, topic=task.topic, full_outline=task.full_outline, reference_images=refs,
            style_seed=task.id,
        )
        try:
            png = await asyncio.wait_for(self._image.generate_image(request), self._page_timeout)
        except (GeneratorError, TimeoutError) as exc:
            message = exc.message if isinstance(exc, GeneratorError) else "Generating this page timed out."
            retryable = exc.retryable if isinstance(exc, GeneratorError) else True
            await self._events.append(
                task.id, "error",
                {"index": page.index, "status": "error", "message": message, "retryable": retryable},
                dedupe_key=states.error_key(page.index, task.round),
            )
            await self._set_page(task.id, page.index, status=states.PAGE_ERROR, error=message, retryable=retryable)
            return
        file_name = await asyncio.to_thread(self._images.save, task.id, page.index, png)
        await self._events.append(
            task.id, "complete",
            {"index": page.index, "status": "done", "image_url": self._images.unsigned_url(task.id, file_name)},
            dedupe_key=states.complete_key(page.index, task.round),
        )
        await self._set_page(task.id, page.index, status=states.PAGE_DONE, image_file=file_name, error=None,
                             retryable=None)

    async def _set_page(self, task_id: str, index: int, **values: Any) -> None:
        async with self._db.write() as s:
            await s.execute(
                update(Page).where(Page.task_id == task_id, Page.index == index).values(**values, updated_at=utcnow())
            )

    async def _finish_pages(self, task: Task) -> None:
        # `finish` is appended before the status changes: a crash in between leaves the task active, the resume
        # finds no page to run and appends the same (deduplicated) finish again.
        async with self._db.read() as s:
            if await s.scalar(select(Task.status).where(Task.id == task.id)) != states.RUNNING:
                return  # cancelled meanwhile: the cancel wrote its own finish
            pages = (await s.scalars(select(Page).where(Page.task_id == task.id).order_by(Page.index))).all()
        done = [p for p in pages if p.status == states.PAGE_DONE]
        failed = [p for p in pages if p.status == states.PAGE_ERROR]
        await self._events.append(
            task.id, "finish",
            {"success": not failed, "task_id": task.id, "total": len(pages), "completed": len(done),
             "failed": len(failed), "failed_indices": [p.index for p in failed],
             "images": [self._images.unsigned_url(task.id, p.image_file) for p in done if p.image_file]},
            dedupe_key=states.finish_key(task.round),
        )
        async with self._db.write() as s:
            await s.execute(
                update(Task).where(Task.id == task.id, Task.status == states.RUNNING)
                .values(status=states.final_status(len(done), len(failed)), updated_at=utcnow(), finished_at=utcnow())
            )
