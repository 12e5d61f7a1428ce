"""The baselines under test: bare sse-starlette, nchan (nginx), Flask + Redis pub/sub (gunicorn + gevent)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.targets.base import Target, free_port, spawn, stop, wait_http

BASELINES = Path(__file__).resolve().parents[1] / "baselines"
REPO = BASELINES.parents[1]


class PrivateRedis:
    """A throwaway redis-server on a free loopback port (no persistence, room for 20k clients), so the baselines
    and the distributed mode never load the Redis other people's tests use."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = workdir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        self.proc = spawn(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--maxclients", "19000", "--protected-mode", "no"], self.log)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        stop(self.proc)


_counter = 0


def _name() -> str:
    global _counter
    _counter += 1
    return f"ch{os.getpid()}x{_counter}"


class _FreshChannelPerRun(Target):
    """Bare and Flask: any new name is a channel, streamed at /stream/<name> (no history, no replay)."""

    def channel(self) -> str:
        return _name()

    def stream(self, channel: str, *, replay: bool = False, after: int | None = None) -> tuple[str, dict[str, str]]:
        return f"/stream/{channel}", {}


class BareSSE(_FreshChannelPerRun):
    name = "bare"
    scenarios = frozenset({"idle", "fanout", "connect"})

    def start(self) -> None:
        self.log = self.workdir / f"bare-{self.port}.log"
        self.proc = spawn([sys.executable, "-m", "bench.baselines.bare_sse", "--port", str(self.port),
                           "--heartbeat", str(self.heartbeat)], self.log, cwd=str(REPO))
        wait_http(f"{self.url}/health", self.proc, self.log)

    def publisher(self, channel: str) -> dict[str, Any]:
        return {"kind": "http", "host": self.host, "port": self.port, "path": f"/publish/{channel}"}


class Nchan(Target):
    name = "nchan"
    scenarios = frozenset({"idle", "fanout", "resume", "connect"})

    def start(self) -> None:
        prefix = self.workdir / f"nchan-{self.port}"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        conf = (BASELINES / "nchan" / "nginx.conf.template").read_text()
        conf = (conf.replace("{{PREFIX}}", str(prefix)).replace("{{PORT}}", str(self.port))
                .replace("{{HEARTBEAT}}", f"{max(1, round(self.heartbeat))}s"))
        (prefix / "nginx.conf").write_text(conf)
        self.log = prefix / "stdout.log"
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = spawn([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf")], self.log)
        wait_http(f"{self.url}/health", self.proc, prefix / "error.log")
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def channel(self) -> str:
        return _name()

    def stream(self, channel: str, *, replay: bool = False, after: int | None = None) -> tuple[str, dict[str, str]]:
        return (f"/replay/{channel}" if replay else f"/sub/{channel}"), {}

    def publisher(self, channel: str) -> dict[str, Any]:
        return {"kind": "http", "host": self.host, "port": self.port, "path": f"/pub/{channel}"}

    def fill(self, channel: str, n: int) -> int:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            for i in range(n):
                r = http.post(f"/pub/{channel}", content=b'{"ts":0,"seq":%d,"text":"fill"}' % i)
                assert r.status_code in (201, 202), r.text
        return 0


class FlaskRedis(_FreshChannelPerRun):
    name = "flask-redis"
    scenarios = frozenset({"idle", "fanout", "connect"})

    def __init__(self, workdir: Path, heartbeat: float, *, redis_url: str) -> None:
        super().__init__(workdir, heartbeat)
        self.redis_url = redis_url

    def start(self) -> None:
        self.log = self.workdir / f"flask-{self.port}.log"
        env = dict(os.environ, BENCH_REDIS_URL=self.redis_url, BENCH_HEARTBEAT=str(self.heartbeat))
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        self.proc = spawn([gunicorn, "-k", "gevent", "-w", "1", "--worker-connections", "20000", "--timeout", "120",
                           "--log-level", "warning", "-b", f"{self.host}:{self.port}",
                           "bench.baselines.flask_redis:app"], self.log, env, cwd=str(REPO))
        wait_http(f"{self.url}/health", self.proc, self.log)

    def publisher(self, channel: str) -> dict[str, Any]:
        return {"kind": "redis", "redis_url": self.redis_url, "channel": channel}
