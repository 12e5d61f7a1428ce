"""SQLite appends in the writer thread (storage/writer_thread.py): the same rows as the async session wrote, ids
gap-free whatever happens around them (a guard that refuses, a caller cancelled mid-append, other writers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import NoResultFound

from inkstream.events.log import StoredEvent
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


async def test_appends_arriving_together_commit_together_and_a_failing_one_spares_the_others(db: Database) -> None:
    a, b = await _task(db), await _task(db)
    log = SqlEventLog(db, single_writer=True)
    writer = db.writer_thread
    assert writer is not None
    hops = 0
    run = writer.run

    async def counting_run(step):  # type: ignore[no-untyped-def]
        nonlocal hops
        hops += 1
        return await run(step)

    writer.run = counting_run  # type: ignore[method-assign]
    appends = [log.append_durably(a, "progress", {"n": n}) for n in range(30)]
    appends += [log.append_durably("no-such-task", "progress", {})]
    appends += [log.append_durably(b, "progress", {"n": n}) for n in range(30)]
    appends += [log.append_durably(a, "complete", {"n": n}, dedupe_key="complete:0") for n in range(2)]
    outcomes = await asyncio.gather(*appends, return_exceptions=True)
    assert hops < len(appends) / 4  # group commits, not one transaction each
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], NoResultFound)  # only the append to a task that is not there
    first, again = outcomes[-2:]
    assert first == (again[0], True) and again[1] is False  # type: ignore[index]
    assert [r.id for r in await _rows(db, a)] == list(range(1, 32))
    assert [r.id for r in await _rows(db, b)] == list(range(1, 31))
    assert await log.read_after(b, 0) == [StoredEvent(n + 1, "progress", {"n": n}) for n in range(30)]


async def test_a_caller_cancelled_while_committing_strands_no_append_queued_behind_it(db: Database) -> None:
    task_id = await _task(db)
    log = SqlEventLog(db, single_writer=True)
    first = asyncio.create_task(log.append(task_id, "progress", {"n": 0}))  # commits for the others too
    await asyncio.sleep(0)  # it has taken its batch and is in the writer thread
    others = [asyncio.create_task(log.append(task_id, "progress", {"n": n})) for n in (1, 2)]
    await asyncio.sleep(0)
    first.cancel()
    stored = await asyncio.wait_for(asyncio.gather(*others), 5)
    assert [s.id for s in stored] == [2, 3]
    # The cancelled caller's event was committed all the same, and readers see all three in order.
    assert [(e.id, e.data["n"]) for e in await log.read_after(task_id, 0)] == [(1, 0), (2, 1), (3, 2)]
