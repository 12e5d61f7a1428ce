"""DeltaWriter on the real event logs: streamed text becomes few, ordered `*_delta` events that add up exactly."""

from __future__ import annotations

import asyncio
import time

from inkstream.tasks.deltas import DeltaWriter
from tests.events.test_event_log import _task, event_log  # noqa: F401

TEXT = "秋天的第一杯奶茶🧋要怎么选？" * 20


async def test_chunks_are_coalesced_to_at_most_one_event_per_interval(event_log) -> None:  # type: ignore[no-untyped-def]  # noqa: F811,E501
    log, db = event_log
    task_id = await _task(db)
    writer = DeltaWriter(log, task_id, "outline_delta", interval=0.1)
    started = time.monotonic()
    for i in range(0, len(TEXT), 3):
        await writer.write(TEXT[i:i + 3])
        await asyncio.sleep(0.005)
    await writer.close()
    elapsed = time.monotonic() - started
    events = await log.read_after(task_id, 0)
    assert "".join(e.data["text"] for e in events) == TEXT
    assert {e.event for e in events} == {"outline_delta"}
    # Only a run's first delta says `reset` (a run repeated after a crash starts its text over).
    assert [bool(e.data.get("reset")) for e in events] == [True] + [False] * (len(events) - 1)
    assert 2 <= len(events) <= elapsed / 0.1 + 2  # streamed as it came, not one row per chunk
    assert [e.id for e in events] == list(range(1, len(events) + 1))


async def test_text_does_not_wait_for_the_next_chunk(event_log) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    log, db = event_log
    task_id = await _task(db)
    writer = DeltaWriter(log, task_id, "copy_delta", interval=0.1)
    await writer.write("第一段")
    await writer.write("还在缓冲")  # within the interval: held back
    deadline = time.monotonic() + 2
    while len(await log.read_after(task_id, 0)) < 2:
        assert time.monotonic() < deadline, "buffered text was never sent"
        await asyncio.sleep(0.02)
    sent = [e.data for e in await log.read_after(task_id, 0)]
    assert sent == [{"text": "第一段", "reset": True}, {"text": "还在缓冲"}]
    await writer.close()
    assert len(await log.read_after(task_id, 0)) == 2  # nothing left, nothing doubled


async def test_restart_marks_the_next_delta(event_log) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    log, db = event_log
    task_id = await _task(db)
    writer = DeltaWriter(log, task_id, "copy_delta", interval=0.05)
    await writer.write("坏掉的 JSON {")
    await writer.close()
    await writer.restart()
    await writer.write('{"titles"')
    await writer.close()
    events = await log.read_after(task_id, 0)
    assert [e.data for e in events] == [{"text": "坏掉的 JSON {", "reset": True}, {"text": '{"titles"', "reset": True}]


async def test_abandon_drops_the_pending_text(event_log) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    log, db = event_log
    task_id = await _task(db)
    writer = DeltaWriter(log, task_id, "copy_delta", interval=0.1)
    await writer.write("发出去")
    await writer.write("还没发")  # held back by the interval, as when the task is cancelled right now
    writer.abandon()
    await asyncio.sleep(0.3)
    assert [e.data["text"] for e in await log.read_after(task_id, 0)] == ["发出去"]
