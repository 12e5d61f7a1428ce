"""SQLite's write transactions in one thread hop: a dedicated connection in its own thread runs a whole
transaction (or one step of it) per call, where the async driver needs a hop per statement.

Why: aiosqlite runs each statement, fetch, begin and commit of a connection in that connection's thread and wakes
the event loop for each. One event append (BEGIN IMMEDIATE, UPDATE … RETURNING, INSERT, COMMIT, the pool's
checkout and reset) took 12 such hops; with 1,000 streams sending on the same loop each hop waited behind their
sends, and the embedded publisher fell to a few appends per second (bench/README.md, issue 14). Here the same
statements, compiled by SQLAlchemy Core for the same dialect, run back to back in one call on the writer's thread.

The caller holds the database's write lock (`Database.write_lock`) for the whole transaction, so this
connection and the async sessions never write at the same time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

T = TypeVar("T")


class WriterThread:
    def __init__(self, async_url: str) -> None:
        url = make_url(async_url).set(drivername="sqlite")  # the stdlib sqlite3 driver aiosqlite wraps
        # isolation_level=None: pysqlite's own implicit BEGIN is off, so `begin()` below decides (SQLAlchemy's
        # documented recipe for SQLite transactions); one connection, always used from the one thread.
        self._engine = create_engine(url, poolclass=StaticPool,
                                     connect_args={"timeout": 30, "check_same_thread": False,
                                                   "isolation_level": None})

        @event.listens_for(self._engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
                dbapi_conn.execute(f"PRAGMA {pragma}")

        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: Connection | None = None

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
        return self._conn

    async def run(self, step: Callable[[Connection], T]) -> T:
        """Run `step(connection)` on the writer's thread. The step begins, commits or rolls back as it needs
        (`begin`, `commit`, `rollback` below); the connection keeps an open transaction between steps.

        A step always runs to its end once started: if the caller is cancelled meanwhile, the cancellation waits
        for the step (a commit the caller never heard of would leave memory behind the database)."""
        result, cancelled = await self.run_to_end(step)
        if cancelled:
            raise asyncio.CancelledError
        return result

    async def run_to_end(self, step: Callable[[Connection], T]) -> tuple[T, bool]:
        """As `run`, but a cancellation meanwhile is returned (result, True) for the caller to raise once it has
        dealt with the result."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, lambda: step(self._connection()))
        try:
            return await asyncio.shield(future), False
        except asyncio.CancelledError:
            await asyncio.wait([future])
            return future.result(), True

    async def close(self) -> None:
        def close_connection() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._engine.dispose()

        await asyncio.get_running_loop().run_in_executor(self._executor, close_connection)
        self._executor.shutdown(wait=True)


def begin(conn: Connection) -> None:
    """Start a write transaction, first rolling back one a cancelled caller left open (it never committed)."""
    if conn.in_transaction():
        conn.rollback()
    conn.begin()
    conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now, where the busy timeout applies


def commit(conn: Connection) -> None:
    conn.commit()


def rollback(conn: Connection) -> None:
    if conn.in_transaction():
        conn.rollback()
