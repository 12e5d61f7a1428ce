"""SQLite with a second writer process on the same file (an admin's `inkstream user create`, a backup script):
the service's read-then-write transactions wait for the lock and retry instead of failing with "database is
locked" (SQLITE_BUSY, which the busy timeout does not cover for a deferred transaction whose snapshot went stale)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from inkstream.storage.database import Database
from inkstream.storage.tables import User
from tests.support.client import new_account
from tests.support.server import LiveServer


def _other_writer(db_path: Path, stop: threading.Event, hold: float) -> int:
    """Another process's writes, back to back: each holds the write lock for `hold` seconds, then lets go as long."""
    conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    commits = 0
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO users (username, password_hash, is_admin, created_at) "
                     "VALUES ('zz_other_writer', 'x', 0, '2026-01-01T00:00:00')")
        time.sleep(hold)
        conn.execute("DELETE FROM users WHERE username = 'zz_other_writer'")
        conn.execute("COMMIT")
        commits += 1
        time.sleep(hold)
    conn.close()
    return commits


def test_a_second_writer_on_the_sqlite_file_causes_waits_not_errors(tmp_path: Path) -> None:
    live = LiveServer(tmp_path / "data", max_running_tasks_per_user=1000).start()
    stop = threading.Event()
    try:
        with httpx.Client(base_url=live.url, timeout=60) as http, ThreadPoolExecutor(9) as pool:
            accounts = [new_account(http) for _ in range(4)]
            writer = pool.submit(_other_writer, tmp_path / "data" / "inkstream.db", stop, 0.02)

            def churn(account_index: int) -> list[int]:
                account = accounts[account_index]
                statuses = []
                with httpx.Client(base_url=live.url, timeout=60) as own:
                    for _ in range(10):  # refresh: read the token, then rotate it (read-then-write)
                        r = own.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
                        statuses.append(r.status_code)
                        if r.status_code == 200:
                            account.refresh_token = r.json()["refresh_token"]
                            account.access_token = r.json()["access_token"]
                        r = own.post("/api/outline", json={"topic": "秋天的第一杯奶茶"}, headers=account.headers)
                        statuses.append(r.status_code)
                return statuses

            results = [s for f in [pool.submit(churn, i) for i in range(4)] for s in f.result()]
            stop.set()
            commits = writer.result()
        assert commits > 20  # the other writer really was busy all along
        assert sorted(set(results)) == [200, 202], {s: results.count(s) for s in set(results)}
        assert "database is locked" not in live.logs()
    finally:
        stop.set()
        live.stop()


async def test_a_write_transaction_holds_the_lock_from_its_first_read(tmp_path: Path) -> None:
    """The stale-snapshot case, step by step: our write session reads; another process then tries to commit; we
    write. Deferred, our write would fail at once ("database is locked"); immediate, the other writer waits."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'inkstream.db'}")
    await db.migrate()
    other_done = threading.Event()

    def other_writer() -> None:
        conn = sqlite3.connect(tmp_path / "inkstream.db", timeout=10, isolation_level=None)
        conn.execute("INSERT INTO users (username, password_hash, is_admin, created_at) "
                     "VALUES ('other', 'x', 0, '2026-01-01T00:00:00')")
        conn.close()
        other_done.set()

    try:
        async with db.write() as s:
            assert await s.scalar(select(func.count(User.id))) == 0
            thread = threading.Thread(target=other_writer)
            thread.start()
            await asyncio.sleep(0.5)  # the window in which the other writer would commit if it could
            assert not other_done.is_set()  # it is waiting for our lock
            s.add(User(username="ours", password_hash="x", is_admin=False, created_at=datetime.now(UTC)))
        await asyncio.to_thread(thread.join, 15)
        assert other_done.is_set()
        async with db.read() as s:
            assert sorted((await s.scalars(select(User.username))).all()) == ["other", "ours"]
    finally:
        await db.close()
