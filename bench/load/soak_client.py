"""Soak clients (issue 15), run inside a load worker process: sessions that log in and rotate their refresh token
before each 30 s access token expires, keep a task running, and follow it with SSE streams. Every stream checks
every event id (per task: 1, 2, 3 … to `finish`, no gap, no repeat), cuts its own socket at random times (RST)
and resumes with Last-Event-ID, as a browser's EventSource would after a network cut.

A session is one signed-in app (a browser with several tabs): its streams share its tokens, so the refresh is
never raced by two holders of the same refresh token."""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.load.sse import Counters, SSEStream, build_request

MAX_SAMPLES = 40_000  # latency samples kept per stats window and process
RETRY_ERRORS = (OSError, ConnectionError, TimeoutError, httpx.HTTPError)


@dataclass
class Stats:
    """One process's counters; `window` ones are reset at each sample, the rest only grow."""

    connects: int = 0
    cuts: int = 0
    server_closes: int = 0
    stream_refused: dict[str, int] = field(default_factory=dict)
    refresh_ok: int = 0
    refresh_failed: int = 0
    relogins: int = 0
    tasks_submitted: int = 0
    tasks_finished: int = 0
    follows_ok: int = 0
    duplicated: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)  # the first few invariant failures, said in words
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[tuple[str, int, float, float]] = field(default_factory=list)  # task, id, received, conn opened

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)


class Follower:
    """One stream's view of one task across its reconnects: the last id it holds, and whether it has `finish`."""

    def __init__(self, task_id: str, stats: Stats, sampled: bool) -> None:
        self.task_id = task_id
        self.stats = stats
        self.sampled = sampled
        self.last = 0
        self.finish_id = 0

    def event(self, event_id: int, event: bytes, opened_at: float) -> None:
        if event_id <= self.last:
            self.stats.duplicated += 1
            self.stats.problem(f"task {self.task_id}: id {event_id} again after {self.last}")
            return
        if event_id != self.last + 1:
            self.stats.lost += event_id - self.last - 1
            self.stats.problem(f"task {self.task_id}: ids {self.last + 1}..{event_id - 1} missing")
        self.last = event_id
        if event == b"finish":
            self.finish_id = event_id
        if self.sampled and len(self.stats.samples) < MAX_SAMPLES:
            self.stats.samples.append((self.task_id, event_id, time.time(), opened_at))


class CheckedStream(SSEStream):
    """The bench's lean SSE client, reading each event's `id:` into a Follower; `cut()` resets the socket."""

    def __init__(self, request: bytes, counters: Counters, follower: Follower) -> None:
        super().__init__(request, counters)
        self.follower = follower
        self.opened_at = time.time()
        self.was_cut = False

    def _block(self, block: bytes) -> None:
        event_id = None
        event = b"message"
        for line in block.split(b"\n"):
            if line.startswith(b"id:"):
                event_id = int(line[3:].strip())
            elif line.startswith(b"event:"):
                event = line[6:].strip()
        super()._block(block)  # counters: events, heartbeats
        if event_id is not None:
            self.follower.event(event_id, event, self.opened_at)
        elif event == b"error":
            self.follower.stats.problem(f"task {self.follower.task_id}: error event {block[:300]!r}")

    def cut(self) -> None:
        """Close abruptly: SO_LINGER 0 makes the kernel send RST, as a dropped network path eventually does."""
        if self.transport is None or self.transport.is_closing():
            return
        self.was_cut = True
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


class Session:
    def __init__(self, http: httpx.AsyncClient, host: str, port: int, username: str, password: str, *,
                 streams: int, pages: int, cut_mean: float, sample_every: int, use_tickets: bool, stats: Stats,
                 counters: Counters, index: int) -> None:
        self.http, self.host, self.port = http, host, port
        self.credentials = {"username": username, "password": password}
        self.n_streams, self.pages, self.cut_mean = streams, pages, cut_mean
        self.sample_every, self.use_tickets = sample_every, use_tickets
        self.stats, self.counters, self.index = stats, counters, index
        self.rng = random.Random(f"{username}-{index}")
        self.access = self.refresh_token = ""
        self.expires_at = 0.0
        self.lock = asyncio.Lock()
        self.stopping = False
        self.open: set[CheckedStream] = set()

    # --- tokens ---
    async def login(self) -> None:
        for attempt in range(10):  # a server starved of CPU may answer late: try again, as a user would
            try:
                r = await self.http.post("/api/auth/login", json=self.credentials)
            except RETRY_ERRORS as exc:
                self.stats.error(f"login_{type(exc).__name__}")
                await asyncio.sleep(1 + attempt)
                continue
            r.raise_for_status()
            self._take(r.json())
            return
        raise RuntimeError("no login in 10 attempts")

    def _take(self, body: dict[str, Any]) -> None:
        self.access, self.refresh_token = body["access_token"], body["refresh_token"]
        self.expires_at = time.monotonic() + body["expires_in"]

    async def refresh(self, seen: str) -> None:
        """Rotate the refresh token, unless that was done since `seen` was the access token in use."""
        async with self.lock:
            if self.access != seen:
                return
            for attempt in range(5):
                try:
                    r = await self.http.post("/api/auth/refresh", json={"refresh_token": self.refresh_token})
                except RETRY_ERRORS as exc:  # the response may be lost: the server's retry grace covers this
                    self.stats.error(f"refresh_{type(exc).__name__}")
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                if r.status_code == 200:
                    self.stats.refresh_ok += 1
                    self._take(r.json())
                    return
                self.stats.problem(f"refresh {r.status_code}: {r.text[:200]}")
                break
            else:
                self.stats.problem("refresh: no answer in 5 attempts")
            self.stats.refresh_failed += 1
            self.stats.relogins += 1  # the session is gone: sign in again so the run goes on (and fails)
            await self.login()

    async def refresher(self) -> None:
        while not self.stopping:
            life = self.expires_at - time.monotonic()
            # at 55–75 % of the token's life, jittered so sessions do not all refresh in step
            await asyncio.sleep(max(0.5, life * self.rng.uniform(0.55, 0.75)))
            await self.refresh(self.access)

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    # --- tasks ---
    async def run(self, stop_submitting: asyncio.Event, task_timeout: float) -> None:
        """Submit a task, follow it with every stream to `finish`, check it, again — until told to stop."""
        await self.login()
        refresher = asyncio.create_task(self.refresher())
        try:
            while not stop_submitting.is_set():
                task_id = await self.submit()
                if task_id is None:
                    await asyncio.sleep(1)
                    continue
                followers = [Follower(task_id, self.stats, (self.index * self.n_streams + i) % self.sample_every == 0)
                             for i in range(self.n_streams)]
                follows = [asyncio.create_task(self.follow(f)) for f in followers]
                _, pending = await asyncio.wait(follows, timeout=task_timeout)
                for t in pending:
                    t.cancel()
                await self.check_task(task_id, followers)
        finally:
            self.stopping = True
            refresher.cancel()
            for s in list(self.open):
                s.close()

    async def submit(self) -> str | None:
        kinds = ["cover"] + ["content"] * max(0, self.pages - 2) + (["summary"] if self.pages > 1 else [])
        body = {"user_topic": "秋天的第一杯奶茶", "pages": [
            {"index": i, "type": kinds[i], "content": f"第{i + 1}页：秋天的第一杯奶茶 ✨"} for i in range(self.pages)]}
        try:
            r = await self.http.post("/api/generate", json=body, headers=self.auth())
        except RETRY_ERRORS as exc:
            self.stats.error(f"submit_{type(exc).__name__}")
            return None
        if r.status_code == 401:
            await self.refresh(self.access)
            return None
        if r.status_code != 202:
            self.stats.error(f"submit_{r.status_code}")
            return None
        self.stats.tasks_submitted += 1
        return str(r.json()["task_id"])

    async def check_task(self, task_id: str, followers: list[Follower]) -> None:
        """Every follower reached `finish`, and `finish` is the task's last event (nothing after it unseen)."""
        last = 0
        for attempt in range(5):
            try:
                r = await self.http.get(f"/api/generate/{task_id}", headers=self.auth())
                if r.status_code == 200:
                    last = int(r.json()["last_event_id"])
                    break
                if r.status_code == 401:
                    await self.refresh(self.access)
            except RETRY_ERRORS:
                await asyncio.sleep(0.5 * (attempt + 1))
        ok = all(f.finish_id and f.finish_id == last for f in followers)
        if ok:
            self.stats.tasks_finished += 1
            self.stats.follows_ok += len(followers)
        else:
            unfinished = [f.last for f in followers if not f.finish_id]
            self.stats.problem(f"task {task_id}: log ends at {last}; followers ended at "
                               f"{sorted({f.finish_id for f in followers})}, unfinished at {unfinished[:10]}")
            self.stats.follows_ok += sum(1 for f in followers if f.finish_id and f.finish_id == last)

    # --- one stream over one task, across cuts ---
    async def follow(self, f: Follower) -> None:
        loop = asyncio.get_running_loop()
        path = f"/api/generate/stream/{f.task_id}"
        await asyncio.sleep(self.rng.uniform(0, 2))  # a session's tabs do not all open in the same millisecond
        while not f.finish_id:
            headers = self.auth()
            seen = self.access
            if self.use_tickets:
                try:
                    r = await self.http.post(f"{path.replace('/stream/', '/')}/stream-ticket", headers=headers)
                except RETRY_ERRORS as exc:
                    self.stats.error(f"ticket_{type(exc).__name__}")
                    await asyncio.sleep(1)
                    continue
                if r.status_code == 401:
                    self.stats.stream_refused["ticket_401"] = self.stats.stream_refused.get("ticket_401", 0) + 1
                    await self.refresh(seen)
                    continue
                if r.status_code != 200:
                    self.stats.error(f"ticket_{r.status_code}")
                    await asyncio.sleep(1)
                    continue
                headers = {}
                path_q = f"{path}?ticket={r.json()['ticket']}"
            else:
                path_q = path
            if f.last:
                headers["Last-Event-ID"] = str(f.last)
            request = build_request(self.host, self.port, path_q, headers)
            try:
                _, s = await loop.create_connection(
                    lambda request=request: CheckedStream(request, self.counters, f), self.host, self.port)
            except RETRY_ERRORS as exc:
                self.stats.error(f"connect_{type(exc).__name__}")
                await asyncio.sleep(self.rng.uniform(0.5, 2))
                continue
            try:
                status = await asyncio.wait_for(asyncio.shield(s.opened), 30)
            except RETRY_ERRORS as exc:  # no answer (or closed before one): give up this socket, try again
                s.cut()
                self.stats.error(f"open_{type(exc).__name__}")
                await asyncio.sleep(self.rng.uniform(0.5, 2))
                continue
            if status != 200:
                self.stats.stream_refused[str(status)] = self.stats.stream_refused.get(str(status), 0) + 1
                await s.done
                if status == 401:
                    await self.refresh(seen)
                elif status == 204:
                    self.stats.problem(f"task {f.task_id}: 204 (stream over) at id {f.last} without finish")
                    return
                else:
                    await asyncio.sleep(1)
                continue
            self.stats.connects += 1
            self.open.add(s)
            timer = loop.call_later(self.rng.expovariate(1 / self.cut_mean), s.cut) if self.cut_mean > 0 else None
            await s.done
            self.open.discard(s)
            if timer is not None:
                timer.cancel()
            if f.finish_id:
                return
            if s.was_cut:
                self.stats.cuts += 1
            else:
                self.stats.server_closes += 1
            await asyncio.sleep(self.rng.uniform(0.05, 1.0))  # EventSource waits `retry` (3 s); we hurry


class Soak:
    """The sessions of one load process, driven by the controller (bench/soak.py) through the worker's pipe."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self.stats = Stats()
        self.sessions: list[Session] = []
        self.runs: list[asyncio.Task[None]] = []
        self.stop_submitting = asyncio.Event()
        self.http: httpx.AsyncClient | None = None

    async def start(self, host: str, port: int, users: list[tuple[str, str]], sessions_per_user: int,
                    streams_per_session: list[int], pages: int, cut_mean: float, sample_every: int,
                    ticket_share: float, task_timeout: float, first_index: int, ramp: float,
                    ) -> dict[str, Any]:
        # 15 s: below the server's refresh retry grace (20 s), so a refresh retried after a lost response is a
        # retry, not reuse (with the SDK's 30 s, an overloaded server's slow answer gets the session revoked)
        self.http = httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=15,
                                      limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))
        k = 0
        for username, password in users:
            for _ in range(sessions_per_user):
                index = first_index + k
                self.sessions.append(Session(
                    self.http, host, port, username, password, streams=streams_per_session[k], pages=pages,
                    cut_mean=cut_mean, sample_every=sample_every, stats=self.stats, counters=self.counters,
                    use_tickets=int((index + 1) * ticket_share) > int(index * ticket_share), index=index))
                k += 1
        for s in self.sessions:  # a ramp: sessions start evenly over `ramp` s (logins hash passwords on purpose)
            delay = ramp * (s.index - first_index) / max(1, len(self.sessions))
            self.runs.append(asyncio.create_task(self._run(s, delay, task_timeout)))
        return {"sessions": len(self.sessions)}

    async def _run(self, s: Session, delay: float, task_timeout: float) -> None:
        await asyncio.sleep(delay)
        try:
            await s.run(self.stop_submitting, task_timeout)
        except Exception as exc:  # noqa: BLE001 - a session dying is a finding, not a crash of the bench
            self.stats.problem(f"session {s.index} died: {type(exc).__name__}: {exc}")

    async def sample(self) -> dict[str, Any]:
        st, c = self.stats, self.counters
        out = {k: getattr(st, k) for k in (
            "connects", "cuts", "server_closes", "refresh_ok", "refresh_failed", "relogins", "tasks_submitted",
            "tasks_finished", "follows_ok", "duplicated", "lost")}
        out.update({"stream_refused": dict(st.stream_refused), "errors": dict(st.errors), "problems": list(st.problems),
                    "samples": st.samples, "events": c.events, "heartbeats": c.heartbeats,
                    "open": sum(len(s.open) for s in self.sessions)})
        st.samples = []
        return out

    async def stop(self, drain: float) -> dict[str, Any]:
        """Stop submitting; let the tasks in flight run to `finish` (up to `drain` seconds); then the last sample."""
        self.stop_submitting.set()
        _, pending = await asyncio.wait(self.runs, timeout=drain) if self.runs else (set(), set())
        for t in pending:
            t.cancel()
        if pending:
            self.stats.problem(f"{len(pending)} sessions still following a task after {drain:.0f} s of drain")
        await asyncio.gather(*pending, return_exceptions=True)
        if self.http is not None:
            await self.http.aclose()
        return await self.sample()
