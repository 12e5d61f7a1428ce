"""The per-task broadcaster on the real event logs (SQLite embedded; PostgreSQL + Redis Streams distributed):
one reader per task, a slow subscriber closed and resumed without loss, replay joining live without a gap."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

from inkstream.events.broadcast import Broadcaster
from inkstream.events.log import EventLog, StoredEvent
from inkstream.events.stream import FrameCache
from tests.events.test_event_log import _task

N_EVENTS = 60


def _present(stored: StoredEvent) -> dict[str, Any]:
    return stored.data


def _parse(chunk: bytes) -> list[tuple[int, str]]:
    """(id, event) of each event frame in a chunk (heartbeats and comments have no id)."""
    found = []
    for frame in chunk.decode().replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "id" in fields:
            found.append((int(fields["id"]), fields.get("event", "message")))
    return found


def _stream(b: Broadcaster, task_id: str, after: int) -> AsyncIterator[bytes]:
    return b.stream(task_id, after, retry_ms=1000, viewer=1, present=_present)


async def _read_all(stream: AsyncIterator[bytes]) -> list[tuple[int, str]]:
    got: list[tuple[int, str]] = []
    async for chunk in stream:
        got += _parse(chunk)
    return got


async def _publish(log: EventLog, task_id: str, n: int) -> None:
    for i in range(n - 1):
        await log.append(task_id, "progress", {"i": i})
        await asyncio.sleep(0)
    await log.append(task_id, "finish", {"done": True})


class CountingLog:
    """The real log, counting the reads made through it."""

    def __init__(self, inner: EventLog) -> None:
        self.inner = inner
        self.reads = 0

    async def read_after(self, task_id: str, after: int, limit: int = 500) -> list[StoredEvent]:
        self.reads += 1
        return await self.inner.read_after(task_id, after, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def test_one_reader_per_task_serves_every_subscriber(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    task_id = await _task(db)
    counting = CountingLog(log)
    b = Broadcaster(counting, FrameCache(), heartbeat_interval=5)  # type: ignore[arg-type]
    streams = [_stream(b, task_id, 0) for _ in range(50)]
    for s in streams:  # each sent its `retry:` line and is about to join
        await s.__anext__()
    readers = [asyncio.create_task(_read_all(s)) for s in streams]
    async with asyncio.timeout(10):
        while b.subscribers() < 50:  # noqa: ASYNC110 - polling the state, with a deadline
            await asyncio.sleep(0.01)
    reads_before = counting.reads
    for i in range(20):  # one event at a time, each delivered before the next
        await log.append(task_id, "progress", {"i": i})
        await asyncio.sleep(0.05)
    await log.append(task_id, "finish", {})
    results = await asyncio.wait_for(asyncio.gather(*readers), 30)
    assert all([i for i, _ in got] == list(range(1, 22)) for got in results)
    # 21 events to 50 streams: the task's one reader read once per event (twice at most: with the appender in
    # this process, the distributed log's local signal and its doorbell may both wake it), not 50 times.
    assert counting.reads - reads_before <= 2 * 21
    await asyncio.sleep(0)
    assert b.readers() == 0


async def test_a_slow_subscriber_is_closed_and_resumes_without_loss(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    task_id = await _task(db)
    b = Broadcaster(log, FrameCache(), heartbeat_interval=5, buffer_size=8)
    fast, slow = _stream(b, task_id, 0), _stream(b, task_id, 0)
    await fast.__anext__()
    await slow.__anext__()
    fast_reader = asyncio.create_task(_read_all(fast))
    slow_first = asyncio.create_task(slow.__anext__())  # joins, then waits for its first live event
    async with asyncio.timeout(10):
        while b.readers() == 0:  # noqa: ASYNC110 - polling the state, with a deadline
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    publisher = asyncio.create_task(_publish(log, task_id, N_EVENTS))
    got = _parse(await asyncio.wait_for(slow_first, 10))
    # The slow client now stops reading; the fast one gets everything meanwhile, unhindered.
    fast_got = await asyncio.wait_for(fast_reader, 30)
    await publisher
    assert [i for i, _ in fast_got] == list(range(1, N_EVENTS + 1))
    # The slow one gets what its buffer held (contiguous), then its stream ends without `finish`.
    got += await _read_all(slow)
    assert [i for i, _ in got] == list(range(1, len(got) + 1))
    assert len(got) < N_EVENTS and got[-1][1] != "finish"
    # It reconnects with its Last-Event-ID and replays the rest from the log: nothing skipped, nothing twice.
    got += await _read_all(_stream(b, task_id, got[-1][0]))
    assert [i for i, _ in got] == list(range(1, N_EVENTS + 1))
    assert got[-1][1] == "finish"
    assert b.readers() == 0


async def test_replay_hands_over_to_live_without_a_gap_or_a_repeat(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    task_id = await _task(db)
    b = Broadcaster(log, FrameCache(), heartbeat_interval=5, buffer_size=1024)
    n = 150
    rng = random.Random(7)
    publisher = asyncio.create_task(_publish(log, task_id, n))
    joiners: list[tuple[int, asyncio.Task[list[tuple[int, str]]]]] = []
    while not publisher.done():
        # Streams open at random moments, each resuming from a random id it already had.
        cursor = rng.randint(0, await log.last_id(task_id))
        joiners.append((cursor, asyncio.create_task(_read_all(_stream(b, task_id, cursor)))))
        await asyncio.sleep(rng.random() * 0.02)
    assert len(joiners) >= 5
    for cursor, reader in joiners:
        got = await asyncio.wait_for(reader, 30)
        assert [i for i, _ in got] == list(range(cursor + 1, n + 1)), f"from {cursor}"
    assert b.readers() == 0


async def test_a_stream_opened_after_finish_replays_and_ends(event_log) -> None:  # type: ignore[no-untyped-def]
    log, db = event_log
    task_id = await _task(db)
    await _publish(log, task_id, 5)
    b = Broadcaster(log, FrameCache(), heartbeat_interval=5)
    assert [i for i, _ in await _read_all(_stream(b, task_id, 2))] == [3, 4, 5]
    assert b.readers() == 0
