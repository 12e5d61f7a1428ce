"""One load-generator process: an asyncio loop (uvloop) that runs commands sent by the controller over a pipe.

Commands hold state between calls (streams opened by `open` stay open until `close`), so the controller can open
10k streams across processes, then sample counters while a publisher works."""

from __future__ import annotations

import asyncio
import json
import random
import resource
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from bench.load.http import Conn
from bench.load.sse import Counters, SSEStream, build_request, open_stream

MAX_LATENCY_SAMPLES = 200_000


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Worker:
    def __init__(self, conn: Connection, index: int) -> None:
        self.conn = conn
        self.index = index
        self.c = Counters()
        self.streams: list[SSEStream] = []
        self.soak: Any = None  # bench/load/soak_client.Soak, once a soak run starts

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            cmd = await loop.run_in_executor(None, self.conn.recv)
            if cmd is None:
                return
            try:
                result = await getattr(self, "cmd_" + cmd.pop("op"))(**cmd)
            except Exception as exc:  # noqa: BLE001 - report, keep serving
                result = {"exception": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
            self.conn.send(result)

    # --- streams held open ---
    async def cmd_open(self, host: str, port: int, path: str, headers: dict[str, str], n: int, rate: float,
                       record_every: int = 0, timeout: float = 120.0,  # noqa: ASYNC109 - per-stream limit
                       ) -> dict[str, Any]:
        request = build_request(host, port, path, headers)
        start = time.perf_counter()
        failed_before = self.c.failed

        async def one(i: int) -> None:
            try:
                s = await open_stream(host, port, request, self.c,
                                      record_latency=bool(record_every) and i % record_every == 0)
                self.streams.append(s)
                await asyncio.wait_for(asyncio.shield(s.opened), timeout)
            except (OSError, ConnectionError, TimeoutError) as exc:
                if not isinstance(exc, ConnectionError) or "before response" not in str(exc):
                    self.c.error(type(exc).__name__)

        tasks = []
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        return {"opened": sum(1 for s in self.streams if s.status == 200), "failed": self.c.failed - failed_before,
                "errors": dict(self.c.errors), "seconds": time.perf_counter() - start}

    async def cmd_stats(self, reset: bool = False, latencies: bool = True) -> dict[str, Any]:
        c = self.c
        alive = sum(1 for s in self.streams if s.status == 200 and not s.done.done())
        lat = c.latencies
        if len(lat) > MAX_LATENCY_SAMPLES:
            lat = random.sample(lat, MAX_LATENCY_SAMPLES)
        out = {"events": c.events, "heartbeats": c.heartbeats, "opened": c.opened, "closed": c.closed,
               "failed": c.failed, "errors": dict(c.errors), "alive": alive, "last_event_at": c.last_event_at,
               "latencies": lat if latencies else []}
        if reset:
            c.events = c.heartbeats = 0
            c.latencies = []
        return out

    async def cmd_close(self) -> dict[str, Any]:
        for s in self.streams:
            s.close()
        await asyncio.sleep(0.2)
        n = len(self.streams)
        self.streams = []
        self.c = Counters()
        return {"closed": n}

    # --- open → first event → close, in a loop ---
    async def cmd_connect_loop(self, host: str, port: int, path: str, headers: dict[str, str], duration: float,
                               concurrency: int) -> dict[str, Any]:
        request = build_request(host, port, path, headers)
        c = Counters()
        lat: list[float] = []
        end = time.perf_counter() + duration

        async def loop() -> None:
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                try:
                    s = await open_stream(host, port, request, c, stop_after=1)
                    t1 = await asyncio.wait_for(s.first_event, 10)
                    lat.append(t1 - t0)
                    await s.done
                except (OSError, ConnectionError, TimeoutError) as exc:
                    c.error(type(exc).__name__)
                    await asyncio.sleep(0.01)

        start = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return {"completed": len(lat), "seconds": time.perf_counter() - start, "latencies": lat,
                "failed": c.failed, "errors": c.errors}

    # --- one stream, resumed far behind ---
    async def cmd_resume(self, host: str, port: int, path: str, headers: dict[str, str], expect: int,
                         timeout: float = 60.0,  # noqa: ASYNC109 - applies to each phase separately
                         ) -> dict[str, Any]:
        c = Counters()
        request = build_request(host, port, path, headers)
        t0 = time.perf_counter()
        s = await open_stream(host, port, request, c, stop_after=expect)
        await asyncio.wait_for(s.opened, timeout)
        t_open = time.perf_counter()
        first = await asyncio.wait_for(s.first_event, timeout)
        await asyncio.wait_for(s.done, timeout)
        t_end = time.perf_counter()
        return {"status": s.status, "events": s.events, "seconds": t_end - t0, "first_event": first - t0,
                "headers": t_open - t0}

    # --- Inkstream end to end: submit → stream → finish ---
    async def cmd_e2e(self, base_url: str, token: str, tasks: int, concurrency: int, pages: int) -> dict[str, Any]:
        import httpx

        host, port = base_url.removeprefix("http://").split(":")
        auth = {"Authorization": f"Bearer {token}"}
        kinds = ["cover"] + ["content"] * (pages - 2) + ["summary"]
        body = {"user_topic": "秋天的第一杯奶茶", "pages": [
            {"index": i, "type": kinds[i], "content": f"第{i + 1}页：秋天的第一杯奶茶 ✨ 温暖整个秋天"}
            for i in range(pages)]}
        out: dict[str, Any] = {"first_event": [], "first_work": [], "total": [], "submit": [], "pages_done": 0,
                               "errors": {}}
        sem = asyncio.Semaphore(concurrency)

        async def one(http: httpx.AsyncClient) -> None:
            async with sem:
                try:
                    t0 = time.perf_counter()
                    r = await http.post("/api/generate", json=body, headers=auth)
                    r.raise_for_status()
                    out["submit"].append(time.perf_counter() - t0)
                    task_id = r.json()["task_id"]
                    s = await open_stream(host, int(port), build_request(
                        host, int(port), f"/api/generate/stream/{task_id}", auth), Counters())
                    out["first_event"].append(await asyncio.wait_for(s.first_event, 60) - t0)
                    out["first_work"].append(await asyncio.wait_for(s.first_work, 60) - t0)
                    await asyncio.wait_for(s.done, 600)
                    out["total"].append(time.perf_counter() - t0)
                    r = await http.get(f"/api/generate/{task_id}", headers=auth)
                    out["pages_done"] += r.json()["completed"]
                except Exception as exc:  # noqa: BLE001
                    out["errors"][type(exc).__name__] = out["errors"].get(type(exc).__name__, 0) + 1

        start = time.perf_counter()
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            await asyncio.gather(*(one(http) for _ in range(tasks)))
        out["seconds"] = time.perf_counter() - start
        out["tasks"] = tasks
        return out

    # --- soak (bench/soak.py): sessions that live for the whole run; see bench/load/soak_client.py ---
    async def cmd_soak(self, action: str, **kw: Any) -> dict[str, Any]:
        from bench.load.soak_client import Soak

        if action == "start":
            self.soak = Soak(self.c)
        result: dict[str, Any] = await getattr(self.soak, action)(**kw)
        return result

    # --- publisher ---
    async def cmd_publish(self, kind: str, rate: float, duration: float, inflight: int = 8,
                          **target: Any) -> dict[str, Any]:
        send, cleanup = await _publisher(kind, inflight, **target)
        n = max(1, int(rate * duration))
        sem = asyncio.Semaphore(inflight)
        errors: dict[str, int] = {}
        done = 0

        async def one(seq: int) -> None:
            nonlocal done
            try:
                await send(seq)
                done += 1
            except Exception as exc:  # noqa: BLE001
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            finally:
                sem.release()

        start = time.perf_counter()
        tasks = []
        for seq in range(n):
            delay = start + seq / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await sem.acquire()
            tasks.append(asyncio.create_task(one(seq)))
        await asyncio.gather(*tasks)
        seconds = time.perf_counter() - start
        await cleanup()
        return {"published": done, "errors": errors, "seconds": seconds, "rate_achieved": done / seconds}


def _payload(seq: int) -> dict[str, Any]:
    return {"ts": time.time(), "seq": seq, "text": "秋天的第一杯奶茶 page progress"}


async def _publisher(kind: str, inflight: int, **t: Any) -> tuple[Any, Any]:
    """(send(seq), cleanup()) for one kind of target."""
    if kind == "http":  # POST JSON to the target's publish endpoint (inkstream bench route, bare app, nchan)
        conns: asyncio.Queue[Conn] = asyncio.Queue()
        for _ in range(inflight):
            conns.put_nowait(Conn(t["host"], t["port"]))

        async def send(seq: int) -> None:
            conn = await conns.get()
            try:
                status, body = await conn.request("POST", t["path"], json.dumps(_payload(seq)).encode(),
                                                  t.get("headers"))
                if status >= 300:
                    raise RuntimeError(f"publish {status}: {body[:200]!r}")
            except Exception:
                conn.close()
                raise
            finally:
                conns.put_nowait(conn)

        async def cleanup() -> None:
            while not conns.empty():
                conns.get_nowait().close()

        return send, cleanup
    if kind == "redis":  # the Flask baseline's publisher: PUBLISH on the task's channel
        from redis.asyncio import Redis

        r = Redis.from_url(t["redis_url"])

        async def send(seq: int) -> None:
            await r.publish(t["channel"], json.dumps(_payload(seq)))

        return send, r.aclose
    if kind == "inkstream_distributed":  # a worker's path: PostgreSQL append, Redis mirror, doorbell
        from redis.asyncio import Redis

        from inkstream.events.redis_log import RedisEventLog
        from inkstream.events.sql_log import SqlEventLog
        from inkstream.storage.database import Database

        db = Database(t["database_url"])
        r = Redis.from_url(t["redis_url"])
        log = RedisEventLog(SqlEventLog(db), r, t["prefix"], 3600)

        async def send(seq: int) -> None:
            await log.append(t["task_id"], "bench", _payload(seq))

        async def cleanup() -> None:
            await r.aclose()
            await db.close()

        return send, cleanup
    raise ValueError(kind)


def main(conn: Connection, index: int) -> None:
    raise_nofile()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(Worker(conn, index).serve())
