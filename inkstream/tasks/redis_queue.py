"""The distributed queue: one arq job per page (or outline, or post copy) in Redis, run by `inkstream worker`s.

arq because it is asyncio-native and small, its job ids make enqueueing idempotent (a page job is
`page:<task>:<index>:<round>`). arq has no heartbeats: a job whose worker died stays "in progress" until its
timeout (page_timeout, ten minutes), so the page's own lease (tasks/leases.py) is what brings it back within
seconds, as a job `page:<task>:<index>:<round>:lapse<n>`. Redis may lose the queue (a restart without persistence): the
workers' sweeper re-enqueues every unfinished page of every active task, and job ids keep that from doubling work.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from redis.exceptions import RedisError
from sqlalchemy import select

from inkstream.storage.database import Database
from inkstream.storage.tables import Page, Task
from inkstream.tasks import post_copy, states

log = logging.getLogger(__name__)


def page_job_id(task_id: str, index: int, round_: int) -> str:
    return f"page:{task_id}:{index}:{round_}"


def outline_job_id(task_id: str, round_: int) -> str:
    return f"outline:{task_id}:{round_}"


class RedisQueue:
    def __init__(self, db: Database, redis_url: str, queue_name: str) -> None:
        self._db = db
        self._settings = RedisSettings.from_dsn(redis_url)
        self._settings.conn_timeout = 2
        self.queue_name = queue_name
        self._pool: ArqRedis | None = None

    async def _redis(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(self._settings, default_queue_name=self.queue_name)
        return self._pool

    async def start(self) -> None:
        """Nothing to resume here: the workers' sweeper owns recovery."""

    async def enqueue(self, task_id: str) -> None:
        """Queue every unfinished page (or the outline) of the task. Failures are logged, not raised: the task is
        already committed, and the sweeper will queue it once Redis answers."""
        try:
            await self.enqueue_unfinished(task_id)
        except (RedisError, OSError) as exc:
            log.warning("could not queue task %s now (%s); the sweeper will", task_id, type(exc).__name__)

    async def enqueue_unfinished(self, task_id: str) -> int:
        async with self._db.read() as s:
            task = await s.get(Task, task_id)
            if task is None or task.status not in states.ACTIVE:
                return 0
            indexes = (
                await s.scalars(
                    select(Page.index).where(
                        Page.task_id == task_id, Page.status.in_((states.PAGE_PENDING, states.PAGE_GENERATING))
                    )
                )
            ).all()
        redis = await self._redis()
        if task.kind == states.OUTLINE:
            await redis.enqueue_job("run_outline", task_id, _job_id=outline_job_id(task_id, task.round))
            return 1
        copy_due = post_copy.is_due(task)
        if copy_due:
            await redis.enqueue_job("run_copy", task_id, _job_id=f"copy:{task_id}:{task.round}")
        for index in indexes:
            await redis.enqueue_job("run_page", task_id, index, _job_id=page_job_id(task_id, index, task.round))
        if not indexes and not copy_due:  # all work done but `finish` was not written (a worker died in between)
            await redis.enqueue_job("finish_task", task_id, _job_id=f"finish:{task_id}:{task.round}")
        return len(indexes) + copy_due

    async def enqueue_page(self, task_id: str, index: int, job_id: str) -> None:
        """Queue a page that lost its worker ahead of the queue (arq orders by due time): it has waited already.
        An hour back, not more: arq derives the job key's expiry from it."""
        redis = await self._redis()
        await redis.enqueue_job("run_page", task_id, index, _job_id=job_id,
                                _defer_until=datetime.now(UTC) - timedelta(hours=1))

    async def enqueue_copy(self, task_id: str, job_id: str) -> None:
        """Queue a post copy that lost its worker, ahead of the queue (as enqueue_page)."""
        redis = await self._redis()
        await redis.enqueue_job("run_copy", task_id, _job_id=job_id,
                                _defer_until=datetime.now(UTC) - timedelta(hours=1))

    async def cancel(self, task_id: str) -> None:
        """Queued page jobs of a cancelled task find it inactive and do nothing."""

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
