"""SQLite appends in the writer thread (storage/writer_thread.py): the same rows as the async session wrote, ids
gap-free whatever happens around them (a guard that refuses, a caller cancelled mid-append, other writers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from inkstream.events.sql_log import SqlEventLog
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import TaskEvent, User
from tests.events.test_event_log import _task


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    await database.migrate()
    yield database
    await database.close()


async def _rows(db: Database, task_id: str) -> list[TaskEvent]:
    async with db.read() as s:
        return list((await s.scalars(select(TaskEvent).where(TaskEvent.task_id == task_id)
                                     .order_by(TaskEvent.id))).all())


async def test_rows_read_back_as_the_async_session_wrote_them(db: Database) -> None:
    task_id = await _task(db)
    log = SqlEventLog(db, single_writer=True)
    data = {"text": "秋天的第一杯奶茶 🍂", "nested": {"n": [1, 2.5, None, True]}}
    stored = await log.append(task_id, "progress", data, dedupe_key="page:0")
    [row] = await _rows(db, task_id)
    assert (row.id, row.event, row.data, row.dedupe_key) == (stored.id, "progress", data, "page:0")
    assert isinstance(row.created_at, datetime)
    assert await SqlEventLog(db).read_after(task_id, 0) == [stored]  # what a reader in another process sees


async def test_a_refusing_guard_writes_nothing_and_keeps_ids_gap_free(db: Database) -> None:
    task_id = await _task(db)
    log = SqlEventLog(db, single_writer=True)

    async def refuse() -> None:
        raise PermissionError("lease lost")

    async def allow() -> None:
        await asyncio.sleep(0)

    await log.append(task_id, "progress", {"n": 1})
    with pytest.raises(PermissionError):
        await log.append(task_id, "progress", {"n": 2}, guard=refuse)
    third = await log.append(task_id, "progress", {"n": 3}, guard=allow)
    assert third.id == 2
    assert [(r.id, r.data["n"]) for r in await _rows(db, task_id)] == [(1, 1), (2, 3)]


async def test_an_append_cancelled_in_its_guard_leaves_no_transaction_open(db: Database) -> None:
    task_id = await _task(db)
    log = SqlEventLog(db, single_writer=True)
    entered = asyncio.Event()

    async def slow_guard() -> None:
        entered.set()
        await asyncio.sleep(30)

    pending = asyncio.create_task(log.append(task_id, "progress", {"n": 1}, guard=slow_guard))
    await asyncio.wait_for(entered.wait(), 5)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    # The write lock and the connection are free again, and the cancelled append used no id.
    stored = await asyncio.wait_for(log.append(task_id, "progress", {"n": 2}), 5)
    assert stored.id == 1
    async with db.write() as s:  # the async sessions can write too (no transaction left holding SQLite's lock)
        s.add(User(username="after-cancel", password_hash="x", is_admin=False, created_at=utcnow()))
    assert [r.data["n"] for r in await _rows(db, task_id)] == [2]


async def test_appends_and_session_writes_interleave_without_errors(db: Database) -> None:
    task_id = await _task(db)
    log = SqlEventLog(db, single_writer=True)

    async def session_writes() -> None:
        for n in range(30):
            async with db.write() as s:
                s.add(User(username=f"writer-{n}", password_hash="x", is_admin=False, created_at=utcnow()))

    await asyncio.gather(session_writes(), *(log.append(task_id, "progress", {"n": n}) for n in range(60)))
    assert [r.id for r in await _rows(db, task_id)] == list(range(1, 61))
    assert await SqlEventLog(db).last_id(task_id) == 60
