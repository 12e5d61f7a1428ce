"""Starting a distributed node before its Redis: one clear line per attempt (no traceback; passwords redacted),
and the node and its worker start as soon as Redis answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inkstream.startup import redacted
from tests.chaos.test_failover import RedisServer
from tests.support.client import new_account, read_stream, start_generation
from tests.support.server import Backend, LiveServer


@pytest.fixture
def late_redis(tmp_path: Path) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path)  # a free port, nothing listening on it yet
    yield redis
    redis.kill()


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _healthy(live: LiveServer) -> bool:
    try:
        return httpx.get(f"{live.url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_node_started_before_redis_says_so_and_starts_when_redis_answers(
    tmp_path: Path, late_redis: RedisServer
) -> None:
    backend = Backend()
    backend.redis_url = late_redis.url
    backend._admin(f'CREATE DATABASE "{backend.name}"')  # not .create(): that needs Redis up
    live = LiveServer(tmp_path / "data", backend=backend, offline_delay=0.1)
    try:
        live.api.start()
        for worker in live.workers:
            worker.start()
        _wait_for(lambda: live.logs().count("is unreachable") >= 4, 30, "no retry message: " + live.logs())
        assert live.api.alive and all(w.alive for w in live.workers)
        with pytest.raises(httpx.ConnectError):  # not serving half-started
            httpx.get(f"{live.url}/api/health", timeout=1)
        late_redis.start()
        _wait_for(lambda: _healthy(live), 30, "did not start after Redis came up: " + live.logs())
        with httpx.Client(base_url=live.url, timeout=30) as http:
            account = new_account(http)
            task_id = start_generation(http, account, 2)
            status, got = read_stream(http, task_id, account, timeout=60)
            assert status == 200 and got.finished and got.events[-1][2]["success"] is True
    finally:
        live.stop()
        backend.drop()
    logs = live.logs()
    assert "Traceback" not in logs
    assert f"Redis at {late_redis.url} is unreachable" in logs
    assert "Check INKSTREAM_REDIS_URL" in logs and "answers after" in logs


def test_redacted_hides_only_the_password() -> None:
    assert redacted("redis://:pw@h:6379/0") == "redis://:***@h:6379/0"
    assert redacted("redis://user:pw@h/1") == "redis://user:***@h/1"
    assert redacted("redis://h:6379/0") == "redis://h:6379/0"
