"""The event log itself, on SQLite and on PostgreSQL + Redis Streams: ids, dedupe, ordering, fall-back reads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from inkstream.events.log import EventLog
from inkstream.events.redis_log import RedisEventLog
from inkstream.events.sql_log import SqlEventLog
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import Task, User
from tests.support.server import Backend


@pytest.fixture(params=["sqlite", "postgres+redis"])
async def event_log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[EventLog, Database]]:
    backend = await asyncio.to_thread(Backend().create) if request.param != "sqlite" else None
    url = backend.database_url if backend else f"sqlite+aiosqlite:///{tmp_path / 'log.db'}"
    db = Database(url.replace("postgresql://", "postgresql+asyncpg://"))
    await db.migrate()
    redis = Redis.from_url(backend.redis_url) if backend else None
    log: EventLog
    if backend and redis:
        redis_log = RedisEventLog(SqlEventLog(db), redis, backend.prefix, retention_seconds=60)
        await redis_log.start()
        log = redis_log
    else:
        log = SqlEventLog(db)
    try:
        yield log, db
    finally:
        await log.close()
        if redis:
            await redis.aclose()
        await db.close()
        if backend:
            await asyncio.to_thread(backend.drop)


async def _task(db: Database) -> str:
    task_id = uuid.uuid4().hex
    async with db.write() as s:
        user = User(username=f"u{task_id[:8]}", password_hash="x", is_admin=False, created_at=utcnow())
        s.add(user)
        await s.flush()
        s.add(Task(id=task_id, user_id=user.id, kind="generate", status="running", topic="t", full_outline="",
                   reference_images=[], total=0, round=1, last_event_id=0, created_at=utcnow(), updated_at=utcnow()))
    return task_id


async def test_concurrent_appends_get_gap_free_ids_in_order(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    task_id = await _task(db)
    stored = await asyncio.gather(*(log.append(task_id, "progress", {"n": n}) for n in range(40)))
    assert sorted(e.id for e in stored) == list(range(1, 41))
    read = await log.read_after(task_id, 0)
    assert [e.id for e in read] == list(range(1, 41))
    assert {e.data["n"] for e in read} == set(range(40))
    assert [e.id for e in await log.read_after(task_id, 37)] == [38, 39, 40]
    assert await log.last_id(task_id) == 40


async def test_dedupe_key_returns_the_first_event_and_leaves_no_gap(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    task_id = await _task(db)
    first = await log.append(task_id, "complete", {"index": 3}, dedupe_key="complete:3:1")
    again = await log.append(task_id, "complete", {"index": 3, "second": True}, dedupe_key="complete:3:1")
    assert again == first
    nxt = await log.append(task_id, "finish", {})
    assert nxt.id == first.id + 1
    assert [e.event for e in await log.read_after(task_id, 0)] == ["complete", "finish"]


async def test_wait_wakes_on_append_and_times_out_otherwise(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    task_id = await _task(db)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await log.wait(task_id, 0, 0.3)
    assert loop.time() - started >= 0.25
    waiter = asyncio.create_task(log.wait(task_id, 0, 10))
    await asyncio.sleep(0.1)
    started = loop.time()
    await log.append(task_id, "progress", {})
    await asyncio.wait_for(waiter, 5)
    assert loop.time() - started < 2


async def test_redis_mirror_loss_falls_back_to_the_database(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    if not isinstance(log, RedisEventLog):
        pytest.skip("only the Redis mirror can be lost")
    task_id = await _task(db)
    for n in range(5):
        await log.append(task_id, "progress", {"n": n})
    await log._redis.delete(log._key(task_id))  # what a Redis restart without persistence does
    await log.append(task_id, "progress", {"n": 5})  # the mirror restarts at id 6: a gap before it
    assert [e.id for e in await log.read_after(task_id, 0)] == [1, 2, 3, 4, 5, 6]
    assert [e.id for e in await log.read_after(task_id, 5)] == [6]
