"""The Database handle the rest of the service uses: sessions for reading and for writing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from sqlalchemy import Connection, Executable
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from inkstream.storage import writer_thread
from inkstream.storage.db import WRITE_OPTION, create_engine, migrate, session_factory
from inkstream.storage.writer_thread import WriterThread


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine: AsyncEngine = create_engine(url)
        self._sessions = session_factory(self.engine)
        # SQLite allows one writer; a deferred transaction that reads, then writes, fails at once with
        # SQLITE_BUSY_SNAPSHOT when another writer committed in between (the busy timeout does not apply).
        # Serialising this process's writers avoids that; the embedded mode is a single process by design.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        self._writer_thread: WriterThread | None = None

    @property
    def writer_thread(self) -> WriterThread | None:
        """SQLite: the connection that runs a write transaction in one thread hop (storage/writer_thread.py).
        Use it under `write_lock()`. None for PostgreSQL, whose async driver needs no thread."""
        if self.is_sqlite and self._writer_thread is None:
            self._writer_thread = WriterThread(self.url)
        return self._writer_thread

    def write_lock(self) -> asyncio.Lock | nullcontext[None]:
        """Held by every writer of this process for its whole transaction (SQLite has one writer)."""
        return self._write_lock or nullcontext()

    async def migrate(self) -> None:
        await migrate(self.url)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction that commits on success and rolls back on error."""
        async with self.write_lock(), self._sessions() as session, session.begin():
            if self.is_sqlite:
                await session.connection(execution_options={WRITE_OPTION: True})
            yield session

    async def execute(self, statement: Executable) -> None:
        """One write statement in its own transaction. SQLite: in the writer thread, one hop where a session
        takes about six (the page runner's status updates sit between a new task and its first event)."""
        writer = self.writer_thread
        if writer is None:
            async with self.write() as s:
                await s.execute(statement)
            return

        def step(conn: Connection) -> None:
            writer_thread.begin(conn)
            try:
                conn.execute(statement)
            except BaseException:
                writer_thread.rollback(conn)
                raise
            writer_thread.commit(conn)

        async with self.write_lock():
            await writer.run(step)

    async def close(self) -> None:
        if self._writer_thread is not None:
            await self._writer_thread.close()
            self._writer_thread = None
        await self.engine.dispose()
