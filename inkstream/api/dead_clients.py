"""Dead clients: a connection whose peer vanished without a FIN (a phone out of coverage) ends within seconds.

A write to such a peer succeeds into the kernel's send buffer, so the stream's heartbeats alone never notice it:
the kernel retransmits them for ~15 minutes (tcp_retries2) while the stream, its reader and its buffers stay.
With TCP_USER_TIMEOUT the kernel aborts a connection whose sent bytes stay unacknowledged that long; uvicorn
then sees the connection lost and the stream is cancelled and freed. Set per accepted connection (every HTTP
connection, not only streams: any peer that acknowledges nothing for that long is gone), so a vanished stream
client is dropped at most one heartbeat interval (the next heartbeat) plus this timeout after it vanished.
A client that merely reads slowly keeps acknowledging and is not affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


def protocol_with_user_timeout(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class, setting TCP_USER_TIMEOUT on each TCP connection it serves."""
    millis = max(1, int(seconds * 1000))
    base: type = AutoHTTPProtocol

    class DeadClientAwareProtocol(base):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.Transport) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6) and hasattr(
                    socket, "TCP_USER_TIMEOUT"):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, millis)
            super().connection_made(transport)

    return DeadClientAwareProtocol
