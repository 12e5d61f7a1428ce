"""The task domain: create, read, cancel, retry and delete outline and generation tasks of one user."""

from __future__ import annotations

import shutil
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inkstream.errors import InvalidInput, TaskConflict, TaskNotFound, TooManyTasks
from inkstream.events.log import EventLog, StoredEvent
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import Page, Task, TaskEvent
from inkstream.storage.uploads import save_reference_images
from inkstream.tasks import post_copy, states
from inkstream.tasks.history import History
from inkstream.tasks.queue import TaskQueue

PAGE_TYPES = ("cover", "content", "summary")


_OWNER_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class PageInput:
    index: int
    type: str
    content: str


class PageQuota(Protocol):
    async def check(self, s: AsyncSession, user_id: int, pages: int) -> None:
        """Raise QuotaExceeded when `pages` more pages would pass the user's quota (inside the caller's
        transaction)."""
        ...


@dataclass(frozen=True)
class TaskLimits:
    max_topic_chars: int
    max_pages: int
    max_page_chars: int
    max_running_per_user: int


class TaskService:
    def __init__(
        self, db: Database, events: EventLog, queue: TaskQueue, uploads_dir: Path, images_dir: Path,
        limits: TaskLimits, quota: PageQuota | None = None,
    ) -> None:
        self._db = db
        self._quota = quota
        self._events = events
        self._queue = queue
        self._uploads = uploads_dir
        self._images = images_dir
        self._limits = limits
        self._owners: OrderedDict[str, int] = OrderedDict()
        self.copy = post_copy.CopyActions(self)
        self.posts = History(db, images_dir)

    @property
    def db(self) -> Database:
        return self._db

    # --- creating ---
    def _check_topic(self, topic: str, *, required: bool) -> str:
        topic = topic.strip()
        if required and not topic:
            raise InvalidInput("topic_required", "Give a topic for the post.")
        if len(topic) > self._limits.max_topic_chars:
            raise InvalidInput("topic_too_long", f"The topic is over {self._limits.max_topic_chars} characters.",
                               limit=self._limits.max_topic_chars)
        return topic

    def _check_pages(self, pages: list[PageInput]) -> list[PageInput]:
        if not pages:
            raise InvalidInput("pages_required", "Give at least one page.")
        if len(pages) > self._limits.max_pages:
            raise InvalidInput("too_many_pages", f"At most {self._limits.max_pages} pages per post.",
                               limit=self._limits.max_pages)
        if sorted(p.index for p in pages) != list(range(len(pages))):
            raise InvalidInput("invalid_page_index", "Page indexes must be 0, 1, 2 … without gaps or repeats.")
        for p in pages:
            if p.type not in PAGE_TYPES:
                raise InvalidInput("invalid_page_type", f"Page {p.index} has type {p.type!r}; use cover, "
                                   "content or summary.")
            if not p.content.strip() or len(p.content) > self._limits.max_page_chars:
                raise InvalidInput("invalid_page_content", f"Page {p.index} must have 1–"
                                   f"{self._limits.max_page_chars} characters of content.")
        return sorted(pages, key=lambda p: p.index)

    async def _existing(self, s: AsyncSession, user_id: int, key: str | None) -> Task | None:
        if key is None:
            return None
        return await s.scalar(select(Task).where(Task.user_id == user_id, Task.idempotency_key == key))

    async def _check_capacity(self, s: AsyncSession, user_id: int) -> None:
        running = await s.scalar(
            select(func.count()).select_from(Task).where(Task.user_id == user_id, Task.status.in_(states.ACTIVE))
        )
        if (running or 0) >= self._limits.max_running_per_user:
            raise TooManyTasks(
                f"You already have {running} tasks running; wait for one to finish or cancel one."
            )

    async def create(
        self, user_id: int, kind: str, *, topic: str, pages: list[PageInput] | None = None, full_outline: str = "",
        reference_images: list[tuple[bytes, str]] | None = None, idempotency_key: str | None = None,
    ) -> tuple[Task, bool]:
        """Create and queue a task; returns (task, created). A known Idempotency-Key returns the first task."""
        topic = self._check_topic(topic, required=kind == states.OUTLINE)
        checked = self._check_pages(pages or []) if kind == states.GENERATE else []
        task_id = uuid.uuid4().hex
        try:
            task = await self._insert(user_id, kind, task_id, topic, checked, full_outline, reference_images,
                                      idempotency_key)
        except IntegrityError:
            # Two requests with one Idempotency-Key raced (PostgreSQL runs them concurrently): the other one won.
            shutil.rmtree(self._uploads / task_id, ignore_errors=True)
            async with self._db.read() as s:
                existing = await self._existing(s, user_id, idempotency_key)
            if idempotency_key is None or existing is None:
                raise
            return self._same_request(existing, kind), False
        if task.id != task_id:
            return self._same_request(task, kind), False
        # The stream's first event, there before the stream opens: the task is in line. A queue of busy workers
        # (or a loaded event loop) may take a while to start it, and the client must not face silence meanwhile.
        await self._events.append(task_id, "queued", {"task_id": task_id, "kind": kind, "total": task.total,
                                                      "round": task.round}, dedupe_key=f"queued:{task.round}")
        await self._queue.enqueue(task_id)
        return task, True

    @staticmethod
    def _same_request(existing: Task, kind: str) -> Task:
        if existing.kind != kind:
            raise InvalidInput("idempotency_key_reused", "This Idempotency-Key belongs to another request.")
        return existing

    async def _insert(
        self, user_id: int, kind: str, task_id: str, topic: str, checked: list[PageInput], full_outline: str,
        reference_images: list[tuple[bytes, str]] | None, idempotency_key: str | None,
    ) -> Task:
        """Insert the task and its pages; an existing task with this Idempotency-Key is returned instead."""
        now = utcnow()
        async with self._db.write() as s:
            existing = await self._existing(s, user_id, idempotency_key)
            if existing is not None:
                return existing
            await self._check_capacity(s, user_id)
            if checked and self._quota is not None:
                await self._quota.check(s, user_id, len(checked))
            ref_names = save_reference_images(self._uploads, task_id, reference_images or [])
            task = Task(
                id=task_id, user_id=user_id, kind=kind, status=states.QUEUED, topic=topic, full_outline=full_outline,
                reference_images=ref_names, idempotency_key=idempotency_key, total=len(checked), round=1,
                last_event_id=0, created_at=now, updated_at=now,
                post_copy=post_copy.pending() if kind == states.GENERATE else None,
            )
            s.add(task)
            await s.flush()
            s.add_all(
                Page(task_id=task_id, index=p.index, type=p.type, content=p.content, status=states.PAGE_PENDING,
                     updated_at=now)
                for p in checked
            )
        return task

    # --- reading ---
    async def get(self, user_id: int, task_id: str, kind: str | None = None) -> tuple[Task, list[Page]]:
        """The task and its pages; TaskNotFound also for other users' tasks, so ids cannot be probed."""
        async with self._db.read() as s:
            task = await s.get(Task, task_id)
            if task is None or task.user_id != user_id or (kind is not None and task.kind != kind):
                raise TaskNotFound("No such task.")
            pages = (await s.scalars(select(Page).where(Page.task_id == task_id).order_by(Page.index))).all()
        return task, list(pages)

    async def owner_of(self, task_id: str) -> int | None:
        # A task's owner never changes: every stream open and image request asks, so remember the answers.
        if (owner := self._owners.get(task_id)) is not None:
            self._owners.move_to_end(task_id)
            return owner
        async with self._db.read() as s:
            owner = await s.scalar(select(Task.user_id).where(Task.id == task_id))
        if owner is not None:
            self._owners[task_id] = owner
            if len(self._owners) > _OWNER_CACHE_SIZE:
                self._owners.popitem(last=False)
        return owner

    async def stream_is_over(self, task_id: str, after: int) -> bool:
        """True when the client already holds the log's last event and that event is `finish`."""
        if after < self._events.known_last_id(task_id):
            return False  # the client lacks events this process knows of: no need to ask the database
        last = await self._events.last_id(task_id)
        if last == 0 or after < last:
            return False
        return await self._finish_at(task_id, last) is not None

    async def _finish_at(self, task_id: str, event_id: int) -> StoredEvent | None:
        tail = await self._events.read_after(task_id, event_id - 1, limit=1) if event_id else []
        return tail[0] if tail and tail[0].event == "finish" else None

    async def settled(self, task: Task) -> Task:
        """The task as a client that has seen its `finish` knows it.

        The runner logs `finish` before it changes the status (so a worker dying in between is finished again by
        the sweeper, never left without `finish`); a client acting on that event at once must not be told the task
        is still running, so the status the finish implies is written here too (idempotent, RUNNING only)."""
        if task.status != states.RUNNING or task.kind != states.GENERATE:
            return task
        finish = await self._finish_at(task.id, await self._events.last_id(task.id))
        if finish is None:
            return task
        status = states.final_status(finish.data.get("completed", 0), finish.data.get("failed", 0))
        async with self._db.write() as s:
            await s.execute(
                update(Task).where(Task.id == task.id, Task.status == states.RUNNING)
                .values(status=status, updated_at=utcnow(), finished_at=utcnow())
            )
            return await s.get(Task, task.id) or task

    # --- changing ---
    async def cancel(self, user_id: int, task_id: str) -> Task:
        task, _ = await self.get(user_id, task_id)
        async with self._db.write() as s:
            changed = await s.execute(
                update(Task).where(Task.id == task_id, Task.status.in_(states.ACTIVE))
                .values(status=states.CANCELLED, updated_at=utcnow(), finished_at=utcnow())
            )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise TaskConflict(f"The task is already {task.status}; only queued or running tasks can be cancelled.")
        await self._queue.cancel(task_id)
        _, pages = await self.get(user_id, task_id)  # as they are now, after the runner stopped
        done = [p for p in pages if p.status == states.PAGE_DONE]
        await self._events.append(
            task_id, "finish",
            {"success": False, "cancelled": True, "task_id": task_id, "total": len(pages), "completed": len(done),
             "failed": sum(p.status == states.PAGE_ERROR for p in pages), "images": []},
            dedupe_key=states.finish_key(task.round),
        )
        task.status = states.CANCELLED
        return task

    async def rerun_pages(self, user_id: int, task_id: str, indexes: list[int] | None) -> Task:
        """Queue pages again: the failed ones (indexes None) or the given ones. Only for finished tasks."""
        task, pages = await self.get(user_id, task_id, kind=states.GENERATE)
        task = await self.settled(task)
        if task.status not in states.TERMINAL:
            raise TaskConflict("The task is still running; wait for it to finish or cancel it.")
        known = {p.index for p in pages}
        if indexes is not None and not set(indexes) <= known:
            raise InvalidInput("invalid_page_index", f"This task has pages 0–{len(pages) - 1}.")
        chosen = [p.index for p in pages if p.status == states.PAGE_ERROR] if indexes is None else indexes
        if not chosen:
            raise TaskConflict("No page to retry: every page is done.")
        return await self.start_round(task, chosen)

    async def start_round(self, task: Task, indexes: list[int], copy_state: dict | None = None) -> Task:
        """Queue a finished task again for these pages (and the copy, when `copy_state` is given)."""
        task_id = task.id
        async with self._db.write() as s:
            await self._check_capacity(s, task.user_id)
            if indexes and self._quota is not None:
                await self._quota.check(s, task.user_id, len(indexes))
            if indexes:
                await s.execute(
                    update(Page).where(Page.task_id == task_id, Page.index.in_(indexes))
                    .values(status=states.PAGE_PENDING, error=None, retryable=None, updated_at=utcnow())
                )
            extra = {"post_copy": copy_state} if copy_state is not None else {}
            changed = await s.execute(
                update(Task).where(Task.id == task_id, Task.status.in_(states.TERMINAL)).values(
                    status=states.QUEUED, round=Task.round + 1, updated_at=utcnow(), finished_at=None, **extra
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise TaskConflict("The task is already running again.")
        # An event after the old `finish`: a client resuming from that finish now gets a stream, not a 204.
        task, _ = await self.get(task.user_id, task_id)
        await self._events.append(
            task_id, "retry", {"task_id": task_id, "round": task.round, "indexes": indexes,
                               "copy": copy_state is not None},
            dedupe_key=f"retry:{task.round}",
        )
        await self._queue.enqueue(task_id)
        return task

    async def cancel_any(self, task_id: str) -> Task:
        """An operator's cancel: any user's task."""
        owner = await self.owner_of(task_id)
        if owner is None:
            raise TaskNotFound("No such task.")
        return await self.cancel(owner, task_id)

    async def remove_any(self, task_id: str) -> None:
        """An operator's delete: any user's task, cancelled first when it is still running."""
        owner = await self.owner_of(task_id)
        if owner is None:
            raise TaskNotFound("No such task.")
        try:
            await self.cancel(owner, task_id)
        except TaskConflict:
            pass  # already finished
        await self.delete(owner, task_id)

    async def delete(self, user_id: int, task_id: str) -> None:
        task, _ = await self.get(user_id, task_id)
        if task.status in states.ACTIVE:
            raise TaskConflict("The task is still running; cancel it first.")
        async with self._db.write() as s:
            await s.execute(sql_delete(TaskEvent).where(TaskEvent.task_id == task_id))
            await s.execute(sql_delete(Page).where(Page.task_id == task_id))
            await s.execute(sql_delete(Task).where(Task.id == task_id))
        self._events.forget(task_id)
        self._owners.pop(task_id, None)
        for root in (self._images, self._uploads):
            shutil.rmtree(root / task_id, ignore_errors=True)
