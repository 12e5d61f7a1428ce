"""EventLog on the relational database (the embedded default): durable rows plus in-process wake-ups."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update

from inkstream.events.log import StoredEvent
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import Task, TaskEvent


class SqlEventLog:
    def __init__(self, db: Database, poll_interval: float | None = None) -> None:
        self._db = db
        # Writers in other processes cannot wake our waiters; a poll interval bounds how late they see events.
        self._poll_interval = poll_interval
        self._signals: weakref.WeakValueDictionary[str, asyncio.Event] = weakref.WeakValueDictionary()

    async def append(
        self, task_id: str, event: str, data: dict[str, Any], *, dedupe_key: str | None = None
    ) -> StoredEvent:
        stored, _ = await self.append_durably(task_id, event, data, dedupe_key=dedupe_key)
        return stored

    async def append_durably(
        self, task_id: str, event: str, data: dict[str, Any], *, dedupe_key: str | None = None,
        before_commit: Callable[[StoredEvent], Awaitable[None]] | None = None,
    ) -> tuple[StoredEvent, bool]:
        """Append; returns (event, created). `before_commit` runs while the task row is locked, so a mirror of
        the log (Redis Streams) receives events of one task in id order."""
        async with self._db.write() as s:
            # Taking the next id first locks the task row, so concurrent appends of one task serialise here
            # and the dedupe check below sees every committed event.
            next_id = (
                await s.execute(
                    update(Task)
                    .where(Task.id == task_id)
                    .values(last_event_id=Task.last_event_id + 1)
                    .returning(Task.last_event_id)
                )
            ).scalar_one()
            if dedupe_key is not None:
                existing = (
                    await s.execute(
                        select(TaskEvent.id, TaskEvent.event, TaskEvent.data)
                        .where(TaskEvent.task_id == task_id, TaskEvent.dedupe_key == dedupe_key)
                    )
                ).one_or_none()
                if existing is not None:
                    await s.rollback()  # gives the id back: ids stay gap-free
                    return StoredEvent(existing.id, existing.event, existing.data), False
            stored = StoredEvent(next_id, event, data)
            s.add(
                TaskEvent(
                    task_id=task_id, id=next_id, event=event, data=data, dedupe_key=dedupe_key, created_at=utcnow()
                )
            )
            if before_commit is not None:
                await before_commit(stored)
        self.notify(task_id)
        return stored, True

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
        async with self._db.read() as s:
            rows = await s.execute(
                select(TaskEvent.id, TaskEvent.event, TaskEvent.data)
                .where(TaskEvent.task_id == task_id, TaskEvent.id > after)
                .order_by(TaskEvent.id)
                .limit(limit)
            )
            return [StoredEvent(r.id, r.event, r.data) for r in rows]

    async def last_id(self, task_id: str) -> int:
        async with self._db.read() as s:
            value = await s.scalar(select(Task.last_event_id).where(Task.id == task_id))
            return int(value or 0)

    async def wait(self, task_id: str, after: int, max_wait: float) -> None:
        signal = self.signal_for(task_id)
        # Checked after taking the signal, so an append landing between the caller's read and now is not missed.
        if await self.last_id(task_id) > after:
            return
        if self._poll_interval is not None:
            max_wait = min(max_wait, self._poll_interval)
        try:
            await asyncio.wait_for(signal.wait(), max_wait)
        except TimeoutError:
            pass

    async def close(self) -> None:
        self.notify_all()
