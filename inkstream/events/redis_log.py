"""EventLog for the distributed mode: PostgreSQL keeps the durable log, Redis Streams mirror it for reads and
a Redis channel rings every API node when a task has news.

Why both: the Redis here may run without persistence and may restart; the log must not lose an event or reuse
an id when it does. So ids and dedupe live in the database (one transaction per append), each event is mirrored
to the stream `<prefix>:events:<task>` with the id `0-<n>` (so Last-Event-ID n maps to XRANGE `(0-n`), and readers
serve from Redis when it holds a contiguous run after their cursor, from the database otherwise (Redis restarted,
stream trimmed, or a mirror write missed while Redis was down). The doorbell is a hint: a reader woken for
nothing re-reads; a reader never woken still re-reads at its heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from inkstream.events.log import TERMINAL_EVENT, StoredEvent
from inkstream.events.sql_log import SqlEventLog

log = logging.getLogger(__name__)

# While Redis is unreachable nobody rings the doorbell: readers poll the database this often instead.
_DEGRADED_POLL = 1.0


class RedisEventLog:
    def __init__(self, sql: SqlEventLog, redis: Redis, prefix: str, retention_seconds: int) -> None:
        self._sql = sql
        self._redis = redis
        self._prefix = prefix
        self._channel = f"{prefix}:doorbell"
        self._retention = retention_seconds
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = False

    def _key(self, task_id: str) -> str:
        return f"{self._prefix}:events:{task_id}"

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="inkstream-doorbell")

    # --- writing ---
    async def append(
        self, task_id: str, event: str, data: dict[str, Any], *, dedupe_key: str | None = None
    ) -> StoredEvent:
        stored, created = await self._sql.append_durably(
            task_id, event, data, dedupe_key=dedupe_key, before_commit=lambda e: self._mirror(task_id, e)
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
            # The stream holds an id ≥ this one: a mirror write whose database transaction then failed. Drop the
            # mirror; readers fall back to the database until it fills again.
            log.warning("event mirror of task %s out of order at %s; dropping it", task_id, stored.id)
            with contextlib.suppress(RedisError, OSError):
                await self._redis.delete(key)
        except (RedisError, OSError) as exc:
            log.warning("event mirror write failed (%s); readers will use the database", type(exc).__name__)

    # --- reading ---
    async def read_after(self, task_id: str, after: int, limit: int = 500) -> list[StoredEvent]:
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
            return run
        return await self._sql.read_after(task_id, after, limit)

    async def last_id(self, task_id: str) -> int:
        return await self._sql.last_id(task_id)

    async def wait(self, task_id: str, after: int, max_wait: float) -> None:
        signal = self._sql.signal_for(task_id)
        try:  # checked after taking the signal: an event landing since the caller's read is not missed
            top = await self._redis.xrevrange(self._key(task_id), count=1)
            if top and int(top[0][0].split(b"-")[1]) > after:
                return
            healthy = self._subscribed
        except (RedisError, OSError):
            healthy = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(signal.wait(), max_wait if healthy else min(max_wait, _DEGRADED_POLL))

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._subscribed = True
                self._sql.notify_all()  # rings may have been missed while (re)subscribing
                delay = 0.2
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._sql.notify(message["data"].decode().split(" ", 1)[0])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self._subscribed = False
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
