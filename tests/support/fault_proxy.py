"""A loopback TCP proxy that breaks connections on command, for testing clients against a flaky network.

It runs its own asyncio loop in a thread, so a test (sync or async) drives it with plain method calls:

    proxy = FaultProxy(server.port).start()
    proxy.cut(after_bytes=120, match="/stream/")  # close open stream connections after 120 more bytes down
    proxy.stall(match="/stream/")                 # forward nothing more, keep the sockets open
    proxy.refuse(0.5)                             # stop listening for 0.5 s (connection refused)
    proxy.refuse(0.5, mode="reset")               # accept and reset at once for 0.5 s

`match` selects connections by the path of the last request seen on them. What passed through is recorded:
`accepted` (connections), `requests` (request lines), `faults` (what was done, when).
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

_REQUEST_LINE = re.compile(rb"(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) (\S+) HTTP/1\.[01]\r\n")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(eq=False)
class Connection:
    id: int
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    last_request: str = ""
    budget: int | None = None  # bytes still forwarded downstream before the cut
    rst: bool = False
    stalled: bool = False
    closed: bool = False
    released: asyncio.Event = field(default_factory=asyncio.Event)  # never set: a stalled pump waits on it
    down_bytes: int = 0

    def close(self, rst: bool = False) -> None:
        if self.closed:
            return
        self.closed = True
        for writer in (self.client, self.upstream):
            if writer is None:
                continue
            if rst:
                writer.transport.abort()
            else:
                writer.close()


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.requests: list[str] = []
        self.faults: list[tuple[float, str, str]] = []  # (monotonic time, kind, detail)
        self._open: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._reset_until = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)

    # --- lifecycle (called from the test's thread) ---
    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for conn in list(self._open):
                conn.close(rst=True)

        self._call(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # --- faults ---
    def open_connections(self, match: str | None = None) -> list[int]:
        """Ids of the open connections whose last request path contains `match`."""
        return [c.id for c in list(self._open) if not c.closed and c.last_request
                and (match is None or match in c.last_request)]

    def is_open(self, connection_id: int) -> bool:
        return any(c.id == connection_id and not c.closed for c in list(self._open))

    def cut(self, after_bytes: int = 0, match: str | None = None, rst: bool = False) -> int:
        """Close the open matching connections after `after_bytes` more bytes to the client (FIN, or RST).
        Returns how many connections were armed."""

        async def arm() -> int:
            conns = self._matching(match)
            for conn in conns:
                if after_bytes <= 0:
                    conn.close(rst)
                else:
                    conn.budget, conn.rst = after_bytes, rst
            self._note("cut", f"{len(conns)} conn(s) after {after_bytes} B {'rst' if rst else 'fin'}")
            return len(conns)

        return int(self._call(arm()))

    def stall(self, match: str | None = None) -> int:
        """Stop forwarding anything on the open matching connections; their sockets stay open."""

        async def freeze() -> int:
            conns = self._matching(match)
            for conn in conns:
                conn.stalled = True
            self._note("stall", f"{len(conns)} conn(s)")
            return len(conns)

        return int(self._call(freeze()))

    def refuse(self, seconds: float, mode: Literal["close", "reset"] = "close") -> None:
        """For `seconds`, refuse new connections: stop listening ("close") or accept and reset ("reset")."""

        async def refuse() -> None:
            self._note("refuse", f"{mode} {seconds}s")
            if mode == "reset":
                self._reset_until = time.monotonic() + seconds
                return
            assert self._server is not None
            self._server.close()
            self._server = None
            await asyncio.sleep(seconds)
            await self._listen()

        asyncio.run_coroutine_threadsafe(refuse(), self._loop)  # returns now; listening resumes on its own

    def wait_for(self, match: str | None = None, timeout: float = 10.0) -> bool:
        """Wait until a matching connection is open (a request on it seen)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.open_connections(match):
                return True
            time.sleep(0.01)
        return False

    def count(self, fragment: str) -> int:
        return sum(fragment in line for line in list(self.requests))

    # --- inside the proxy's loop ---
    def _note(self, kind: str, detail: str) -> None:
        self.faults.append((time.monotonic(), kind, detail))

    def _matching(self, match: str | None) -> list[Connection]:
        ids = set(self.open_connections(match))
        return [c for c in self._open if c.id in ids]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        conn = Connection(self.accepted, writer)
        if time.monotonic() < self._reset_until:
            conn.close(rst=True)
            return
        try:
            up_reader, conn.upstream = await asyncio.open_connection(*self.upstream)
        except OSError:  # the server is down: the client sees a connection closed before any response
            conn.close()
            return
        self._open.add(conn)
        pumps = [asyncio.create_task(self._up(conn, reader)), asyncio.create_task(self._down(conn, up_reader))]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            conn.close(conn.rst)
            self._open.discard(conn)

    async def _up(self, conn: Connection, reader: asyncio.StreamReader) -> None:
        assert conn.upstream is not None
        while not conn.closed:
            data = await reader.read(65536)
            if not data:
                return
            for match in _REQUEST_LINE.finditer(data):
                conn.last_request = f"{match.group(1).decode()} {match.group(2).decode(errors='replace')}"
                self.requests.append(conn.last_request)
            if conn.stalled:
                continue  # swallowed; reading on notices when the client gives up
            conn.upstream.write(data)
            await conn.upstream.drain()

    async def _down(self, conn: Connection, reader: asyncio.StreamReader) -> None:
        while not conn.closed:
            data = await reader.read(65536)
            if not data:
                return
            if conn.stalled:
                await conn.released.wait()
            if conn.budget is not None and len(data) >= conn.budget:
                conn.client.write(data[: conn.budget])
                await conn.client.drain()
                conn.down_bytes += conn.budget
                conn.close(conn.rst)
                return
            if conn.budget is not None:
                conn.budget -= len(data)
            conn.client.write(data)
            conn.down_bytes += len(data)
            await conn.client.drain()
