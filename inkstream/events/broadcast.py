"""The per-task broadcaster: one reader per task per process hands each event, encoded once, to every stream.

Before it, each open stream ran its own wait → read loop on the event log: with 1,000 streams on one task every
event woke 1,000 readers that each asked the log and looked the frame up. Now one reader per task waits on the
log (the in-process signal in the embedded mode; the doorbell and one XRANGE in the distributed mode), encodes the
event once per viewer, and appends the bytes to each subscriber's bounded buffer; a stream only sends.

Joining without a gap: a new or resuming stream first replays from the log at its own cursor (Last-Event-ID)
until it has caught up with the task's reader; the join happens with no `await` between that check and the
registration, so every event after the reader's cursor reaches it live, and none it already sent comes twice.

Heartbeats come from the reader too: when the task has been quiet for a heartbeat interval it hands one heartbeat
frame to every stream, so a waiting stream needs no timer of its own (a timer per stream per wake was a tenth of
the fan-out's CPU).

A subscriber that falls behind (`buffer_size` frames unsent) must not slow the reader or the others: it stops
receiving, sends what it holds — a contiguous run of events — and its stream ends cleanly. The client reconnects
with the last id it got (EventSource does that by itself) and replays the rest from the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sse_starlette import ServerSentEvent

from inkstream.events.log import TERMINAL_EVENT, EventLog, StoredEvent
from inkstream.events.stream import Ending, FrameCache, Presenter, StreamCounters, encode_data

log = logging.getLogger(__name__)


class Wakeup:
    """What wakes one stream: asyncio.Event for a single waiter, without the Event's waiter deque (~0.6 KB per open
    stream, measured against bare sse-starlette in the idle benchmark) and with a cheaper set/wait per event."""

    __slots__ = ("_flag", "_waiter")

    def __init__(self) -> None:
        self._flag = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._flag = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        self._flag = False

    async def wait(self) -> None:
        if self._flag:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


@dataclass(eq=False, slots=True)
class _Subscriber:
    viewer: int
    present: Presenter
    cursor: int  # the newest event id queued for (or already sent to) this stream
    frames: list[bytes] = field(default_factory=list)  # a list, not a deque: ~0.6 KB less per idle stream
    events: int = 0  # how many of `frames` are events (the others are heartbeats)
    wake: Wakeup = field(default_factory=Wakeup)
    overflowed: bool = False
    ended: bool = False  # `finish` is in its buffer, or the task's reader failed


@dataclass(eq=False, slots=True)
class _Channel:
    task_id: str
    cursor: int  # the newest event id the reader has handed out
    subscribers: set[_Subscriber] = field(default_factory=set)
    reader: asyncio.Task[None] | None = None
    quiet_since: float = field(default_factory=time.monotonic)


class Broadcaster:
    def __init__(self, events: EventLog, frames: FrameCache, *, heartbeat_interval: float,
                 buffer_size: int = 256) -> None:
        self._log = events
        self._frames = frames
        self._heartbeat = heartbeat_interval
        self._buffer_size = buffer_size
        self._channels: dict[str, _Channel] = {}

    def readers(self) -> int:
        """Tasks with a reader in this process (for tests and metrics)."""
        return len(self._channels)

    def subscribers(self) -> int:
        """Streams joined to a task's reader in this process."""
        return sum(len(channel.subscribers) for channel in self._channels.values())

    async def stream(
        self, task_id: str, after: int, *, retry_ms: int, viewer: int, present: Presenter,
        counters: StreamCounters | None = None, ending: Ending | None = None, wake: Wakeup | None = None,
    ) -> AsyncIterator[bytes]:
        """One task's SSE stream from cursor `after`: `retry:` first, the replay, then live with heartbeats.

        `ending` is asked between sends: a reason (the session was revoked) ends the stream with a final `error`
        event carrying it; `wake`, when given, is the event that wakes this stream (set it to make it ask now)."""

        def final() -> bytes | None:
            reason = ending() if ending is not None else None
            return None if reason is None else ServerSentEvent(event="error", data=encode_data(reason)).encode()

        if counters is not None:
            counters.opened()
        try:
            yield ServerSentEvent(retry=retry_ms, comment="inkstream").encode()
            cursor = after
            while True:  # replay from the log until this stream can join the live fan-out
                channel = self._channels.get(task_id)
                if channel is not None and cursor >= channel.cursor:
                    break
                if (last := final()) is not None:
                    yield last
                    return
                batch = await self._log.read_after(task_id, cursor)
                for stored in batch:
                    yield self._frames.frame(task_id, viewer, stored, present)
                    if counters is not None:
                        counters.event_sent()
                    cursor = stored.id
                    if stored.event == TERMINAL_EVENT:
                        return
                if not batch:
                    if task_id not in self._channels:
                        break  # caught up with the log, and nobody reads this task yet: start its reader
                    await asyncio.sleep(0.01)  # the reader is ahead of what the log showed: it will show it
            sub = _Subscriber(viewer, present, cursor) if wake is None else \
                _Subscriber(viewer, present, cursor, wake=wake)
            channel = self._join(task_id, sub)
            try:
                while True:
                    if (last := final()) is not None:
                        yield last
                        return
                    if sub.frames:
                        events, sub.events = sub.events, 0
                        chunk = b"".join(sub.frames)  # behind by several frames: one send for all of them
                        sub.frames.clear()
                        yield chunk
                        if counters is not None:
                            for _ in range(events):
                                counters.event_sent()
                        continue
                    if sub.ended or sub.overflowed:
                        return  # finished, or fell behind: what it held is sent; the client resumes from there
                    sub.wake.clear()  # no await since the buffer was seen empty: nothing can have been missed
                    await sub.wake.wait()
            finally:
                self._leave(channel, sub)
        finally:
            if counters is not None:
                counters.closed()

    def _join(self, task_id: str, sub: _Subscriber) -> _Channel:
        channel = self._channels.get(task_id)
        if channel is None:
            channel = self._channels[task_id] = _Channel(task_id, sub.cursor)
            channel.reader = asyncio.create_task(self._read(channel), name=f"broadcast-{task_id}")
        channel.subscribers.add(sub)
        return channel

    def _leave(self, channel: _Channel, sub: _Subscriber) -> None:
        channel.subscribers.discard(sub)
        if not channel.subscribers:
            self._close(channel)

    def _close(self, channel: _Channel) -> None:
        if self._channels.get(channel.task_id) is channel:
            del self._channels[channel.task_id]
        if channel.reader is not None and channel.reader is not asyncio.current_task():
            channel.reader.cancel()

    async def _read(self, channel: _Channel) -> None:
        task_id = channel.task_id
        try:
            while True:
                remaining = self._heartbeat - (time.monotonic() - channel.quiet_since)
                if remaining <= 0:
                    self._heartbeat_all(channel)
                    continue
                if not await self._log.wait(task_id, channel.cursor, remaining):
                    continue
                batch = await self._log.read_after(task_id, channel.cursor)
                for stored in batch:
                    self._deliver(channel, stored)
                    channel.cursor = stored.id
                    if stored.event == TERMINAL_EVENT:
                        self._end(channel)
                        return
                if batch:
                    channel.quiet_since = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception:  # the log failed: end the streams cleanly; their clients resume from their last ids
            log.exception("broadcast reader of task %s failed", task_id)
            self._end(channel)

    def _end(self, channel: _Channel) -> None:
        self._close(channel)  # later streams replay from the log, where this end is too
        for sub in channel.subscribers:
            sub.ended = True
            sub.wake.set()

    def _heartbeat_all(self, channel: _Channel) -> None:
        frame = ServerSentEvent(event="heartbeat", data=encode_data({"ts": time.time()})).encode()
        for sub in channel.subscribers:
            if not sub.overflowed and len(sub.frames) < self._buffer_size:
                sub.frames.append(frame)
                sub.wake.set()
        channel.quiet_since = time.monotonic()

    def _deliver(self, channel: _Channel, stored: StoredEvent) -> None:
        frames: dict[int, bytes] = {}  # one encoding per viewer (a task's streams are usually all its owner's)
        for sub in channel.subscribers:
            if stored.id <= sub.cursor or sub.overflowed:
                continue
            if len(sub.frames) >= self._buffer_size:
                sub.overflowed = True  # fell behind: it ends after what it holds, and resumes from there
                sub.wake.set()
                continue
            frame = frames.get(sub.viewer)
            if frame is None:
                frame = frames[sub.viewer] = self._frames.frame(channel.task_id, sub.viewer, stored, sub.present)
            sub.frames.append(frame)
            sub.events += 1
            sub.cursor = stored.id
            sub.wake.set()
