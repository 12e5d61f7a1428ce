"""EventLog for the distributed mode: PostgreSQL keeps the durable log, Redis Streams mirror it for reads and
a Redis channel rings every API node when a task has news.

Why both: the Redis here may run without persistence and may restart; the log must not lose an event or reuse
an id when it does. So ids and dedupe live in the database (one transaction per append), each event is mirrored
to the stream `<prefix>:events:<task>` with the id `0-<n>` (so Last-Event-ID n maps to XRANGE `(0-n`), and readers
serve from Redis when it holds a contiguous run after their cursor, up to the newest committed id (the mirror is
written before the commit, so it may briefly hold an append that then rolls back), from the database otherwise
(Redis restarted, stream trimmed, or a mirror write missed while Redis was down). The doorbell is a hint: a reader
woken for nothing re-reads; a reader never woken still re-reads at its heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from inkstream.events.log import TERMINAL_EVENT, Guard, StoredEvent
from inkstream.events.sql_log import SqlEventLog

log = logging.getLogger(__name__)
T = TypeVar("T")

# While Redis is unreachable nobody rings the doorbell: readers poll the database this often instead.
_DEGRADED_POLL = 1.0
# While subscribed, a quiet task's stream head is confirmed against Redis at most this often (not per heartbeat
# per reader): the bound on how late a reader sees an event whose doorbell ring was never sent.
_RECHECK = 30.0
_HEADS_KEPT = 50_000


class RedisEventLog:
    def __init__(self, sql: SqlEventLog, redis: Redis, prefix: str, retention_seconds: int) -> None:
        self._sql = sql
        self._redis = redis
        self._prefix = prefix
        self._channel = f"{prefix}:doorbell"
        self._retention = retention_seconds
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = False
        # Bumped on every (re)subscription and every loss of it: rings may have been missed across a change.
        self._epoch = 0
        # task -> (newest event id known, epoch it was learnt in, when Redis last confirmed it)
        self._heads: OrderedDict[str, tuple[int, int, float]] = OrderedDict()
        self._inflight: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    def _key(self, task_id: str) -> str:
        return f"{self._prefix}:events:{task_id}"

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="inkstream-doorbell")

    # --- writing ---
    async def append(
        self, task_id: str, event: str, data: dict[str, Any], *, dedupe_key: str | None = None,
        guard: Guard | None = None,
    ) -> StoredEvent:
        stored, created = await self._sql.append_durably(
            task_id, event, data, dedupe_key=dedupe_key, before_commit=lambda e: self._mirror(task_id, e),
            guard=guard,
        )
        if created:
            with contextlib.suppress(RedisError, OSError):
                await self._redis.publish(self._channel, f"{task_id} {stored.id}")
        return stored

    async def _mirror(self, task_id: str, stored: StoredEvent) -> None:
        key = self._key(task_id)
        payload = json.dumps(stored.data, ensure_ascii=False, separators=(",", ":"))
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xadd(key, {"e": stored.event, "d": payload}, id=f"0-{stored.id}")
                if stored.event == TERMINAL_EVENT:
                    pipe.expire(key, self._retention)
                await pipe.execute()
        except ResponseError:
            # The stream holds an id ≥ this one: a mirror write whose database transaction then failed (a writer
            # killed between the two). Drop the mirror before this id commits, so that phantom is never read as
            # this id; readers fall back to the database until it fills again. If even that fails, so does this
            # append (its transaction rolls back) rather than commit an id Redis holds the wrong event for.
            log.warning("event mirror of task %s out of order at %s; dropping it", task_id, stored.id)
            await self._redis.delete(key)
        except (RedisError, OSError) as exc:
            log.warning("event mirror write failed (%s); readers will use the database", type(exc).__name__)

    # --- reading ---
    async def _shared(self, key: tuple[Any, ...], read: Callable[[], Awaitable[T]]) -> T:
        """One read in flight per key: when an event rings, every stream of that task on this node wakes at
        the same cursor, and 1,000 streams asking Redis the same XRANGE was most of this node's fan-out cost.
        Shielded, so a stream that goes away does not cancel the read the others wait on."""
        pending = self._inflight.get(key)
        if pending is None or pending.done():  # a finished read may predate the event this caller was woken for
            pending = self._inflight[key] = asyncio.ensure_future(read())

            def forget(done: asyncio.Future[Any]) -> None:
                if self._inflight.get(key) is done:
                    del self._inflight[key]

            pending.add_done_callback(forget)
        return await asyncio.shield(pending)  # type: ignore[no-any-return]

    async def read_after(self, task_id: str, after: int, limit: int = 500) -> list[StoredEvent]:
        """Events after the cursor; callers share the returned list and must not change it."""
        return await self._shared(("read", task_id, after, limit), lambda: self._read_after(task_id, after, limit))

    async def _read_after(self, task_id: str, after: int, limit: int) -> list[StoredEvent]:
        try:
            entries = await self._redis.xrange(self._key(task_id), min=f"(0-{after}", max="+", count=limit)
        except (RedisError, OSError):
            entries = []
        run: list[StoredEvent] = []
        expected = after + 1
        for entry_id, fields in entries:
            event_id = int(entry_id.split(b"-")[1])
            if event_id != expected:
                break
            run.append(StoredEvent(event_id, fields[b"e"].decode(), json.loads(fields[b"d"])))
            expected += 1
        if run:
            # The mirror is written inside the append's transaction, before its commit: entries past the newest
            # committed id may still roll back (a writer killed mid-append), so they are not served yet.
            known = self._heads.get(task_id)
            committed = known[0] if known is not None else 0
            if run[-1].id > committed:
                epoch, asked_at = self._epoch, time.monotonic()  # as of the question: rings may come meanwhile
                committed = await self._sql.last_id(task_id)
                self._note_head(task_id, committed, epoch, asked_at)
            return run[: max(0, committed - after)]
        return await self._sql.read_after(task_id, after, limit)

    async def last_id(self, task_id: str) -> int:
        return await self._sql.last_id(task_id)

    def known_last_id(self, task_id: str) -> int:
        known = self._heads.get(task_id)  # rung by the doorbell after each commit, or read from the database
        return known[0] if known is not None else 0

    def notify(self, task_id: str) -> None:
        self._sql.notify(task_id)

    def forget(self, task_id: str) -> None:
        self._sql.forget(task_id)
        self._heads.pop(task_id, None)

    async def wait(self, task_id: str, after: int, max_wait: float) -> bool:
        signal = self._sql.signal_for(task_id)
        epoch = self._epoch
        # Checked after taking the signal: an event landing since the caller's read is not missed.
        if await self._head(task_id, epoch) > after:
            return True
        healthy = self._subscribed
        try:
            async with asyncio.timeout(max_wait if healthy else min(max_wait, _DEGRADED_POLL)):
                await signal.wait()
        except TimeoutError:
            # Unrung while subscribed the whole time: no append was announced, so the caller may skip its read.
            return not (healthy and self._subscribed and self._epoch == epoch)
        return True

    async def _head(self, task_id: str, epoch: int) -> int:
        """The task's newest event id as far as this node knows: from the doorbell while subscribed, checked
        against the database at most every _RECHECK seconds per task (the safety net for a ring that was never
        sent, e.g. a writer that lost Redis while this node did not)."""
        known = self._heads.get(task_id)
        now = time.monotonic()
        if known is not None and known[1] == epoch and now - known[2] < _RECHECK:
            return known[0]
        # From the database, not the Redis mirror: an append whose mirror write and ring both failed is only there.
        head = await self._shared(("head", task_id), lambda: self._sql.last_id(task_id))
        self._note_head(task_id, head, epoch, now)
        return head

    def _note_head(self, task_id: str, head: int, epoch: int, checked_at: float) -> None:
        known = self._heads.pop(task_id, None)
        if known is not None and known[1] == epoch:
            head = max(head, known[0])  # a ring may have come in while Redis was being asked
        self._heads[task_id] = (head, epoch, checked_at)
        if len(self._heads) > _HEADS_KEPT:
            self._heads.popitem(last=False)

    def _rung(self, task_id: str, event_id: int) -> None:
        known = self._heads.get(task_id)
        if known is not None and known[1] == self._epoch:
            self._heads[task_id] = (max(known[0], event_id), known[1], known[2])
        else:
            # Kept even for a task this node has not asked about: a reader may be asking the database right now,
            # and its answer, from before this commit, must not hide the ring (a stream that joined then waited
            # for _RECHECK on a finished task). Unconfirmed (checked at 0): the next _head still asks the database.
            self._note_head(task_id, event_id, self._epoch, 0.0)
        self._sql.notify(task_id)

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed = True
                self._epoch += 1  # what was learnt before this subscription is re-checked
                self._sql.notify_all()  # rings may have been missed while (re)subscribing
                delay = 0.2
                while True:
                    # get_message with its own timeout, not listen(): listen() reads under the client's
                    # socket_timeout (5 s), so a quiet channel raised TimeoutError every 5 s, which looked like a
                    # lost doorbell and woke every reader of every task (notify_all).
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        task_id, _, event_id = message["data"].decode().partition(" ")
                        self._rung(task_id, int(event_id) if event_id.isdigit() else 0)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._subscribed = False
                self._epoch += 1
                log.warning("doorbell lost (%s); reconnecting in %.1fs", type(exc).__name__, delay)
                self._sql.notify_all()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._sql.close()
