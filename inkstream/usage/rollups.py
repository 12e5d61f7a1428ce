"""Per-minute counters of one API node, added up in memory and written to `metric_rollups` every few seconds.

Each node writes only its own rows (minute, node, name), so nodes never contend for a row, and the dashboard is the
sum over nodes — the same answer from any node, and it survives restarts. A SIGKILLed node loses at most the
counts of its last flush interval. The node also refreshes its row in `node_status` (alive, open streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from inkstream.periodic import run_every
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import MetricRollup, NodeStatus

log = logging.getLogger(__name__)


def node_name(kind: str) -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"[:64]


class Rollups:
    def __init__(self, db: Database, kind: str = "api", *, flush_interval: float = 5.0,
                 open_streams: Callable[[], int] | None = None) -> None:
        self._db = db
        self.node = node_name(kind)
        self._kind = kind
        self._flush_interval = flush_interval
        self._open_streams = open_streams or (lambda: 0)
        self._pending: Counter[tuple[datetime, str]] = Counter()
        self._started = utcnow()
        self._task: asyncio.Task[None] | None = None
        self._minute: tuple[int, datetime] = (-1, utcnow())

    def _current_minute(self) -> datetime:
        """The minute bucket, built once a minute (every stream open and close counts here)."""
        number = int(time.time() // 60)
        if number != self._minute[0]:
            self._minute = (number, datetime.fromtimestamp(number * 60, UTC))
        return self._minute[1]

    def add(self, name: str, value: int = 1) -> None:
        if value:
            self._pending[(self._current_minute(), name[:64])] += value

    async def start(self) -> None:
        await self.flush()
        # A failed flush keeps its counts pending for the next one.
        self._task = asyncio.create_task(run_every(self._flush_interval, self.flush, "writing rollups", log),
                                         name="rollups")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()  # a graceful stop loses nothing

    async def flush(self) -> None:
        pending, self._pending = self._pending, Counter()
        try:
            async with self._db.write() as s:
                for (minute, name), value in sorted(pending.items()):
                    insert = (sqlite_insert if self._db.is_sqlite else pg_insert)(MetricRollup)
                    stmt = insert.values(minute=minute, node=self.node, name=name, value=value)
                    await s.execute(stmt.on_conflict_do_update(
                        index_elements=["minute", "node", "name"], set_={"value": MetricRollup.value + value}))
                now = utcnow()
                status = await s.execute(update(NodeStatus).where(NodeStatus.node == self.node)
                                         .values(updated_at=now, open_streams=self._open_streams()))
                if status.rowcount == 0:  # type: ignore[attr-defined]
                    s.add(NodeStatus(node=self.node, kind=self._kind, started_at=self._started, updated_at=now,
                                     open_streams=self._open_streams()))
        except BaseException:
            self._pending.update(pending)  # not written: keep for the next flush
            raise
