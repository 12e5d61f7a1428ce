"""Streamed text as events: a TextSink that turns a generator's chunks into coalesced `*_delta` events.

Each delta is appended to the task's event log like every other event, so a client that reconnects (or reloads)
gets the text so far replayed from its Last-Event-ID exactly once. Coalescing keeps a token-by-token model from
writing one log row per token: at most one delta per `interval` seconds, and text never waits longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from inkstream.events.log import EventLog

DELTA_INTERVAL = 0.1


class DeltaWriter:
    """Collects chunks and appends them as `{event}` events `{text}` (plus `reset: true` after a restart)."""

    def __init__(self, events: EventLog, task_id: str, event: str, interval: float = DELTA_INTERVAL) -> None:
        self._events = events
        self._task_id = task_id
        self._event = event
        self._interval = interval
        self._buffer: list[str] = []
        # The first delta of every run says `reset`: a run repeated after a crash starts its text over, and a
        # client holding the crashed run's partial text must drop it.
        self._reset = True
        self._last_sent = float("-inf")
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # appends stay in order even when the timer and a write race
        self.sent = 0

    async def write(self, text: str) -> None:
        if not text:
            return
        self._buffer.append(text)
        due = self._last_sent + self._interval - time.monotonic()
        if due <= 0:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.create_task(self._flush_later(due))

    async def restart(self) -> None:
        """The generator starts its text over (a repair retry): clients must drop what they have."""
        self._buffer.clear()
        self._reset = True

    async def _flush_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._timer = None
        await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            if not self._buffer:
                return
            data: dict[str, Any] = {"text": "".join(self._buffer)}
            if self._reset:
                data["reset"] = True
            self._buffer.clear()
            self._reset = False
            self._last_sent = time.monotonic()
            await self._events.append(self._task_id, self._event, data)
            self.sent += 1

    def abandon(self) -> None:
        """Drop unsent text and the pending timer: the run was cancelled, and nothing may follow its `finish`."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._buffer.clear()

    async def close(self) -> None:
        """Send what is left; call before the final `outline` / `copy` event."""
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
        await self.flush()
