"""Task queues: the boundary between accepting a task and running it.

The embedded default runs tasks as asyncio tasks in the API process; on start it re-queues every task that a
previous process left unfinished (pages already done are skipped by the runner).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from sqlalchemy import select

from inkstream.storage.database import Database
from inkstream.storage.tables import Task
from inkstream.tasks.runner import TaskRunner
from inkstream.tasks.states import ACTIVE

log = logging.getLogger(__name__)


class TaskQueue(Protocol):
    async def start(self) -> None: ...
    async def enqueue(self, task_id: str) -> None: ...
    async def cancel(self, task_id: str) -> None: ...
    async def stop(self) -> None: ...


class InProcessQueue:
    def __init__(self, db: Database, runner: TaskRunner, max_running: int = 16) -> None:
        self._db = db
        self._runner = runner
        self._slots = asyncio.Semaphore(max_running)
        self._running: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        async with self._db.read() as s:
            unfinished = (
                await s.scalars(select(Task.id).where(Task.status.in_(ACTIVE)).order_by(Task.created_at))
            ).all()
        for task_id in unfinished:
            log.info("resuming unfinished task %s", task_id)
            await self.enqueue(task_id)

    async def enqueue(self, task_id: str) -> None:
        current = self._running.get(task_id)
        if current is not None and not current.done():
            return
        job = asyncio.create_task(self._run(task_id), name=f"task-{task_id}")
        self._running[task_id] = job
        job.add_done_callback(lambda _: self._running.pop(task_id, None) if self._running.get(task_id) is job
                              else None)

    async def _run(self, task_id: str) -> None:
        async with self._slots:
            try:
                await self._runner.run(task_id)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one task must not take the worker down
                log.exception("task %s crashed", task_id)

    async def cancel(self, task_id: str) -> None:
        job = self._running.get(task_id)
        if job is not None:
            job.cancel()

    async def stop(self) -> None:
        jobs = list(self._running.values())
        for job in jobs:
            job.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
