"""Inkstream under test: one API process (`bench.targets.inkstream_server`, i.e. `inkstream serve` + bench routes).

embedded:    SQLite in a temp data dir, in-process worker. Events are published through POST /bench/publish, which
             calls the service's EventLog.append in the server process — exactly what the in-process page runner
             does — so readers are woken by the same in-process signal as in production.
distributed: a fresh PostgreSQL database + a private Redis; events are published from a separate process with
             RedisEventLog.append (what an `inkstream worker` does): PostgreSQL row, Redis Streams mirror, doorbell.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.targets.base import Target, spawn, wait_http

REPO = Path(__file__).resolve().parents[2]


class Inkstream(Target):
    name = "inkstream"
    scenarios = frozenset({"idle", "fanout", "resume", "connect", "e2e"})

    def __init__(self, workdir: Path, heartbeat: float, *, distributed: bool = False, redis_url: str = "",
                 offline_delay: float = 3600.0, patched_src: str = "", **settings: Any) -> None:
        super().__init__(workdir, heartbeat)
        self.distributed = distributed
        self.patched_src = patched_src
        self.redis_url = redis_url
        self.offline_delay = offline_delay
        self.settings = settings
        self.backend: Any = None
        self.token = ""
        self.env: dict[str, str] = {}
        if distributed:
            self.name = "inkstream-dist"
            self.scenarios = frozenset({"idle", "fanout"})
        if patched_src:
            self.name += "-patched"

    def start(self) -> None:
        data_dir = self.workdir / f"{self.name}-{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("INKSTREAM_")}
        env.update({
            "INKSTREAM_DATA_DIR": str(data_dir), "INKSTREAM_PORT": str(self.port), "INKSTREAM_HOST": self.host,
            "INKSTREAM_HEARTBEAT_INTERVAL": str(self.heartbeat), "INKSTREAM_OFFLINE_DELAY": str(self.offline_delay),
            "INKSTREAM_PAGE_TIMEOUT": "7200", "INKSTREAM_MAX_RUNNING_TASKS_PER_USER": "100000",
        })
        env.update({f"INKSTREAM_{k.upper()}": str(v) for k, v in self.settings.items()})
        if self.patched_src:
            env["BENCH_INKSTREAM_SRC"] = self.patched_src
        if self.distributed:
            sys.path.insert(0, str(REPO))
            from tests.support.server import Backend

            self.backend = Backend()
            self.backend.redis_url = self.redis_url
            self.backend.create()
            env.update(self.backend.env())
        self.env = env
        self.log = self.workdir / f"{self.name}-{self.port}.log"
        self.proc = spawn([sys.executable, "-m", "bench.targets.inkstream_server"], self.log, env, cwd=str(REPO))
        wait_http(f"{self.url}/api/health", self.proc, self.log)
        self.http = httpx.Client(base_url=self.url, timeout=30)
        user = {"username": f"bench_{self.port}", "password": "correct horse battery"}
        assert self.http.post("/api/auth/register", json=user).status_code == 201
        r = self.http.post("/api/auth/login", json=user)
        self.token = r.json()["access_token"]

    def stop(self) -> None:
        super().stop()
        if self.backend is not None:
            self.backend.drop()

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def new_task(self, pages: int = 1) -> str:
        kinds = ["cover"] + ["content"] * max(0, pages - 2) + (["summary"] if pages > 1 else [])
        body = {"user_topic": "秋天的第一杯奶茶", "pages": [
            {"index": i, "type": kinds[i], "content": f"第{i + 1}页：秋天的第一杯奶茶 ✨"} for i in range(pages)]}
        r = self.http.post("/api/generate", json=body, headers=self.auth)
        assert r.status_code == 202, r.text
        return str(r.json()["task_id"])

    def last_event_id(self, task_id: str) -> int:
        return int(self.http.get(f"/api/generate/{task_id}", headers=self.auth).json()["last_event_id"])

    def channel(self) -> str:
        """A task that stays running (its one page sleeps `offline_delay`) with one event (`progress`) logged."""
        task_id = self.new_task()
        if not self.distributed:
            deadline = time.monotonic() + 10
            while self.last_event_id(task_id) < 1:
                assert time.monotonic() < deadline, "task never started"
                time.sleep(0.02)
        return task_id

    def stream(self, channel: str, *, replay: bool = False, after: int | None = None) -> tuple[str, dict[str, str]]:
        headers = dict(self.auth)
        if after is not None:
            headers["Last-Event-ID"] = str(after)
        return f"/api/generate/stream/{channel}", headers

    def publisher(self, channel: str) -> dict[str, Any]:
        if self.distributed:
            return {"kind": "inkstream_distributed", "task_id": channel, "redis_url": self.redis_url,
                    "prefix": self.backend.prefix,
                    "database_url": self.backend.database_url.replace("postgresql://", "postgresql+asyncpg://")}
        return {"kind": "http", "host": self.host, "port": self.port, "path": f"/bench/publish/{channel}"}

    def fill(self, channel: str, n: int) -> int:
        r = self.http.post(f"/bench/fill/{channel}", params={"n": n}, timeout=120)
        assert r.status_code == 200, r.text
        return int(r.json()["first"]) - 1

    def extra(self) -> dict[str, Any]:
        return {"mode": "distributed" if self.distributed else "embedded", "patched": bool(self.patched_src)}
