"""The event log itself, on SQLite and on PostgreSQL + Redis Streams: ids, dedupe, ordering, fall-back reads."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from inkstream.events import redis_log
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
        log = SqlEventLog(db, single_writer=True)  # as the embedded mode builds it
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


async def test_a_mirror_write_whose_append_never_committed_is_never_read(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    if not isinstance(log, RedisEventLog):
        pytest.skip("only the Redis mirror is written before the commit")
    task_id = await _task(db)
    await log.append(task_id, "progress", {"n": 1})
    # A worker SIGKILLed between its mirror write and its commit: Redis holds id 2, the database does not.
    await log._redis.xadd(log._key(task_id), {"e": "complete", "d": '{"phantom":true}'}, id="0-2")
    assert [e.id for e in await log.read_after(task_id, 0)] == [1]
    assert await log.read_after(task_id, 1) == []
    # The next append takes id 2 for real; readers get it, never the phantom.
    await log.append(task_id, "progress", {"n": 2})
    assert [(e.id, e.data) for e in await log.read_after(task_id, 1)] == [(2, {"n": 2})]
    await log.append(task_id, "progress", {"n": 3})
    assert [e.data["n"] for e in await log.read_after(task_id, 0)] == [1, 2, 3]


async def test_streams_at_one_cursor_share_one_redis_read(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    if not isinstance(log, RedisEventLog):
        pytest.skip("the embedded log reads its tail from memory")
    task_id = await _task(db)
    for n in range(3):
        await log.append(task_id, "progress", {"n": n})
    real_xrange, calls = log._redis.xrange, []

    async def counting_xrange(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args)
        return await real_xrange(*args, **kwargs)

    log._redis.xrange = counting_xrange
    reads = await asyncio.gather(*(log.read_after(task_id, 0) for _ in range(50)))
    assert len(calls) == 1 and all([e.id for e in read] == [1, 2, 3] for read in reads)
    await log.append(task_id, "progress", {"n": 3})  # a read after the shared one finished sees what came since
    assert [e.id for e in await log.read_after(task_id, 0)] == [1, 2, 3, 4] and len(calls) == 2


async def test_single_writer_memory_agrees_with_the_database(tmp_path: Path) -> None:
    """The embedded log answers live readers from memory; what it says must be what the database holds."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    await db.migrate()
    log, plain = SqlEventLog(db, single_writer=True, tail_size=8), SqlEventLog(db)
    try:
        tasks = [await _task(db), await _task(db)]
        await asyncio.gather(*(
            log.append(t, "progress", {"n": n}, dedupe_key=f"k{n // 2}") for n in range(40) for t in tasks
        ))
        for t in tasks:
            assert await log.last_id(t) == await plain.last_id(t) == 20
            for cursor in range(0, 22):
                truth = await plain.read_after(t, cursor, limit=5)
                seen = await log.read_after(t, cursor, limit=5)
                # Memory may return fewer (a batch ends where the remembered tail does), never other events.
                assert bool(seen) == bool(truth) and seen == truth[: len(seen)], cursor
        # Nothing new: the wait says so, so the stream skips its read; something new: it says maybe.
        assert await log.wait(tasks[0], 20, 0.05) is False
        waiter = asyncio.create_task(log.wait(tasks[0], 20, 5))
        await asyncio.sleep(0.05)
        await log.append(tasks[0], "progress", {"n": 99})
        assert await asyncio.wait_for(waiter, 2) is True
        assert [e.id for e in await log.read_after(tasks[0], 20)] == [21]
        # A finished task is read from the database again, like any old one.
        await log.append(tasks[0], "finish", {"success": True})
        assert [e.event for e in await log.read_after(tasks[0], 20)] == ["progress", "finish"]
    finally:
        await log.close()
        await db.close()


@contextlib.asynccontextmanager
async def _two_nodes() -> AsyncIterator[tuple[RedisEventLog, RedisEventLog, Database]]:
    """Two API nodes' event logs (a reader and a writer) on one PostgreSQL database and Redis, both subscribed."""
    backend = await asyncio.to_thread(Backend().create)
    db = Database(backend.database_url.replace("postgresql://", "postgresql+asyncpg://"))
    await db.migrate()
    redis = Redis.from_url(backend.redis_url)
    reader, writer = (RedisEventLog(SqlEventLog(db), redis, backend.prefix, retention_seconds=60) for _ in range(2))
    try:
        for node in (reader, writer):
            await node.start()
        for _ in range(100):
            if reader._subscribed and writer._subscribed:
                break
            await asyncio.sleep(0.05)
        yield reader, writer, db
    finally:
        for node in (reader, writer):
            await node.close()
        await redis.aclose()
        await db.close()
        await asyncio.to_thread(backend.drop)


async def test_distributed_readers_learn_of_news_from_the_doorbell_or_else_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with _two_nodes() as (reader, writer, db):
        task_id = await _task(db)
        await writer.append(task_id, "progress", {"n": 1})
        await asyncio.sleep(0.3)  # its ring arrives (a ring only ever causes a spare read)
        # Quiet and subscribed: the reader's wait says nothing is new, so its stream skips the read.
        assert await reader.wait(task_id, 1, 0.2) is False
        # Rung by another node: woken at once.
        waiter = asyncio.create_task(reader.wait(task_id, 1, 5))
        await asyncio.sleep(0.05)
        await writer.append(task_id, "progress", {"n": 2})
        assert await asyncio.wait_for(waiter, 2) is True
        # An append whose mirror write and ring never happened (its writer lost Redis): the reader still learns of
        # it from the database within the recheck period, and reads it from there.
        monkeypatch.setattr(redis_log, "_RECHECK", 0.3)
        await writer._sql.append_durably(task_id, "progress", {"n": 3})
        seen = False
        for _ in range(30):
            if seen := await reader.wait(task_id, 2, 0.1):
                break
        assert seen
        assert [e.data["n"] for e in await reader.read_after(task_id, 2)] == [3]


@pytest.mark.parametrize("meanwhile", ["rung", "resubscribed"])
async def test_news_during_a_readers_database_question_is_not_hidden_by_its_answer(
    meanwhile: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stream replaying a task this node had not seen asks the database for the newest committed id. An event
    committed while that question is out — rung, or unrung because the doorbell was (re)subscribing, as on a node
    just restarted — must still wake the task's reader at once, not after _RECHECK (30 s)."""
    async with _two_nodes() as (reader, writer, db):
        task_id = await _task(db)
        await writer.append(task_id, "progress", {"n": 1})
        await asyncio.sleep(0.3)
        reader._heads.clear()  # as on a node that starts (or restarts) while the task runs elsewhere
        asked = reader._sql.last_id

        async def answer_then_linger(task: str) -> int:
            head = await asked(task)  # the answer is read now …
            if meanwhile == "rung":  # … and the next event commits and rings …
                await writer.append(task_id, "progress", {"n": 2})
            else:  # … or commits while the doorbell resubscribes, so its ring is missed …
                await writer._sql.append_durably(task_id, "progress", {"n": 2})
                reader._epoch += 1  # what _listen does on (re)subscribing
            await asyncio.sleep(0.3)  # … before the answer arrives
            return head

        monkeypatch.setattr(reader._sql, "last_id", answer_then_linger)
        assert [e.id for e in await reader.read_after(task_id, 0)] == [1]
        monkeypatch.setattr(reader._sql, "last_id", asked)
        assert await reader.wait(task_id, 1, 1.0) is True  # the reader re-reads at once
        assert [e.data["n"] for e in await reader.read_after(task_id, 1)] == [2]
