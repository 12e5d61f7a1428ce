"""The SSE stream of one task: replay from a cursor, then live, with heartbeats.

Framing is sse-starlette's; this module decides *what* is sent: `retry:` first, every event with its log id,
a `heartbeat` (no id, so it never moves the client's Last-Event-ID) whenever the line has been quiet, and the
end of the stream right after `finish`.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from sse_starlette import ServerSentEvent

from inkstream.events.log import TERMINAL_EVENT, EventLog, StoredEvent

Presenter = Callable[[StoredEvent], dict[str, Any]]


def _encode(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


async def task_stream(
    log: EventLog,
    task_id: str,
    after: int,
    *,
    retry_ms: int,
    heartbeat_interval: float,
    present: Presenter,
) -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(retry=retry_ms, comment="inkstream")
    cursor = after
    quiet_since = time.monotonic()
    maybe_new = True
    while True:
        if maybe_new:
            batch = await log.read_after(task_id, cursor)
            for stored in batch:
                yield ServerSentEvent(id=str(stored.id), event=stored.event, data=_encode(present(stored)))
                cursor = stored.id
                if stored.event == TERMINAL_EVENT:
                    return
            if batch:
                quiet_since = time.monotonic()
                continue
        remaining = heartbeat_interval - (time.monotonic() - quiet_since)
        if remaining <= 0:
            # A heartbeat needs no read of its own: the wait below says whether anything may have arrived.
            yield ServerSentEvent(event="heartbeat", data=_encode({"ts": time.time()}))
            quiet_since = time.monotonic()
            remaining = heartbeat_interval
        maybe_new = await log.wait(task_id, cursor, remaining)
