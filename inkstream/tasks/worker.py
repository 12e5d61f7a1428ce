"""`inkstream worker`: runs page and outline jobs from the Redis queue (distributed mode), and sweeps.

The sweeper is the safety net that makes the queue's losses harmless: every `sweep_interval` it re-queues each
unfinished page of each active task. Job ids make that idempotent while Redis still knows a job; after Redis lost
the queue (restart without persistence) it brings the work back. The lease watcher, every `lease_check_interval`,
queues again each page whose worker stopped renewing its lease (SIGKILL, lost node): see tasks/leases.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker, func
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from inkstream.config import Settings
from inkstream.services import Core, build_core
from inkstream.storage.tables import Task
from inkstream.tasks import states
from inkstream.tasks.leases import Lapsed, RedisLeases
from inkstream.tasks.redis_queue import RedisQueue
from inkstream.usage.rollups import Rollups

log = logging.getLogger(__name__)


async def run_page(ctx: dict[str, Any], task_id: str, index: int) -> None:
    core: Core = ctx["core"]
    await core.runner.run_page(task_id, index)
    await core.runner.finish_if_complete(task_id)


async def run_copy(ctx: dict[str, Any], task_id: str) -> None:
    core: Core = ctx["core"]
    await core.runner.run_copy(task_id)
    await core.runner.finish_if_complete(task_id)


async def run_outline(ctx: dict[str, Any], task_id: str) -> None:
    await ctx["core"].runner.run_outline(task_id)


async def finish_task(ctx: dict[str, Any], task_id: str) -> None:
    core: Core = ctx["core"]
    if await core.runner.claim(task_id) is not None:
        await core.runner.finish_if_complete(task_id)


async def sweep(core: Core, queue: RedisQueue) -> int:
    """Re-queue the unfinished work of every active task; returns how many page jobs were offered."""
    async with core.db.read() as s:
        active = (await s.scalars(select(Task.id).where(Task.status.in_(states.ACTIVE)))).all()
    offered = 0
    for task_id in active:
        offered += await queue.enqueue_unfinished(task_id)
    return offered


async def requeue_lapsed(leases: RedisLeases, queue: RedisQueue) -> list[Lapsed]:
    """Queue again every page whose lease lapsed; returns them."""
    lapsed = await leases.reap()
    for page in lapsed:
        log.warning("page %s:%s lost its worker (lease lapsed); queueing it again as %s", page.task_id, page.index,
                    page.job_id)
        if page.is_copy:
            await queue.enqueue_copy(page.task_id, page.job_id)
        else:
            await queue.enqueue_page(page.task_id, page.index, page.job_id)
    return lapsed


async def _watch_leases_forever(leases: RedisLeases, queue: RedisQueue, interval: float) -> None:
    while True:
        try:
            await requeue_lapsed(leases, queue)
        except (RedisError, OSError) as exc:
            log.warning("lease check skipped: %s", type(exc).__name__)
        await asyncio.sleep(interval)


async def _sweep_forever(core: Core, queue: RedisQueue, interval: float) -> None:
    while True:
        try:
            await sweep(core, queue)
        except (RedisError, OSError, SQLAlchemyError) as exc:
            # Redis or the database is away (restarting, failing over): the sweeper is what puts the failed page
            # jobs back once it returns, so it must outlive the outage, never end with it.
            log.warning("sweep skipped: %s", type(exc).__name__)
        await asyncio.sleep(interval)


async def serve_worker(settings: Settings) -> None:
    if not settings.distributed:
        raise SystemExit("inkstream worker needs INKSTREAM_REDIS_URL (the embedded mode runs jobs in `serve`)")
    core = await build_core(settings)
    queue = RedisQueue(core.db, settings.redis_url, settings.queue_name)
    alive = Rollups(core.db, "worker", flush_interval=settings.rollup_flush_interval)  # the dashboard sees us
    await alive.start()
    sweeper = asyncio.create_task(_sweep_forever(core, queue, settings.sweep_interval))
    assert isinstance(core.leases, RedisLeases)  # the distributed mode always builds them
    watcher = asyncio.create_task(_watch_leases_forever(core.leases, queue, settings.lease_check_interval))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    try:
        while not stop.is_set():
            worker = Worker(
                functions=[func(run_page, name="run_page"), func(run_outline, name="run_outline"),
                           func(run_copy, name="run_copy"), func(finish_task, name="finish_task")],
                redis_settings=redis_settings, queue_name=settings.queue_name, ctx={"core": core},
                max_jobs=settings.worker_concurrency, job_timeout=settings.page_timeout + 5, keep_result=0,
                poll_delay=0.1, max_tries=20, handle_signals=False,
            )
            run = asyncio.create_task(worker.main())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({run, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if run.done() and run.exception() is not None:
                # Redis went away: arq's loop ends; start a fresh one once Redis answers again.
                log.warning("worker loop ended (%s); restarting", type(run.exception()).__name__)
                await asyncio.sleep(1)
            run.cancel()
            stopped.cancel()
            with contextlib.suppress(BaseException):
                await worker.close()
    finally:
        sweeper.cancel()
        await alive.close()
        watcher.cancel()
        await queue.stop()
        await core.close()
