"""Retry classification and waits of request_with_retry, against a real loopback server."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from inkstream.generators.base import GeneratorError
from inkstream.generators.remote.http_retry import (
    CallLimits,
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    request_with_retry,
)
from tests.generators.fake_apis import FakeAPI, Reply, fake_api_fixture  # noqa: F401

FAST = RetryPolicy(max_attempts=3, timeout=2.0, backoff_base=0.01, backoff_max=0.02, retry_after_max=5.0)
KEY = "sk-test-SECRET-0123456789"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


async def call(client: httpx.AsyncClient, url: str, policy: RetryPolicy = FAST) -> httpx.Response:
    return await request_with_retry(client, "POST", url, provider="fake", policy=policy, secrets=[KEY], json={})


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(email.utils.formatdate(now + 7, usegmt=True), now=now) == pytest.approx(7, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_capped_exponential() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=5.0)
    assert backoff_delay(1, policy, rng=lambda: 1.0) == 1.0
    assert backoff_delay(3, policy, rng=lambda: 1.0) == 4.0
    assert backoff_delay(10, policy, rng=lambda: 1.0) == 5.0
    assert backoff_delay(3, policy, rng=lambda: 0.0) == 0.0


async def test_500_then_success_is_retried(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    fake_api.script("/x", Reply(500, json={"error": "boom"}), Reply(200, json={"ok": True}))
    response = await call(client, fake_api.url + "/x")
    assert response.json() == {"ok": True}
    assert len(fake_api.requests_to("/x")) == 2


async def test_429_waits_for_retry_after_seconds(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    fake_api.script("/x", Reply(429, headers={"Retry-After": "0.3"}), Reply(200, json={}))
    await call(client, fake_api.url + "/x")
    first, second = fake_api.requests_to("/x")
    assert second.at - first.at >= 0.3


async def test_429_with_http_date_waits(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    fake_api.script("/x", Reply(429, headers={"Retry-After": when}), Reply(200, json={}))
    await request_with_retry(client, "GET", fake_api.url + "/x", provider="fake", policy=FAST, sleep=fake_sleep)
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 3.5


async def test_retry_after_beyond_the_cap_fails_fast_as_retryable(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    fake_api.script("/x", Reply(429, headers={"Retry-After": "3600"}))
    with pytest.raises(GeneratorError) as err:
        await call(client, fake_api.url + "/x")
    assert err.value.retryable and "3600" in err.value.message
    assert len(fake_api.requests_to("/x")) == 1


async def test_persistent_503_gives_up_retryable(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    fake_api.script("/x", Reply(503, json={"error": "overloaded"}))
    with pytest.raises(GeneratorError) as err:
        await call(client, fake_api.url + "/x")
    assert err.value.retryable and "503" in err.value.message
    assert len(fake_api.requests_to("/x")) == FAST.max_attempts


async def test_408_is_retried(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    fake_api.script("/x", Reply(408), Reply(200, json={}))
    await call(client, fake_api.url + "/x")
    assert len(fake_api.requests_to("/x")) == 2


async def test_401_is_not_retried_and_hides_the_key(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    fake_api.script("/x", Reply(401, json={"error": {"message": f"Incorrect API key provided: {KEY}"}}))
    with pytest.raises(GeneratorError) as err:
        await call(client, fake_api.url + "/x")
    assert not err.value.retryable
    assert KEY not in str(err.value) and "401" in err.value.message
    assert len(fake_api.requests_to("/x")) == 1


async def test_other_4xx_is_final(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    fake_api.script("/x", Reply(400, json={"error": {"message": "model not found"}}))
    with pytest.raises(GeneratorError) as err:
        await call(client, fake_api.url + "/x")
    assert not err.value.retryable and "model not found" in err.value.message
    assert len(fake_api.requests_to("/x")) == 1


async def test_timeouts_are_retried_then_retryable(fake_api: FakeAPI, client: httpx.AsyncClient) -> None:
    fake_api.script("/x", Reply(200, json={}, delay=0.6))
    policy = RetryPolicy(max_attempts=2, timeout=0.15, backoff_base=0.01)
    with pytest.raises(GeneratorError) as err:
        await call(client, fake_api.url + "/x", policy)
    assert err.value.retryable and "timed out" in err.value.message
    assert len(fake_api.requests_to("/x")) == 2


async def test_connection_refused_is_retryable(client: httpx.AsyncClient) -> None:
    with socket.socket() as s:  # a port nobody listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(GeneratorError) as err:
        await call(client, f"http://127.0.0.1:{port}/x")
    assert err.value.retryable and "connection error" in err.value.message


async def test_call_limits_cap_concurrency() -> None:
    limits = CallLimits(concurrency=2, page_timeout=5)
    in_flight = peak = 0

    async def work() -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return 1

    results = await asyncio.gather(*(limits.run("fake", work) for _ in range(6)))
    assert results == [1] * 6 and peak == 2


async def test_call_limits_page_timeout_is_retryable() -> None:
    limits = CallLimits(concurrency=1, page_timeout=0.05)
    with pytest.raises(GeneratorError) as err:
        await limits.run("fake", lambda: asyncio.sleep(1))
    assert err.value.retryable and "longer than" in err.value.message
