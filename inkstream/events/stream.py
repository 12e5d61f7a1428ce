"""SSE framing of a task's stream: the frame cache and the types the broadcaster (events/broadcast.py) uses.

Framing is sse-starlette's; a stream sends `retry:` first, every event with its log id, a `heartbeat` (no id, so
it never moves the client's Last-Event-ID) whenever the line has been quiet, and ends right after `finish`.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from sse_starlette import ServerSentEvent

from inkstream.events.log import StoredEvent

Presenter = Callable[[StoredEvent], dict[str, Any]]
# Says why the stream must end now (its session was revoked), as the data of a final `error` event; else None.
Ending = Callable[[], dict[str, Any] | None]


class StreamCounters(Protocol):
    def opened(self) -> None: ...
    def closed(self) -> None: ...
    def event_sent(self) -> None: ...


def encode_data(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class FrameCache:
    """The SSE bytes of recent events, encoded once per process and shared by all streams of one viewer.

    A task's events read the same in every stream its owner opens, yet with 1,000 streams on one task each event
    was turned into JSON and SSE text 1,000 times: a fifth of the server's time in the fan-out benchmark. Frames
    older than `max_age` are encoded again, so the signed image URLs in them stay fresh."""

    def __init__(self, max_frames: int = 8192, max_age: float = 300.0) -> None:
        self._max_frames = max_frames
        self._max_age = max_age
        self._frames: OrderedDict[tuple[str, int, int], tuple[bytes, float]] = OrderedDict()

    def frame(self, task_id: str, viewer: int, stored: StoredEvent, present: Presenter) -> bytes:
        key = (task_id, stored.id, viewer)
        now = time.monotonic()
        cached = self._frames.get(key)
        if cached is not None and now - cached[1] < self._max_age:
            return cached[0]
        frame = ServerSentEvent(id=str(stored.id), event=stored.event, data=encode_data(present(stored))).encode()
        self._frames[key] = (frame, now)
        if len(self._frames) > self._max_frames:
            self._frames.popitem(last=False)
        return frame
