"""Distributed mode under failure: 2 API nodes + 2 workers on PostgreSQL and Redis, with the DEFAULT page timeout
(600 s), sweep interval and lease settings — the ones a user runs with.

One test streams a 30-page task while its connection moves from node A to node B, a worker is SIGKILLed mid-page
and Redis is restarted: every event arrives exactly once, in order, and the task finishes with all pages. The
other kills a worker in the middle of its pages and times how long until those pages finish on the other worker
(the target: within 30 s, whatever page_timeout is)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_client
from httpx_sse import connect_sse

from inkstream.config import Settings
from tests.support.client import Account, Received, new_account, read_stream, start_generation
from tests.support.server import Backend, LiveServer, free_port

# Passed explicitly because tests/support/server.py shortens the sweep interval for the other tests.
DEFAULTS = {name: Settings.model_fields[name].default
            for name in ("page_timeout", "sweep_interval", "lease_seconds", "lease_check_interval")}
FAILOVER_TARGET = 30.0


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


Cluster = tuple[LiveServer, LiveServer, RedisServer, Backend]


@pytest.fixture
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., Cluster]]:
    started: list[tuple[LiveServer, LiveServer, RedisServer, Backend]] = []

    def make(**overrides: object) -> Cluster:
        redis = RedisServer(tmp_path)
        redis.start()
        backend = Backend()
        backend.redis_url = redis.url
        backend.create()
        settings = {"offline_delay": 0.3, "worker_concurrency": 2, "heartbeat_interval": 1,
                    "secret_key": "x" * 48, **DEFAULTS, **overrides}
        data = tmp_path / "shared-data"  # images live on a filesystem every node sees
        node_a = LiveServer(data, backend=backend, workers=2, **settings)
        node_b = LiveServer(data, backend=backend, workers=0, **settings)
        started.append((node_a, node_b, redis, backend))
        node_a.start()
        node_b.start()
        return node_a, node_b, redis, backend

    try:
        yield make
    finally:
        for node_a, node_b, redis, backend in started:
            node_a.stop()
            node_b.stop()
            redis.kill()
            backend.drop()


def test_defaults_are_the_long_page_timeout() -> None:
    assert DEFAULTS["page_timeout"] == 600  # the failover below must not owe its speed to a short page timeout


def _read_some(url: str, task_id: str, account, got: Received, n: int) -> None:  # type: ignore[no-untyped-def]
    """Read up to n more events from one node, resuming from the last id; connection failures just end the try."""
    with httpx.Client(base_url=url, timeout=30) as http:
        try:
            status, _ = read_stream(http, task_id, account, after=got.last_id, max_events=n, received=got)
            assert status in (200, 204)
        except (httpx.TransportError, httpx.RemoteProtocolError):
            time.sleep(0.2)


@pytest.mark.slow
def test_node_switch_worker_kill_and_redis_restart_lose_nothing(make_cluster) -> None:  # type: ignore[no-untyped-def]
    node_a, node_b, redis, _ = make_cluster()
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


class TimedStream(threading.Thread):
    """Reads a task's stream to its end in the background, noting when each event arrived (monotonic)."""

    def __init__(self, url: str, task_id: str, account: Account) -> None:
        super().__init__(daemon=True)
        self.url, self.task_id, self.account = url, task_id, account
        self.events: list[tuple[float, int, str, dict]] = []  # type: ignore[type-arg]

    def run(self) -> None:
        after = 0
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            headers = {**self.account.headers, "Last-Event-ID": str(after)}
            try:
                with httpx.Client(base_url=self.url, timeout=30) as http, connect_sse(
                        http, "GET", f"/api/generate/stream/{self.task_id}", headers=headers) as source:
                    if source.response.status_code == 204:
                        return
                    for sse in source.iter_sse():
                        if sse.id and sse.event != "heartbeat":  # (httpx-sse repeats the last id on heartbeats)
                            self.events.append((time.monotonic(), int(sse.id), sse.event, json.loads(sse.data)))
                            after = int(sse.id)
                            if sse.event == "finish":
                                return
            except httpx.HTTPError:
                time.sleep(0.2)


def _pages_held_by(backend: Backend, redis_url: str, task_id: str, pid: int) -> list[int]:
    client = redis_client.Redis.from_url(redis_url)
    held = []
    for key in client.scan_iter(match=f"{backend.prefix}:lease:{task_id}:*"):
        owner = client.get(key)
        index = int(key.decode().rsplit(":", 1)[1])
        if owner is not None and owner.decode().endswith(f":{pid}") and index >= 0:  # pages (-1: the post copy)
            held.append(index)
    return sorted(held)


@pytest.mark.slow
def test_worker_killed_mid_page_its_pages_finish_on_another_worker_within_30s(make_cluster) -> None:  # type: ignore[no-untyped-def]
    node_a, node_b, redis, backend = make_cluster(offline_delay=3)  # pages of 3 s: the kill lands mid-page
    with httpx.Client(base_url=node_a.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 12)
    stream = TimedStream(node_b.url, task_id, account)
    stream.start()
    victim = node_a.workers[0]
    assert victim.proc is not None
    deadline = time.monotonic() + 30
    held: list[int] = []
    while not held:  # wait until the victim is inside a page (it holds the page's lease)
        assert time.monotonic() < deadline, "the victim never started a page"
        held = _pages_held_by(backend, redis.url, task_id, victim.proc.pid)
        time.sleep(0.05)
    time.sleep(1.0)  # well inside its 3 s pages
    held = _pages_held_by(backend, redis.url, task_id, victim.proc.pid)
    killed_at = time.monotonic()
    victim.kill()
    stream.join(150)
    assert not stream.is_alive(), "the task did not finish"
    ids = [e[1] for e in stream.events]
    assert ids == list(range(1, len(ids) + 1)), "every event exactly once, in order"
    completes = {e[3]["index"]: e[0] for e in stream.events if e[2] == "complete"}
    assert sorted(completes) == list(range(12))
    assert [e[2] for e in stream.events].count("complete") == 12
    assert stream.events[-1][2] == "finish" and stream.events[-1][3]["completed"] == 12
    failover = {index: round(completes[index] - killed_at, 1) for index in held}
    print(f"\nfailover: pages {held} of the SIGKILLed worker finished {failover} s after the kill")
    assert held and all(0 < t <= FAILOVER_TARGET for t in failover.values()), failover
