"""The page runner: executes a task's outline or pages through the generators and records every step as an event.

Its entry points work for both queues: the in-process queue calls `run(task_id)` (all pages, then finish); a
distributed worker calls `run_outline`, or `run_page` + `finish_if_complete` once per page job.

Order of effects for a page: lease taken → image file written → `complete` appended (dedupe key per page and
round) → page marked done. A crash anywhere in between re-runs the page, and the dedupe key keeps its `complete`
from appearing twice. `finish` is appended before the task's status changes, for the same reason. The lease
(tasks/leases.py) is what lets another worker re-run the page of a dead one within seconds, and what keeps a
worker that lost its page from writing anything more for it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from inkstream.errors import ImageWriteFailed, LeaseBusy, LeaseLost
from inkstream.events.log import EventLog
from inkstream.generators.base import GeneratorError, OutlinePage, PageRequest
from inkstream.generators.copy_format import copy_to_dict
from inkstream.generators.source import GeneratorSource
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.images import ImageStore
from inkstream.storage.tables import Page, Task, UsageEvent
from inkstream.storage.uploads import load_reference_images
from inkstream.tasks import post_copy, states
from inkstream.tasks.deltas import DeltaWriter
from inkstream.tasks.leases import Lease, Leases, LocalLeases

log = logging.getLogger(__name__)
COPY_LEASE = -1  # the lease "page index" of a task's post copy


def _failure(exc: GeneratorError | TimeoutError, what: str) -> tuple[str, bool]:
    if isinstance(exc, GeneratorError):
        return exc.message, exc.retryable
    return f"{what} timed out.", True


class TaskRunner:
    def __init__(
        self,
        db: Database,
        events: EventLog,
        images: ImageStore,
        uploads_dir: Path,
        generators: GeneratorSource,
        page_concurrency: int,
        page_timeout: float = 600.0,
        leases: Leases | None = None,
    ) -> None:
        self._db = db
        self._events = events
        self._images = images
        self._uploads = uploads_dir
        self._generators = generators
        self._page_concurrency = page_concurrency
        self._page_timeout = page_timeout
        self._leases: Leases = leases or LocalLeases()

    async def claim(self, task_id: str) -> Task | None:
        """Mark a queued task running; returns it while it is active, None when there is nothing to do."""
        # Read first: every page and the copy claim their task, and all but the first find it running already.
        # A write transaction each, queued behind the others for the write lock, put ~5 of them before a new
        # task's first event (bench e2e, 4 tasks rendering). A cancel that commits after this read is met as one
        # that committed after the write used to be: by the checks that follow the claim.
        async with self._db.read() as s:
            task = await s.get(Task, task_id)
        if task is None or task.status not in states.ACTIVE:
            return None
        if task.status != states.QUEUED:
            return task
        async with self._db.write() as s:
            # A conditional UPDATE, not read-then-write: a cancel committed between the read and the write would
            # otherwise be overwritten with `running` (PostgreSQL, read committed), and the task run to `done`.
            await s.execute(update(Task).where(Task.id == task_id, Task.status == states.QUEUED)
                            .values(status=states.RUNNING, updated_at=utcnow()))
            task = await s.get(Task, task_id)
            if task is None or task.status not in states.ACTIVE:
                return None
            return task

    async def pending_pages(self, task_id: str) -> list[int]:
        async with self._db.read() as s:
            return list(
                (
                    await s.scalars(
                        select(Page.index).where(
                            Page.task_id == task_id, Page.status.in_((states.PAGE_PENDING, states.PAGE_GENERATING))
                        ).order_by(Page.index)
                    )
                ).all()
            )

    async def run(self, task_id: str) -> None:
        """Run a whole task in this process."""
        task = await self.claim(task_id)
        if task is None:
            return
        if task.kind == states.OUTLINE:
            await self.run_outline(task_id)
            return
        slots = asyncio.Semaphore(self._page_concurrency)

        async def one(index: int) -> None:
            async with slots:
                await self.run_page(task_id, index)

        # The copy is written beside the pages, not before them: the first image should not wait for words.
        await asyncio.gather(self.run_copy(task_id), *(one(i) for i in await self.pending_pages(task_id)))
        await self.finish_if_complete(task_id)

    # --- outline ---
    async def run_outline(self, task_id: str) -> None:
        task = await self.claim(task_id)
        if task is None:
            return
        refs = load_reference_images(self._uploads, task_id, task.reference_images)
        await self._events.append(task.id, "progress", {"index": 0, "status": "generating", "current": 1, "total": 1})
        deltas = DeltaWriter(self._events, task.id, "outline_delta")
        try:
            outline_generator, _ = await self._generators.for_user(task.user_id)
            outline = await asyncio.wait_for(outline_generator.generate_outline(task.topic, refs, deltas),
                                             self._page_timeout)
        except asyncio.CancelledError:
            deltas.abandon()
            raise
        except (GeneratorError, TimeoutError) as exc:
            await deltas.close()
            message, retryable = _failure(exc, "The outline generator")
            await self._events.append(
                task.id, "error", {"index": 0, "status": "error", "message": message, "retryable": retryable},
                dedupe_key=states.error_key(0, task.round),
            )
            await self._finish_outline(task, None, message)
            return
        await deltas.close()
        await self._record_usage(task, "outline", outline_generator)
        result = {"raw": outline.raw, "pages": [asdict(p) for p in outline.pages]}
        await self._events.append(task.id, "outline", result, dedupe_key=f"outline:{task.round}")
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
        await self._set_final_status(task.id, states.DONE if result else states.FAILED)

    # --- pages ---
    async def run_page(self, task_id: str, index: int) -> None:
        """Generate one page unless it is already done, the task is no longer active, or another worker holds
        the page. A lost lease ends the attempt quietly: the page's new holder finishes it."""
        task = await self.claim(task_id)
        if task is None:
            return
        try:
            async with self._leases.hold(task_id, index, task.round) as lease:
                await self._run_page(task, index, lease)
        except LeaseBusy:
            log.info("page %s:%s is running on another worker", task_id, index)
        except LeaseLost as exc:
            log.warning("page %s:%s abandoned: %s", task_id, index, exc.message)

    async def _run_page(self, task: Task, index: int, lease: Lease) -> None:
        task_id = task.id
        async with self._db.read() as s:  # read under the lease: the previous holder may have just finished it
            page = await s.get(Page, (task_id, index))
        if page is None or page.status in (states.PAGE_DONE, states.PAGE_ERROR):
            return
        await self._set_page(task_id, index, status=states.PAGE_GENERATING)
        await self._events.append(
            task_id, "progress", {"index": index, "status": "generating", "current": index + 1, "total": task.total},
            guard=lease.check,
        )
        request = PageRequest(
            page=OutlinePage(index, page.type, page.content),  # type: ignore[arg-type]
            total_pages=task.total, topic=task.topic, full_outline=task.full_outline,
            reference_images=load_reference_images(self._uploads, task_id, task.reference_images),
            style_seed=task_id,
        )
        try:
            _, image_generator = await self._generators.for_user(task.user_id)
            png = await asyncio.wait_for(image_generator.generate_image(request), self._page_timeout)
        except (GeneratorError, TimeoutError) as exc:
            await self._page_failed(task_id, index, task.round, *_failure(exc, "Generating this page"),
                                    guard=lease.check)
            return
        await lease.check()  # a stale worker must not replace the image its page's new holder may have published
        try:
            file_name = await asyncio.to_thread(self._images.save, task_id, index, png)
        except ImageWriteFailed as exc:  # the service keeps going; the page can be retried once there is room
            log.error("task %s page %d: %s", task_id, index, exc.message)
            await self._page_failed(task_id, index, task.round, exc.message, True, guard=lease.check)
            return
        await self._events.append(
            task_id, "complete",
            {"index": index, "status": "done", "image_url": self._images.unsigned_url(task_id, file_name),
             "preview_url": self._images.preview_url(task_id, file_name)},
            dedupe_key=states.complete_key(index, task.round), guard=lease.check,
        )
        await self._set_page(task_id, index, status=states.PAGE_DONE, image_file=file_name, error=None,
                             retryable=None, image_bytes=len(png))
        await self._record_usage(task, "page" if task.round == 1 else "regenerate", image_generator)

    async def _record_usage(self, task: Task, kind: str, generator: object) -> None:
        """A usage event: what was made for whom, by which provider and model (quotas and accounting)."""
        async with self._db.write() as s:
            s.add(UsageEvent(user_id=task.user_id, task_id=task.id, kind=kind,
                             provider=str(getattr(generator, "name", ""))[:64],
                             model=str(getattr(generator, "model", "") or "")[:128], created_at=utcnow()))

    async def _page_failed(self, task_id: str, index: int, round_: int, message: str, retryable: bool, *,
                           guard: Callable[[], Awaitable[None]] | None = None) -> None:
        await self._events.append(
            task_id, "error", {"index": index, "status": "error", "message": message, "retryable": retryable},
            dedupe_key=states.error_key(index, round_), guard=guard,
        )
        await self._set_page(task_id, index, status=states.PAGE_ERROR, error=message, retryable=retryable)

    # --- copy ---
    async def run_copy(self, task_id: str) -> None:
        """Write the post's copy when it is due (new task, or regenerate): deltas, then `copy` or `copy_error`.

        Order of effects, as for a page: the copy is stored (state `writing`) → `copy` appended with a dedupe key
        → state `done`. A crash in between finds `writing` with a copy and only repeats the event (deduplicated).
        """
        task = await self.claim(task_id)
        if task is None or task.kind != states.GENERATE:
            return
        # Leased like a page (index COPY_LEASE): a worker killed while writing the copy hands it on within seconds.
        try:
            async with self._leases.hold(task_id, COPY_LEASE, task.round) as lease:
                await self._run_copy(task, lease)
        except LeaseBusy:
            log.info("copy of %s is being written on another worker", task_id)
        except LeaseLost as exc:
            log.warning("copy of %s abandoned: %s", task_id, exc.message)

    async def _run_copy(self, task: Task, lease: Lease) -> None:
        task_id = task.id
        async with self._db.read() as s:  # read under the lease: the previous holder may have just finished it
            fresh = await s.get(Task, task_id)
        state = post_copy.state_of(fresh if fresh is not None else task)
        if state["status"] not in (post_copy.PENDING, post_copy.WRITING):
            return
        if state["status"] == post_copy.WRITING and state.get("copy"):
            written = state["copy"]
        else:
            deltas = DeltaWriter(self._events, task_id, "copy_delta")
            try:
                copy_generator = await self._generators.copy_for(task.user_id)
                copy = await asyncio.wait_for(
                    copy_generator.generate_copy(task.topic, task.full_outline or await self._outline_text(task_id),
                                             deltas),
                    self._page_timeout,
                )
            except asyncio.CancelledError:  # the task was cancelled: its `finish` is written, nothing may follow
                deltas.abandon()
                raise
            except (GeneratorError, TimeoutError) as exc:
                await deltas.close()
                message, retryable = _failure(exc, "Writing the copy")
                await self._events.append(
                    task_id, "copy_error", {"message": message, "retryable": retryable,
                                            "code": getattr(exc, "code", "copy_failed")},
                    dedupe_key=f"copy_error:{task.round}", guard=lease.check,
                )
                await self._set_copy(task_id, post_copy.failed(state, message))
                return
            await deltas.close()
            written = copy_to_dict(copy)
            state = post_copy.writing(state, written, copy_generator.name)
            await self._set_copy(task_id, state)
        await lease.check()
        await self._events.append(task_id, "copy", {"status": "done", **written}, dedupe_key=f"copy:{task.round}",
                                  guard=lease.check)
        await self._set_copy(task_id, post_copy.done(written, str(state.get("source", ""))))

    async def _outline_text(self, task_id: str) -> str:
        async with self._db.read() as s:
            contents = (await s.scalars(select(Page.content).where(Page.task_id == task_id).order_by(Page.index))).all()
        return "\n<page>\n".join(contents)

    async def _set_copy(self, task_id: str, value: dict[str, Any]) -> None:
        async with self._db.write() as s:
            await s.execute(update(Task).where(Task.id == task_id).values(post_copy=value, updated_at=utcnow()))

    async def _set_page(self, task_id: str, index: int, **values: Any) -> None:
        await self._db.execute(
            update(Page).where(Page.task_id == task_id, Page.index == index).values(**values, updated_at=utcnow()))

    async def finish_if_complete(self, task_id: str) -> bool:
        """Append `finish` and set the final status once no page is left to run; safe to call from every job."""
        async with self._db.read() as s:
            task = await s.get(Task, task_id)
            if task is None or task.status != states.RUNNING:
                return False  # not started, or cancelled meanwhile (the cancel wrote its own finish)
            pages = (await s.scalars(select(Page).where(Page.task_id == task_id).order_by(Page.index))).all()
        if any(p.status in (states.PAGE_PENDING, states.PAGE_GENERATING) for p in pages):
            return False
        if post_copy.is_due(task):
            return False  # the copy job finishes the task
        done = [p for p in pages if p.status == states.PAGE_DONE]
        failed = [p for p in pages if p.status == states.PAGE_ERROR]
        await self._events.append(
            task_id, "finish",
            {"success": not failed, "task_id": task_id, "total": len(pages), "completed": len(done),
             "failed": len(failed), "failed_indices": [p.index for p in failed],
             "copy": post_copy.state_of(task)["status"],
             "images": [self._images.unsigned_url(task_id, p.image_file) for p in done if p.image_file]},
            dedupe_key=states.finish_key(task.round),
        )
        await self._set_final_status(task_id, states.final_status(len(done), len(failed)))
        return True

    async def _set_final_status(self, task_id: str, status: str) -> None:
        async with self._db.write() as s:
            await s.execute(
                update(Task).where(Task.id == task_id, Task.status == states.RUNNING)
                .values(status=status, updated_at=utcnow(), finished_at=utcnow())
            )
