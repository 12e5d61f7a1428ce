"""Database engine and sessions; migrations are applied on start."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
WRITE_OPTION = "inkstream_write"  # execution option of Database.write() sessions: BEGIN IMMEDIATE on SQLite


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # The same 15 connections as the default pool (5 + 10 overflow), but all kept: an overflow connection is
        # closed on return, and re-opening one costs a thread and four PRAGMAs (a third of a stream open's time).
        engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=15, max_overflow=0)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets the stream read while the worker writes; foreign keys are off by default in SQLite.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            # A write transaction takes the write lock at BEGIN, where SQLite's busy handler waits (and retries)
            # up to busy_timeout for another process's writer. A deferred one that read first would instead fail
            # at its first write with SQLITE_BUSY at once when that writer committed meanwhile (stale snapshot).
            # Reads keep the driver's behaviour (no BEGIN for a SELECT: one round trip fewer per read session); the
            # driver sees the open transaction and issues no BEGIN of its own before the writes.
            if conn.get_execution_options().get(WRITE_OPTION):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def migrate(url: str) -> None:
    """Bring the schema to the newest revision (runs Alembic in a thread: its env.py drives its own loop)."""
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
