"""Distributed mode under failure: 2 API nodes + 2 workers on PostgreSQL and Redis. A client streams a 30-page
task, its connection moves from node A to node B mid-stream, a worker is SIGKILLed mid-page, and Redis is
restarted once: every event arrives exactly once, in order, and the task finishes with all pages."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import Received, new_account, read_stream, start_generation
from tests.support.server import Backend, LiveServer, free_port


class RedisServer:
    """A Redis of this test's own (no persistence, like the machine's), so restarting it disturbs nobody else."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout != b"PONG\n":
            assert time.monotonic() < deadline, "redis did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer, RedisServer]]:
    redis = RedisServer(tmp_path)
    redis.start()
    backend = Backend()
    backend.redis_url = redis.url
    backend.create()
    settings = {"offline_delay": 0.3, "worker_concurrency": 2, "page_timeout": 4, "heartbeat_interval": 1,
                "secret_key": "x" * 48}
    data = tmp_path / "shared-data"  # images live on a filesystem every node sees
    node_a = LiveServer(data, backend=backend, workers=2, **settings)
    node_b = LiveServer(data, backend=backend, workers=0, **settings)
    try:
        node_a.start()
        node_b.start()
        yield node_a, node_b, redis
    finally:
        node_a.stop()
        node_b.stop()
        redis.kill()
        backend.drop()


def _read_some(url: str, task_id: str, account, got: Received, n: int) -> None:  # type: ignore[no-untyped-def]
    """Read up to n more events from one node, resuming from the last id; connection failures just end the try."""
    with httpx.Client(base_url=url, timeout=30) as http:
        try:
            status, _ = read_stream(http, task_id, account, after=got.last_id, max_events=n, received=got)
            assert status in (200, 204)
        except (httpx.TransportError, httpx.RemoteProtocolError):
            time.sleep(0.2)


def test_node_switch_worker_kill_and_redis_restart_lose_nothing(cluster) -> None:  # type: ignore[no-untyped-def]
    node_a, node_b, redis = cluster
    with httpx.Client(base_url=node_a.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 30)
    got = Received()
    _read_some(node_a.url, task_id, account, got, 10)
    _read_some(node_b.url, task_id, account, got, 6)  # the client moved to node B with Last-Event-ID
    node_a.workers[0].kill()  # mid-page: it had two page jobs running
    _read_some(node_b.url, task_id, account, got, 8)
    redis.kill()  # Redis restarts without persistence: the queue and the stream mirrors are gone
    redis.start()
    deadline = time.monotonic() + 120
    nodes = [node_a.url, node_b.url]
    while not got.finished:
        assert time.monotonic() < deadline, f"stuck at event {got.last_id}"
        _read_some(nodes[got.last_id % 2], task_id, account, got, 5)
    assert got.ids == list(range(1, got.last_id + 1)), "every event exactly once, in order"
    completes = sorted(e[2]["index"] for e in got.events if e[1] == "complete")
    assert completes == list(range(30))
    finish = got.events[-1][2]
    assert finish["completed"] == 30 and finish["failed"] == 0
    with httpx.Client(base_url=node_b.url, timeout=30) as http:
        status = http.get(f"/api/generate/{task_id}", headers=account.headers).json()
        assert status["completed"] == 30
        for page in status["images"]:
            assert http.get(page["image_url"]).status_code == 200
