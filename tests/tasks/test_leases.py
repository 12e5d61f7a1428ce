"""Page leases on real PostgreSQL + Redis: a lapsed lease is queued again once, a live one is kept, and a worker
that lost its page writes nothing more for it (the fence). The leases here are 1 s long so the tests stay quick;
tests/chaos/test_failover.py runs the same mechanism with the default settings across real worker processes."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from arq.jobs import Job, JobStatus
from PIL import Image
from redis.asyncio import Redis
from sqlalchemy import select, update

from inkstream.errors import LeaseBusy, LeaseLost
from inkstream.events.redis_log import RedisEventLog
from inkstream.events.sql_log import SqlEventLog
from inkstream.generators.base import PageRequest
from inkstream.generators.offline import OfflineWriter
from inkstream.generators.source import FixedGenerators
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.images import ImageStore
from inkstream.storage.tables import Page, Task, User
from inkstream.tasks import states
from inkstream.tasks.leases import RedisLeases
from inkstream.tasks.redis_queue import RedisQueue
from inkstream.tasks.runner import TaskRunner
from inkstream.tasks.worker import requeue_lapsed
from tests.support.server import Backend

TTL = 1.0


@dataclass
class Cluster:
    backend: Backend
    db: Database
    redis: Redis
    events: RedisEventLog
    images: ImageStore


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    backend = await asyncio.to_thread(Backend().create)
    db = Database(backend.database_url.replace("postgresql://", "postgresql+asyncpg://"))
    await db.migrate()
    redis = Redis.from_url(backend.redis_url)
    events = RedisEventLog(SqlEventLog(db), redis, backend.prefix, retention_seconds=60)
    await events.start()
    try:
        yield Cluster(backend, db, redis, events, ImageStore(tmp_path / "images", "k" * 48, 3600))
    finally:
        await events.close()
        await redis.aclose()
        await db.close()
        await asyncio.to_thread(backend.drop)


async def _task(db: Database, pages: int = 1) -> str:
    task_id = uuid.uuid4().hex
    async with db.write() as s:
        user = User(username=f"u{task_id[:8]}", password_hash="x", is_admin=False, created_at=utcnow())
        s.add(user)
        await s.flush()
        s.add(Task(id=task_id, user_id=user.id, kind="generate", status="running", topic="t", full_outline="",
                   reference_images=[], total=pages, round=1, last_event_id=0, created_at=utcnow(),
                   updated_at=utcnow()))
        await s.flush()
        s.add_all(Page(task_id=task_id, index=i, type="content", content=f"page {i}", status="pending",
                       updated_at=utcnow()) for i in range(pages))
    return task_id


class GatedImages:
    """An image API that answers when the test lets it (the remote AI API is the one part tests fake)."""

    name = "gated"

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def generate_image(self, request: PageRequest) -> bytes:
        self.started.set()
        await self.release.wait()
        out = io.BytesIO()
        Image.new("RGB", (6, 8), "red").save(out, format="PNG")
        return out.getvalue()


def _runner(c: Cluster, images: GatedImages, owner: str) -> TaskRunner:
    return TaskRunner(c.db, c.events, c.images, Path("/nonexistent"), FixedGenerators(OfflineWriter(), images), 1,
                      leases=RedisLeases(c.redis, c.backend.prefix, TTL, owner=owner))


async def _events(c: Cluster, task_id: str) -> list[tuple[int, str]]:
    return [(e.id, e.event) for e in await c.events.read_after(task_id, 0)]


async def _page_status(c: Cluster, task_id: str, index: int = 0) -> str:
    async with c.db.read() as s:
        return str(await s.scalar(select(Page.status).where(Page.task_id == task_id, Page.index == index)))


async def _reap_until_lapsed(leases: RedisLeases, within: float) -> list:  # type: ignore[type-arg]
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if lapsed := await leases.reap():
            return lapsed
        await asyncio.sleep(0.05)
    return []


async def test_a_lapsed_lease_is_queued_again_once_under_its_own_job_id(cluster: Cluster) -> None:
    task_id = await _task(cluster.db)
    dead = RedisLeases(cluster.redis, cluster.backend.prefix, TTL, owner="dead-worker")
    lease = dead.hold(task_id, 0, 1)
    await lease.__aenter__()
    started = time.monotonic()
    assert lease._renewer is not None
    lease._renewer.cancel()  # the worker is SIGKILLed: nothing renews its lease any more
    watcher = RedisLeases(cluster.redis, cluster.backend.prefix, TTL, owner="watcher")
    assert await watcher.reap() == []  # not lapsed yet
    queue = RedisQueue(cluster.db, cluster.backend.redis_url, f"{cluster.backend.prefix}:queue")
    try:
        lapsed: list = []  # type: ignore[type-arg]
        deadline = time.monotonic() + 3 * TTL
        while not lapsed and time.monotonic() < deadline:
            lapsed = await requeue_lapsed(watcher, queue)
            await asyncio.sleep(0.05)
        waited = time.monotonic() - started
        assert [(p.task_id, p.index, p.round) for p in lapsed] == [(task_id, 0, 1)]
        assert TTL * 0.9 <= waited <= TTL + 1.0
        assert lapsed[0].job_id == f"page:{task_id}:0:1:lapse{lease.token.split('|')[0]}"
        job = Job(lapsed[0].job_id, await queue._redis(), _queue_name=queue.queue_name)
        assert await job.status() == JobStatus.queued
        assert await watcher.reap() == []  # taken off the watch list: another watcher does not queue it twice
        async with watcher.hold(task_id, 0, 1):  # and the page is free for its next worker
            pass
    finally:
        await queue.stop()


async def test_a_renewing_holder_keeps_its_page_past_the_ttl(cluster: Cluster) -> None:
    task_id = await _task(cluster.db)
    holder = RedisLeases(cluster.redis, cluster.backend.prefix, TTL, owner="alive")
    other = RedisLeases(cluster.redis, cluster.backend.prefix, TTL, owner="other")
    async with holder.hold(task_id, 0, 1) as lease:
        assert await _reap_until_lapsed(other, 2.5 * TTL) == []
        with pytest.raises(LeaseBusy):
            async with other.hold(task_id, 0, 1):
                pass
        await lease.check()


async def test_a_worker_whose_lease_was_taken_over_publishes_nothing(cluster: Cluster) -> None:
    task_id = await _task(cluster.db)
    slow_images = GatedImages()
    stale = _runner(cluster, slow_images, "stale-worker")
    running = asyncio.create_task(stale.run_page(task_id, 0))
    await asyncio.wait_for(slow_images.started.wait(), 10)
    # The stale worker stalled past its TTL and another worker took the page over meanwhile.
    key = f"{cluster.backend.prefix}:lease:{task_id}:0"
    await cluster.redis.set(key, "999999|new-holder", px=30_000)
    slow_images.release.set()
    await asyncio.wait_for(running, 10)  # it ends quietly (LeaseLost is logged, not raised)
    assert [e for _, e in await _events(cluster, task_id)] == ["progress"]  # its `generating`, no `complete`
    assert await _page_status(cluster, task_id) == states.PAGE_GENERATING
    assert not (cluster.images.path(task_id, cluster.images.file_name(0))).exists()
    # The new holder finishes the page: exactly one `complete`.
    await cluster.redis.delete(key)
    fresh_images = GatedImages()
    fresh_images.release.set()
    await _runner(cluster, fresh_images, "new-holder").run_page(task_id, 0)
    assert [e for _, e in await _events(cluster, task_id)] == ["progress", "progress", "complete"]
    assert await _page_status(cluster, task_id) == states.PAGE_DONE


async def test_a_stale_worker_is_refused_inside_the_append_transaction(cluster: Cluster) -> None:
    """The guard runs before the commit: when it refuses, the event is not written and its id is not used."""
    task_id = await _task(cluster.db)
    stale = RedisLeases(cluster.redis, cluster.backend.prefix, TTL, owner="stale")
    async with stale.hold(task_id, 0, 1) as lease:
        await cluster.events.append(task_id, "progress", {"index": 0}, guard=lease.check)
        await cluster.redis.set(f"{cluster.backend.prefix}:lease:{task_id}:0", "999999|new-holder", px=30_000)
        with pytest.raises(LeaseLost):
            await cluster.events.append(task_id, "complete", {"index": 0}, dedupe_key="complete:0:1",
                                        guard=lease.check)
    assert await _events(cluster, task_id) == [(1, "progress")]
    assert await cluster.events.last_id(task_id) == 1
    again = await cluster.events.append(task_id, "complete", {"index": 0}, dedupe_key="complete:0:1")
    assert again.id == 2


async def test_a_busy_page_is_left_to_its_holder(cluster: Cluster) -> None:
    task_id = await _task(cluster.db)
    holder = RedisLeases(cluster.redis, cluster.backend.prefix, TTL, owner="holder")
    async with holder.hold(task_id, 0, 1):
        images = GatedImages()
        images.release.set()
        await _runner(cluster, images, "second").run_page(task_id, 0)
        assert not images.started.is_set()
    assert await _events(cluster, task_id) == []


async def test_a_cancel_committed_while_a_worker_claims_the_task_is_not_overwritten(cluster: Cluster) -> None:
    """Found by tests/api/test_copy.py in the distributed mode: the claim read `queued`, the cancel committed, and
    the claim's write put `running` back — so the cancelled task ran on to `done`. Hold the cancel's transaction
    open while the claim runs, then commit it: the task must stay cancelled and the claim find nothing to do."""
    import asyncpg

    task_id = await _task(cluster.db)
    async with cluster.db.write() as s:
        await s.execute(update(Task).where(Task.id == task_id).values(status=states.QUEUED))
    conn = await asyncpg.connect(cluster.backend.database_url)
    try:
        cancel = conn.transaction()
        await cancel.start()
        await conn.execute("UPDATE tasks SET status = 'cancelled' WHERE id = $1", task_id)
        claim = asyncio.create_task(_runner(cluster, GatedImages(), "w1").claim(task_id))
        await asyncio.sleep(0.5)  # the claim is under way, waiting for the row the cancel holds
        await cancel.commit()
        assert await asyncio.wait_for(claim, 10) is None
    finally:
        await conn.close()
    async with cluster.db.read() as s:
        task = await s.get(Task, task_id)
    assert task is not None and task.status == states.CANCELLED
