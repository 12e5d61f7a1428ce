"""EventLog on the relational database (the embedded default): durable rows plus in-process wake-ups."""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from inkstream.events import sql_appends
from inkstream.events.log import TERMINAL_EVENT, Guard, StoredEvent
from inkstream.events.sql_appends import SqliteAppender
from inkstream.storage.database import Database
from inkstream.storage.tables import Task, TaskEvent


class SqlEventLog:
    def __init__(self, db: Database, poll_interval: float | None = None, *, single_writer: bool = False,
                 tail_size: int = 512, tail_tasks: int = 1024) -> None:
        self._db = db
        # single_writer (the embedded mode): every append of every task happens in this process, so the newest id
        # and the newest events of a task can be known from memory: live readers then never touch the database.
        self._single_writer = single_writer
        self._tail_size = tail_size
        self._tail_tasks = tail_tasks
        self._tails: OrderedDict[str, deque[StoredEvent]] = OrderedDict()
        self._last: dict[str, int] = {}
        # Writers in other processes cannot wake our waiters; a poll interval bounds how late they see events.
        self._poll_interval = poll_interval
        self._signals: weakref.WeakValueDictionary[str, asyncio.Event] = weakref.WeakValueDictionary()
        # SQLite: appends in the writer thread, group-committed (events/sql_appends.py).
        writer = db.writer_thread
        self._appender = SqliteAppender(db, writer, self._committed) if writer is not None else None

    async def append(
        self, task_id: str, event: str, data: dict[str, Any], *, dedupe_key: str | None = None,
        guard: Guard | None = None,
    ) -> StoredEvent:
        stored, _ = await self.append_durably(task_id, event, data, dedupe_key=dedupe_key, guard=guard)
        return stored

    async def append_durably(
        self, task_id: str, event: str, data: dict[str, Any], *, dedupe_key: str | None = None,
        before_commit: Callable[[StoredEvent], Awaitable[None]] | None = None, guard: Guard | None = None,
    ) -> tuple[StoredEvent, bool]:
        """Append; returns (event, created). `before_commit` runs while the task row is locked, so a mirror of
        the log (Redis Streams) receives events of one task in id order."""
        if self._appender is not None and before_commit is None:
            return await self._appender.append(task_id, event, data, dedupe_key, guard)
        stored, created = await self._append_in_session(task_id, event, data, dedupe_key, before_commit, guard)
        if created:
            self._committed(task_id, stored)
        return stored, created

    def _committed(self, task_id: str, stored: StoredEvent) -> None:
        if self._single_writer:
            self._remember(task_id, stored)
        self.notify(task_id)

    async def _append_in_session(
        self, task_id: str, event: str, data: dict[str, Any], dedupe_key: str | None,
        before_commit: Callable[[StoredEvent], Awaitable[None]] | None, guard: Guard | None,
    ) -> tuple[StoredEvent, bool]:
        async with self._db.write() as s:
            next_id = (await s.execute(sql_appends.next_id(task_id))).scalar_one()
            if dedupe_key is not None:
                existing = (await s.execute(sql_appends.existing(task_id, dedupe_key))).one_or_none()
                if existing is not None:
                    await s.rollback()  # gives the id back: ids stay gap-free
                    return StoredEvent(existing.id, existing.event, existing.data), False
            if guard is not None:
                await guard()  # raising leaves the `with` block: the transaction rolls back, the id is not used
            stored = StoredEvent(next_id, event, data)
            await s.execute(sql_appends.insert_event(task_id, stored, dedupe_key))
            if before_commit is not None:
                await before_commit(stored)
        return stored, True

    def _remember(self, task_id: str, stored: StoredEvent) -> None:
        self._last[task_id] = max(self._last.get(task_id, 0), stored.id)
        tail = self._tails.get(task_id)
        if tail is None or (tail and tail[-1].id != stored.id - 1):
            tail = self._tails[task_id] = deque(maxlen=self._tail_size)
        tail.append(stored)
        self._tails.move_to_end(task_id)
        while len(self._tails) > self._tail_tasks:
            self._tails.popitem(last=False)
        if stored.event == TERMINAL_EVENT:
            self._last.pop(task_id, None)  # a finished task is read from the database, like any old one
            self._tails.pop(task_id, None)

    def forget(self, task_id: str) -> None:
        """Drop what memory knows of a task whose rows changed behind the log's back (task deleted)."""
        self._last.pop(task_id, None)
        self._tails.pop(task_id, None)

    def notify(self, task_id: str) -> None:
        """Wake this process's readers of `task_id`."""
        signal = self._signals.pop(task_id, None)
        if signal is not None:
            signal.set()

    def notify_all(self) -> None:
        for task_id in list(self._signals.keys()):
            self.notify(task_id)

    def signal_for(self, task_id: str) -> asyncio.Event:
        signal = self._signals.get(task_id)
        if signal is None:
            signal = asyncio.Event()
            self._signals[task_id] = signal
        return signal

    async def read_after(self, task_id: str, after: int, limit: int = 500) -> list[StoredEvent]:
        tail = self._tails.get(task_id)
        if tail and tail[0].id <= after + 1 <= tail[-1].id:
            start = after + 1 - tail[0].id
            return list(itertools.islice(tail, start, start + limit))
        if self._single_writer and self._last.get(task_id) == after:
            return []
        async with self._db.read() as s:
            rows = await s.execute(
                select(TaskEvent.id, TaskEvent.event, TaskEvent.data)
                .where(TaskEvent.task_id == task_id, TaskEvent.id > after)
                .order_by(TaskEvent.id)
                .limit(limit)
            )
            return [StoredEvent(r.id, r.event, r.data) for r in rows]

    def known_last_id(self, task_id: str) -> int:
        return self._last.get(task_id, 0)  # single writer: every append of the task came through here

    async def last_id(self, task_id: str) -> int:
        if task_id in self._last:
            return self._last[task_id]
        async with self._db.read() as s:
            value = await s.scalar(select(Task.last_event_id).where(Task.id == task_id))
        if self._single_writer and value is not None:
            self._last[task_id] = max(self._last.get(task_id, 0), int(value))
        return int(value or 0)

    async def wait(self, task_id: str, after: int, max_wait: float) -> bool:
        signal = self.signal_for(task_id)
        # Checked after taking the signal, so an append landing between the caller's read and now is not missed.
        if await self.last_id(task_id) > after:
            return True
        if self._poll_interval is not None:
            max_wait = min(max_wait, self._poll_interval)
        try:
            # asyncio.timeout, not wait_for: wait_for wraps the wait in a new Task on every call (3.11), and
            # with 1,000 subscribers woken per event that Task churn was a quarter of the server's CPU.
            async with asyncio.timeout(max_wait):
                await signal.wait()
        except TimeoutError:
            # Timed out unsignalled: with every writer in this process nothing can have arrived; otherwise re-read.
            return not self._single_writer or self._poll_interval is not None
        return True

    async def close(self) -> None:
        if self._appender is not None:
            await self._appender.close()
        self.notify_all()
