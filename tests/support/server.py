"""Real Inkstream processes for the tests: API servers and workers on free loopback ports, logs captured.

Two modes, as in production: `embedded` (SQLite in the data dir, in-process worker) and `distributed`
(a fresh PostgreSQL database and Redis key prefix per cluster, plus `inkstream worker` processes).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

POSTGRES_ADMIN_URL = os.environ.get("INKSTREAM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("INKSTREAM_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Backend:
    """A PostgreSQL database and a Redis prefix of one's own, dropped afterwards. Fails loudly if either server
    is missing: the distributed tests must not pass by skipping."""

    def __init__(self) -> None:
        self.name = f"inkstream_t_{uuid.uuid4().hex[:12]}"
        base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
        self.database_url = f"{base}/{self.name}"
        self.redis_url = REDIS_URL
        self.prefix = self.name

    def _admin(self, sql: str) -> None:
        import asyncpg

        async def run() -> None:
            conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=10)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(run())

    def create(self) -> Backend:
        self._admin(f'CREATE DATABASE "{self.name}"')
        import redis

        redis.Redis.from_url(self.redis_url, socket_connect_timeout=5).ping()
        return self

    def drop(self) -> None:
        import redis

        try:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 - cleanup must not mask the test's own result
            pass
        try:
            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=5)
            for key in client.scan_iter(match=f"{self.prefix}:*", count=1000):
                client.delete(key)
        except Exception:  # noqa: BLE001
            pass

    def env(self) -> dict[str, str]:
        return {"INKSTREAM_DATABASE_URL": self.database_url, "INKSTREAM_REDIS_URL": self.redis_url,
                "INKSTREAM_REDIS_PREFIX": self.prefix}


class Process:
    """One `python -m inkstream …` child process with its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "inkstream", *self.args], env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        if self.alive:
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class LiveServer:
    """An API node (plus, in distributed mode, `workers` worker processes sharing its backend and data dir)."""

    def __init__(self, data_dir: Path, *, backend: Backend | None = None, workers: int = 1,
                 port: int | None = None, **settings: object) -> None:
        self.data_dir = data_dir
        self.backend = backend
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings
        self.log_path = data_dir / f"server-{self.port}.log"
        self.api = Process(["serve"], self.env(), self.log_path)
        self.workers = [Process(["worker"], self.env(), data_dir / f"worker-{self.port}-{n}.log")
                        for n in range(workers if backend else 0)]

    @property
    def mode(self) -> str:
        return "distributed" if self.backend else "embedded"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INKSTREAM_")}
        env.update({"INKSTREAM_DATA_DIR": str(self.data_dir), "INKSTREAM_PORT": str(self.port),
                    "INKSTREAM_HOST": "127.0.0.1", "INKSTREAM_SWEEP_INTERVAL": "1"})
        if self.backend:
            env.update(self.backend.env())
        env.update({f"INKSTREAM_{k.upper()}": str(v) for k, v in self.settings.items()})
        return env

    def start(self, timeout: float = 30.0) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.api.start()
        for worker in self.workers:
            if not worker.alive:
                worker.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.api.alive:
                raise RuntimeError(f"server exited:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.logs()}")

    def kill(self) -> None:
        """SIGKILL the API node (its workers, if any, keep running, as on a real cluster)."""
        self.api.kill()

    def stop(self) -> None:
        self.api.stop()
        for worker in self.workers:
            worker.stop()

    def logs(self) -> str:
        return self.api.logs() + "".join(w.logs() for w in self.workers)
