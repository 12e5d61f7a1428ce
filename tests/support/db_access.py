"""Direct SQL on a live server's database (SQLite file or PostgreSQL), for tests that must move time."""

from __future__ import annotations

import asyncio
import sqlite3

from tests.support.server import LiveServer


def run_sql(server: LiveServer, sqlite_sql: str, postgres_sql: str) -> None:
    if server.backend is None:
        with sqlite3.connect(server.data_dir / "inkstream.db") as conn:
            conn.execute(sqlite_sql)
        return
    import asyncpg

    async def run() -> None:
        assert server.backend is not None
        conn = await asyncpg.connect(server.backend.database_url)
        try:
            await conn.execute(postgres_sql)
        finally:
            await conn.close()

    asyncio.run(run())
