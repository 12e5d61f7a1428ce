"""The SQL of one event append, and SQLite appends in the writer thread (storage/writer_thread.py), group-committed.

One append: the next id (UPDATE … RETURNING on the task row, which serialises a task's appends), the dedupe check,
the INSERT. On SQLite the whole transaction runs in one thread hop instead of twelve event-loop wake-ups, and
appends that arrive while a transaction commits are committed together in the next one: with a busy event loop
(1,000 streams to feed) each wake-up is costly, and a batch of events reaches each stream in one send.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Insert, Select, Update, insert, select, update

from inkstream.events.log import Guard, StoredEvent
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import Task, TaskEvent
from inkstream.storage.writer_thread import WriterThread, begin, commit, rollback


def next_id(task_id: str) -> Update:
    return update(Task).where(Task.id == task_id).values(last_event_id=Task.last_event_id + 1) \
        .returning(Task.last_event_id)


def existing(task_id: str, dedupe_key: str) -> Select:  # type: ignore[type-arg]
    return select(TaskEvent.id, TaskEvent.event, TaskEvent.data) \
        .where(TaskEvent.task_id == task_id, TaskEvent.dedupe_key == dedupe_key)


def insert_event(task_id: str, stored: StoredEvent, dedupe_key: str | None) -> Insert:
    return insert(TaskEvent).values(task_id=task_id, id=stored.id, event=stored.event, data=stored.data,
                                    dedupe_key=dedupe_key, created_at=utcnow())


def _take_id(conn: Connection, task_id: str, event: str, data: dict[str, Any],
             dedupe_key: str | None) -> tuple[StoredEvent, bool]:
    """In an open transaction: the event with its new id, or (when its dedupe key is logged) the logged one."""
    new_id = conn.execute(next_id(task_id)).scalar_one()
    if dedupe_key is not None:
        found = conn.execute(existing(task_id, dedupe_key)).one_or_none()
        if found is not None:
            return StoredEvent(found.id, found.event, found.data), False
    return StoredEvent(new_id, event, data), True


@dataclass(eq=False)
class _Pending:
    task_id: str
    event: str
    data: dict[str, Any]
    dedupe_key: str | None
    done: asyncio.Future[tuple[StoredEvent, bool]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


Committed = Callable[[str, StoredEvent], None]


class SqliteAppender:
    def __init__(self, db: Database, writer: WriterThread, committed: Committed) -> None:
        self._db = db
        self._writer = writer
        self._committed = committed  # called for each new event once it is durable, in id order
        self._queue: list[_Pending] = []
        self._flushing = False
        self._flusher: asyncio.Task[None] | None = None

    async def append(self, task_id: str, event: str, data: dict[str, Any], dedupe_key: str | None,
                     guard: Guard | None) -> tuple[StoredEvent, bool]:
        if guard is not None:
            return await self._append_guarded(task_id, event, data, dedupe_key, guard)
        pending = _Pending(task_id, event, data, dedupe_key)
        self._queue.append(pending)
        if not self._flushing:
            await self._flush()  # in the caller's own task: no task to start, no extra wake-up of the loop
        return await pending.done

    async def _flush(self) -> None:
        """Commit what is queued, batch after batch (appends that arrive while one commits form the next).
        Two flushes at once are harmless: each takes its batch under the write lock, in arrival order."""
        self._flushing = True
        try:
            while self._queue:
                async with self._db.write_lock():
                    batch, self._queue = self._queue, []
                    try:
                        outcomes, cancelled = await self._writer.run_to_end(functools.partial(_commit_batch,
                                                                                              batch=batch))
                    except Exception as exc:  # the commit itself failed: none of the batch is written
                        outcomes, cancelled = [exc] * len(batch), False
                self._settle(batch, outcomes)
                if cancelled:
                    raise asyncio.CancelledError
        finally:
            self._flushing = False
            if self._queue:  # this caller was cancelled: a task of its own commits the appends queued behind it
                self._flusher = asyncio.create_task(self._flush(), name="sqlite-appends")

    def _settle(self, batch: list[_Pending], outcomes: list[tuple[StoredEvent, bool] | Exception]) -> None:
        for pending, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                if not pending.done.done():
                    pending.done.set_exception(outcome)
                continue
            if outcome[1]:
                self._committed(pending.task_id, outcome[0])
            if not pending.done.done():  # its caller may have been cancelled: the event is logged all the same
                pending.done.set_result(outcome)

    async def _append_guarded(self, task_id: str, event: str, data: dict[str, Any], dedupe_key: str | None,
                              guard: Guard) -> tuple[StoredEvent, bool]:
        """Two hops around the guard, which must see the id taken and nothing committed yet."""

        def take_id(conn: Connection) -> tuple[StoredEvent, bool]:
            begin(conn)
            outcome = _take_id(conn, task_id, event, data, dedupe_key)
            if not outcome[1]:
                rollback(conn)  # gives the id back: ids stay gap-free
            return outcome

        def insert_and_commit(conn: Connection, stored: StoredEvent) -> None:
            conn.execute(insert_event(task_id, stored, dedupe_key))
            commit(conn)

        async with self._db.write_lock():
            stored, created = await self._writer.run(take_id)
            if not created:
                return stored, False
            try:
                await guard()  # raising rolls the transaction back: the id is not used
                await self._writer.run(lambda conn: insert_and_commit(conn, stored))
            except BaseException:
                await self._writer.run(rollback)
                raise
        self._committed(task_id, stored)
        return stored, True

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)


def _commit_batch(conn: Connection, *, batch: list[_Pending]) -> list[tuple[StoredEvent, bool] | Exception]:
    """One transaction for the whole batch, each append in its own savepoint: one that fails (its task was
    deleted) or finds its dedupe key takes nothing back from the others, and gives its id back."""
    outcomes: list[tuple[StoredEvent, bool] | Exception] = []
    begin(conn)
    try:
        for pending in batch:
            savepoint = conn.begin_nested()
            try:
                stored, created = _take_id(conn, pending.task_id, pending.event, pending.data, pending.dedupe_key)
                if created:
                    conn.execute(insert_event(pending.task_id, stored, pending.dedupe_key))
                    savepoint.commit()
                else:
                    savepoint.rollback()
                outcomes.append((stored, created))
            except Exception as exc:  # noqa: BLE001 — handed to that append's caller
                savepoint.rollback()
                outcomes.append(exc)
        commit(conn)
    except BaseException:
        rollback(conn)
        raise
    return outcomes
