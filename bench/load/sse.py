"""A lean SSE client over raw sockets (asyncio.Protocol): thousands per process without the client becoming the
bottleneck. It speaks just enough HTTP/1.1 (status line, chunked or close-delimited bodies) and SSE (event, id,
data, comments) to count events, heartbeats, and read the publish timestamp `"ts":<float>` out of event data."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

TS_KEY = b'"ts":'
HEARTBEAT_EVENTS = (b"heartbeat", b"ping")


@dataclass
class Counters:
    """Shared by every stream of a worker process; read and reset by the controller."""

    events: int = 0
    heartbeats: int = 0
    opened: int = 0
    closed: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    last_event_at: float = 0.0

    def error(self, kind: str) -> None:
        self.failed += 1
        self.errors[kind] = self.errors.get(kind, 0) + 1


def build_request(host: str, port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Accept: text/event-stream", "Cache-Control: no-cache"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _ts(data: bytes) -> float | None:
    k = data.find(TS_KEY)
    if k < 0:
        return None
    k += len(TS_KEY)
    while k < len(data) and data[k] == 32:  # json.dumps puts a space after the colon
        k += 1
    end = k
    n = len(data)
    while end < n and data[end] in b"0123456789.eE+-":
        end += 1
    try:
        return float(data[k:end])
    except ValueError:
        return None


class SSEStream(asyncio.Protocol):
    """One EventSource-like connection. `first_event` resolves with the time the first data event arrived;
    `done` when the connection closes."""

    def __init__(self, request: bytes, counters: Counters, *, record_latency: bool = False,
                 stop_after: int | None = None) -> None:
        self.request = request
        self.c = counters
        self.record_latency = record_latency
        self.stop_after = stop_after  # close ourselves after this many data events
        self.transport: asyncio.Transport | None = None
        self.status = 0
        self.events = 0
        self._head = b""
        self._headers_done = False
        self._chunked = False
        self._cbuf = b""
        self._crem = 0
        self._need_crlf = False
        self._sbuf = b""
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[int] = loop.create_future()
        self.first_event: asyncio.Future[float] = loop.create_future()
        # The first event that reports work (not Inkstream's `queued`, which the submit itself appends).
        self.first_work: asyncio.Future[float] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()

    # --- asyncio.Protocol ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before response ({exc})"))
            self.c.error("closed_before_response")
        elif self.status == 200:
            self.c.closed += 1
        for first in (self.first_event, self.first_work):
            if not first.done():
                first.set_exception(ConnectionError("closed before first event"))
                first.exception()  # mark retrieved
        if not self.done.done():
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        if not self._headers_done:
            self._head += data
            i = self._head.find(b"\r\n\r\n")
            if i < 0:
                return
            head, data = self._head[:i], self._head[i + 4:]
            self._head = b""
            self._headers_done = True
            try:
                self.status = int(head.split(b" ", 2)[1])
            except (IndexError, ValueError):
                self.status = -1
            self._chunked = b"transfer-encoding: chunked" in head.lower()
            if self.status != 200:
                self.c.error(f"http_{self.status}")
                self.opened.set_result(self.status)
                self.close()
                return
            self.c.opened += 1
            self.opened.set_result(self.status)
            if not data:
                return
        if self._chunked:
            data = self._dechunk(data)
        if data:
            self._parse(data)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # --- HTTP chunked transfer coding ---
    def _dechunk(self, data: bytes) -> bytes:
        buf = self._cbuf + data if self._cbuf else data
        out = []
        pos = 0
        n = len(buf)
        while True:
            if self._crem:
                take = min(self._crem, n - pos)
                out.append(buf[pos:pos + take])
                pos += take
                self._crem -= take
                if self._crem:
                    break
                self._need_crlf = True
            if self._need_crlf:
                if n - pos < 2:
                    break
                pos += 2
                self._need_crlf = False
            j = buf.find(b"\r\n", pos)
            if j < 0:
                break
            size = int(buf[pos:j].split(b";")[0], 16)
            pos = j + 2
            if size == 0:
                self.close()
                break
            self._crem = size
        self._cbuf = buf[pos:]
        return b"".join(out)

    # --- SSE ---
    def _parse(self, data: bytes) -> None:
        buf = self._sbuf + data if self._sbuf else data
        if b"\r" in buf:
            buf = buf.replace(b"\r\n", b"\n")
        blocks = buf.split(b"\n\n")
        self._sbuf = blocks.pop()
        for block in blocks:
            self._block(block)

    def _block(self, block: bytes) -> None:
        event = None
        data = None
        for line in block.split(b"\n"):
            if line.startswith(b"data:"):
                data = line[5:] if data is None else data + b"\n" + line[5:]
            elif line.startswith(b"event:"):
                event = line[6:].strip()
        if event in HEARTBEAT_EVENTS or (data is None and block.startswith(b":")):
            self.c.heartbeats += 1
            return
        if data is None:  # `retry:` only
            return
        now = time.time()
        self.c.events += 1
        self.c.last_event_at = now
        self.events += 1
        if not self.first_event.done():
            self.first_event.set_result(time.perf_counter())
        if not self.first_work.done() and event != b"queued":
            self.first_work.set_result(time.perf_counter())
        if self.record_latency:
            ts = _ts(data)
            if ts is not None:
                self.c.latencies.append(now - ts)
        if self.stop_after is not None and self.events >= self.stop_after:
            self.close()


async def open_stream(host: str, port: int, request: bytes, counters: Counters, **kw: object) -> SSEStream:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(lambda: SSEStream(request, counters, **kw), host, port)  # type: ignore[arg-type]
    return proto
