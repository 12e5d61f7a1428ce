"""Failed-login counters in the distributed mode: shared by every API node through Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from inkstream.auth.redis_rate_limit import RedisFailureLimiter
from inkstream.errors import RateLimited
from tests.support.client import new_account
from tests.support.server import REDIS_URL, Backend, LiveServer, free_port


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    backend = Backend().create()
    settings = {"login_max_failures": 4, "secret_key": "s" * 48}
    node_a = LiveServer(tmp_path / "data", backend=backend, workers=0, **settings)
    node_b = LiveServer(tmp_path / "data", backend=backend, workers=0, **settings)
    try:
        node_a.start()
        node_b.start()
        yield node_a, node_b
    finally:
        node_a.stop()
        node_b.stop()
        backend.drop()


def test_two_api_nodes_share_one_failed_login_limit(two_nodes: tuple[LiveServer, LiveServer]) -> None:
    node_a, node_b = two_nodes
    with httpx.Client(base_url=node_a.url, timeout=30) as a, httpx.Client(base_url=node_b.url, timeout=30) as b:
        account = new_account(a)
        wrong = {"username": account.username, "password": "wrong password"}
        for node in (a, b, a, b):  # 2 failures on each node: 4 in all, the limit
            assert node.post("/api/auth/login", json=wrong).status_code == 401
        right = {"username": account.username, "password": account.password}
        for node in (a, b):  # per-process counters would still let both nodes try (2 < 4)
            r = node.post("/api/auth/login", json=right)
            assert (r.status_code, r.json()["code"]) == (429, "rate_limited"), r.text
            assert 0 < int(r.headers["Retry-After"]) <= 300


async def test_failures_leave_the_window_and_a_success_resets_them() -> None:
    redis = Redis.from_url(REDIS_URL)
    prefix = f"inkstream_t_{uuid.uuid4().hex[:12]}"
    node_a = RedisFailureLimiter(redis, prefix, "user", max_failures=2, window_seconds=1)
    node_b = RedisFailureLimiter(redis, prefix, "user", max_failures=2, window_seconds=1)
    try:
        await node_a.record_failure("alice")
        await node_b.record_failure("alice")
        with pytest.raises(RateLimited) as caught:
            await node_a.check("alice")
        assert caught.value.retry_after == 1  # whole seconds, at least 1
        await node_b.check("bob")  # counted per key
        await asyncio.sleep(1.1)
        await node_b.check("alice")  # both failures left the 1 s window
        await node_a.record_failure("alice")
        await node_a.record_failure("alice")
        await node_b.reset("alice")  # a successful login on any node clears the count
        await node_a.check("alice")
        assert [k async for k in redis.scan_iter(match=f"{prefix}:*")] == []
    finally:
        await redis.aclose()


async def test_without_redis_each_node_still_limits_in_memory() -> None:
    redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    limiter = RedisFailureLimiter(redis, "unreachable", "user", max_failures=2, window_seconds=60)
    try:
        await limiter.record_failure("alice")
        await limiter.record_failure("alice")
        with pytest.raises(RateLimited):
            await limiter.check("alice")
    finally:
        await redis.aclose()
