"""`AsyncInkstream.stream`: every event exactly once and in order, whatever happens to the connection."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from inkstream.client import AsyncInkstream, Complete, ConnectionLost, Event, Finish, NotFound, Progress, Retry, Tokens
from tests.client.conftest import fast_policy, new_user
from tests.support.client import pages
from tests.support.fault_proxy import FaultProxy
from tests.support.server import LiveServer, free_port

STREAM = "/api/generate/stream/"


def assert_exactly_once(events: list[Event], n_pages: int, restarted: bool = False) -> None:
    """ids 1..N without gap or repeat, each page completed once, `finish` last and complete.

    Each page is also started once — unless the server restarted: pages in flight then start again (a new
    `progress` event with a new id, which the stream must deliver like any other)."""
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert isinstance(events[-1], Finish) and not any(isinstance(e, Finish) for e in events[:-1])
    completes = Counter(e.index for e in events if isinstance(e, Complete))
    assert completes == Counter(range(n_pages))
    started = Counter(e.index for e in events if isinstance(e, Progress))
    assert set(started) == set(range(n_pages)) and (restarted or set(started.values()) == {1})
    finish = events[-1]
    assert finish.success and finish.completed == n_pages and finish.failed == 0


async def started(make_server: Callable[..., LiveServer], **settings: object) -> LiveServer:
    """A server from the `make_server` fixture, set up off the event loop (its backend setup runs its own)."""
    live = await asyncio.to_thread(make_server, **settings)
    return await asyncio.to_thread(live.start)


async def collect(ink: AsyncInkstream, task_id: str, **kwargs: Any) -> tuple[list[Event], Any]:
    async with ink.stream(task_id, **kwargs) as stream:
        return [event async for event in stream], stream


async def chaos(proxy: FaultProxy, rng: random.Random, plan: list[str], log: list[str]) -> None:
    """Apply each fault of `plan` to the open stream connection, one at a time, each after it took effect."""
    for kind in plan:
        while not proxy.open_connections(STREAM):  # noqa: ASYNC110 - the proxy lives in another thread: poll it
            await asyncio.sleep(0.005)
        await asyncio.sleep(rng.uniform(0, 0.1))  # let some bytes through first, or not
        targets = proxy.open_connections(STREAM)
        if not targets:
            continue
        if kind == "cut":
            proxy.cut(rng.randint(0, 300), match=STREAM, rst=rng.random() < 0.3)
        elif kind == "stall":
            proxy.stall(match=STREAM)
        else:  # the stream drops and the next connections are refused for a while
            proxy.refuse(rng.uniform(0.1, 0.3), mode=rng.choice(["close", "reset"]))
            proxy.cut(0, match=STREAM)
        deadline = time.monotonic() + 10
        while any(proxy.is_open(t) for t in targets) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        log.append(kind)


async def test_every_event_once_in_order_across_50_cuts_and_stalls(make_server) -> None:  # type: ignore[no-untyped-def]
    seed = int(os.environ.get("INKSTREAM_CHAOS_SEED", "5"))
    rng = random.Random(seed)
    heartbeat = 0.1  # the watchdog gives up on a silent connection after 2.5 × this
    live = await started(make_server, access_token_ttl=2, offline_delay=1.2, heartbeat_interval=heartbeat,
                         page_concurrency=1, worker_concurrency=1)
    proxy = FaultProxy(live.port).start()
    plan = ["cut"] * 30 + ["stall"] * 12 + ["refuse"] * 8
    rng.shuffle(plan)
    applied: list[str] = []
    try:
        ink = await new_user(proxy.url, reconnect=fast_policy(heartbeat, max_attempts=40))
        async with ink:
            task = await ink.generate(pages(20), topic="秋天的第一杯奶茶")
            faults = asyncio.create_task(chaos(proxy, rng, plan, applied))
            events, stream = await collect(ink, task.task_id)
            faults.cancel()
            refreshes = ink.session.refreshes
        context = f"seed {seed}, faults applied {len(applied)}, history {stream.history}"
        assert len(applied) == 50, context  # the task outlived the fault plan
        assert_exactly_once(events, 20)
        assert stream.gaps == [], context
        assert refreshes >= 3  # a ~25 s stream with 2 s tokens: every reconnect after expiry refreshed first
        reasons = Counter(r.reason for r in stream.history)
        assert reasons["stalled"] >= 12 and reasons["disconnected"] + reasons["read_error"] >= 20, reasons
        assert all(r.outcome != "pending" for r in stream.history)
        # What arrived is what the log holds: same ids, same events.
        async with AsyncInkstream(live.url, tokens=None) as check:
            check.session.set_tokens(ink.tokens)
            await check.refresh()
            clean, _ = await collect(check, task.task_id)
        assert [(e.id, e.name, e.data.get("index")) for e in events] == \
               [(e.id, e.name, e.data.get("index")) for e in clean]
    finally:
        proxy.stop()


async def test_server_killed_and_restarted_mid_task(make_server) -> None:  # type: ignore[no-untyped-def]
    live = await started(make_server, access_token_ttl=2, offline_delay=0.3, heartbeat_interval=0.5,
                         page_concurrency=4, worker_concurrency=4)
    ink = await new_user(live.url, reconnect=fast_policy(0.5, max_attempts=40))
    restarted: list[asyncio.Task[None]] = []

    async def crash_and_restart() -> None:
        await asyncio.to_thread(live.kill)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(live.start)

    async with ink:
        task = await ink.generate(pages(20), topic="restart")
        events = []
        async with ink.stream(task.task_id) as stream:
            async for event in stream:
                events.append(event)
                if event.id == 12:
                    restarted.append(asyncio.create_task(crash_and_restart()))
        await restarted[0]
    assert_exactly_once(events, 20, restarted=True)
    reasons = {r.reason for r in stream.history}
    # The open stream broke; while the server was down, connecting (or refreshing the token first) failed.
    assert reasons & {"disconnected", "read_error"} and reasons & {"connect_failed", "refresh_failed"}, \
        stream.history
    assert stream.history[-1].outcome == "connected"


async def test_unknown_task_raises_not_found_without_reconnecting(live: LiveServer, proxy: FaultProxy) -> None:
    async with await new_user(proxy.url, reconnect=fast_policy()) as ink:
        other = await new_user(live.url)
        async with other:
            theirs = await other.generate(pages(1), topic="not yours")
        for task_id in ("0" * 32, theirs.task_id):
            with pytest.raises(NotFound) as caught:
                await collect(ink, task_id)
            assert caught.value.code == "task_not_found"
    assert proxy.count(STREAM) == 2  # one request per stream: a 404 is never retried


async def test_stream_after_finish_is_204_and_yields_nothing(ink: AsyncInkstream) -> None:
    task = await ink.generate(pages(2), topic="done")
    events, _ = await collect(ink, task.task_id)
    again, stream = await collect(ink, task.task_id, last_event_id=events[-1].id)
    assert again == [] and stream.connections == 1 and stream.history == []
    replay, _ = await collect(ink, task.task_id, last_event_id=2)  # any earlier id: exactly the rest
    assert [e.id for e in replay] == [e.id for e in events[2:]]


async def test_follow_goes_on_into_a_regenerate_round(ink: AsyncInkstream) -> None:
    task = await ink.generate(pages(3), topic="again")
    first = await ink.wait(task.task_id)
    await ink.regenerate(task.task_id, 1)
    events, stream = await collect(ink, task.task_id, last_event_id=first.id, follow=True)
    assert [type(e) for e in events] == [Retry, Progress, Complete, Finish]
    assert events[0].id == first.id + 1 and isinstance(events[0], Retry) and events[0].indexes == [1]
    assert [r.reason for r in stream.history] == ["next_round"] and stream.history[0].outcome == "finished"


async def test_silent_connection_is_reopened_by_the_watchdog(live: LiveServer, proxy: FaultProxy) -> None:
    async with await new_user(proxy.url, reconnect=fast_policy(heartbeat_interval=1.0)) as ink:
        task = await ink.generate(pages(6), topic="stall")
        events = []
        async with ink.stream(task.task_id) as stream:
            async for event in stream:
                events.append(event)
                if event.id == 2:
                    stalled_at = time.monotonic()
                    assert proxy.stall(match=STREAM) == 1
    assert_exactly_once(events, 6)
    record = stream.history[0]
    assert (record.reason, record.outcome) == ("stalled", "connected")
    assert record.at - (time.time() - (time.monotonic() - stalled_at)) >= 2.5 * 1.0 - 0.1


async def test_gives_up_after_max_attempts_with_connection_lost() -> None:
    tokens = Tokens("opaque", "opaque", expires_at=time.time() + 3600)
    policy = fast_policy(max_attempts=3)
    async with AsyncInkstream(f"http://127.0.0.1:{free_port()}", tokens=tokens, reconnect=policy) as ink:
        started = time.monotonic()
        with pytest.raises(ConnectionLost) as caught:
            await collect(ink, "0" * 32)
    assert time.monotonic() - started < 3
    history = caught.value.history
    assert [r.attempt for r in history] == [1, 2, 3]
    assert all(r.reason == "connect_failed" for r in history)
    assert history[-1].outcome.startswith("gave_up")


def sse(*frames: tuple[int | None, str, str]) -> bytes:
    return "".join((f"id: {i}\r\n" if i is not None else "") + f"event: {name}\r\ndata: {data}\r\n\r\n"
                   for i, name, data in frames).encode()


async def test_busy_and_failing_service_is_retried_and_repeats_are_dropped() -> None:
    """A 503, a 429 (Retry-After honoured), a stream that ends early, then a replay that repeats an event."""
    finish = '{"success":true,"task_id":"t","total":1,"completed":1,"failed":0,"failed_indices":[],"images":[]}'
    replies = [
        httpx.Response(503, json={"code": "unavailable", "message": "restarting"}),
        httpx.Response(429, json={"code": "rate_limited", "message": "slow down"}, headers={"Retry-After": "0"}),
        httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(
            (1, "progress", '{"index":0,"current":1,"total":1}'), (None, "heartbeat", '{"ts":1}'))),
        httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse(
            (1, "progress", '{"index":0,"current":1,"total":1}'), (2, "complete", '{"index":0,"image_url":"/i"}'),
            (None, "heartbeat", '{"ts":2}'), (3, "finish", finish))),
    ]
    asked: list[str | None] = []

    def respond(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers.get("last-event-id"))
        return replies.pop(0)

    tokens = Tokens("opaque", "opaque", expires_at=time.time() + 3600)
    async with AsyncInkstream("http://test", tokens=tokens, transport=httpx.MockTransport(respond),
                              reconnect=fast_policy()) as ink:
        events, stream = await collect(ink, "0" * 32)
    assert [(e.id, e.name) for e in events] == [(1, "progress"), (2, "complete"), (3, "finish")]
    assert asked == [None, None, None, "1"]  # each reconnect resumes after the last event handed out
    assert stream.duplicates == 1 and stream.heartbeats == 2
    assert [r.reason for r in stream.history] == ["http_503", "rate_limited", "server_closed"]
