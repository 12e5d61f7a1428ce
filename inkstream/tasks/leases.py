"""Page leases: a running page belongs to one worker, which renews its short lease while it works.

Why: arq marks a started job "in progress" until its timeout (page_timeout + 5 s, about ten minutes with the
defaults) and has no heartbeat, so the page of a SIGKILLed worker waited that long. Here a lease is a Redis key
with a short TTL (`lease_seconds`, 10 s by default) that its holder renews every third of it; every worker's
watcher looks each second for leases that lapsed and queues their page again, under a job id made from the lapsed
lease (`page:<task>:<index>:<round>:lapse<generation>`), so each lapse is re-run once however many watchers see it.

Fencing: a holder that lost its lease (paused, cut off from Redis, or its key taken over) is cancelled by its
renewer, and every write of a page's result checks the lease first — the event append runs that check inside its
database transaction (`guard`), so a stale worker's `complete` is refused, not committed. Each check also extends
the lease to a full TTL, so no one else can take it between the check and the commit unless this process stalls
for a whole lease there; even then the `complete:<page>:<round>` dedupe key keeps the result from showing twice.

Hand-written (about 150 lines) rather than a queue with heartbeats (SAQ): see README, "Leased page jobs".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from inkstream.errors import LeaseBusy, LeaseLost

log = logging.getLogger(__name__)

_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

# KEYS: lease, index zset, generation counter. ARGV: worker id, ttl ms, member prefix "task|index|round".
_ACQUIRE = _NOW_MS + """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local gen = redis.call('INCR', KEYS[3])
local token = gen .. '|' .. ARGV[1]
redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + ARGV[2], ARGV[3] .. '|' .. gen)
return token
"""

# KEYS: lease, index zset. ARGV: token, ttl ms, member. 0: someone else holds it now.
# A free key is taken back: it means Redis restarted, or this lease lapsed and nobody has taken it yet — in both
# cases holding on is safe, and the re-queued job finds the lease held and leaves the page to us.
_KEEP = _NOW_MS + """
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now + ARGV[2], ARGV[3])
return 1
"""

# KEYS: lease, index zset. ARGV: token, member.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""

# KEYS: index zset. ARGV: max members, lease key prefix. Returns the members whose lease lapsed with nobody
# holding the page now; each is removed here, atomically, so only one watcher re-queues it.
# (It reads lease keys not named in KEYS: fine on one Redis, not on Redis Cluster.)
_REAP = _NOW_MS + """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[1])
local lapsed = {}
for _, member in ipairs(due) do
  local task, index = string.match(member, '^([^|]+)|([^|]+)|')
  local ttl = redis.call('PTTL', ARGV[2] .. task .. ':' .. index)
  if ttl > 0 then
    local holder = redis.call('GET', ARGV[2] .. task .. ':' .. index)
    local gen = string.match(member, '|([^|]+)$')
    if string.match(holder, '^([^|]+)|') == gen then
      redis.call('ZADD', KEYS[1], now + ttl, member)  -- alive after all: keep watching it
    else
      redis.call('ZREM', KEYS[1], member)  -- another holder runs the page; its own member is watched
    end
  else
    redis.call('ZREM', KEYS[1], member)
    table.insert(lapsed, member)
  end
end
return lapsed
"""


@dataclass(frozen=True)
class Lapsed:
    """A page whose holder stopped renewing: who runs it again is decided by the job id."""

    task_id: str
    index: int
    round: int
    generation: int

    @property
    def is_copy(self) -> bool:
        return self.index < 0  # the task's post copy (runner.COPY_LEASE), leased like a page

    @property
    def job_id(self) -> str:
        if self.is_copy:
            return f"copy:{self.task_id}:{self.round}:lapse{self.generation}"
        return f"page:{self.task_id}:{self.index}:{self.round}:lapse{self.generation}"


class Lease(Protocol):
    async def check(self) -> None:
        """Raise LeaseLost unless this worker still holds the page (and keep holding it for a full TTL)."""
        ...


class Leases(Protocol):
    def hold(self, task_id: str, index: int, round_: int) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Hold the page while the block runs. LeaseBusy when another worker holds it; LeaseLost out of the
        block (which is cancelled) when the lease is lost meanwhile."""
        ...


class _NoLease:
    async def check(self) -> None:
        return None


class LocalLeases:
    """The embedded mode: one process runs every page, so there is no one to lease from."""

    @contextlib.asynccontextmanager
    async def _hold(self) -> AsyncIterator[Lease]:
        yield _NoLease()

    def hold(self, task_id: str, index: int, round_: int) -> contextlib.AbstractAsyncContextManager[Lease]:
        return self._hold()


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class RedisLeases:
    def __init__(self, redis: Redis, prefix: str, ttl: float, owner: str | None = None) -> None:
        self._redis = redis
        self._prefix = prefix
        self.ttl = ttl
        self.owner = owner or worker_id()
        self._acquire = redis.register_script(_ACQUIRE)
        self._keep = redis.register_script(_KEEP)
        self._release = redis.register_script(_RELEASE)
        self._reap = redis.register_script(_REAP)

    @property
    def index_key(self) -> str:
        return f"{self._prefix}:leases"

    def key(self, task_id: str, index: int) -> str:
        return f"{self._prefix}:lease:{task_id}:{index}"

    def hold(self, task_id: str, index: int, round_: int) -> RedisLease:
        return RedisLease(self, task_id, index, round_)

    async def reap(self, limit: int = 100) -> list[Lapsed]:
        """Take the lapsed leases off the watch list; the caller queues their pages again."""
        members = await self._reap(keys=[self.index_key], args=[limit, f"{self._prefix}:lease:"])
        lapsed = []
        for member in members:
            task_id, index, round_, generation = member.decode().split("|")
            lapsed.append(Lapsed(task_id, int(index), int(round_), int(generation)))
        return lapsed


class RedisLease:
    """One held page: an async context manager that renews in the background and cancels its block on loss."""

    def __init__(self, leases: RedisLeases, task_id: str, index: int, round_: int) -> None:
        self._leases = leases
        self._key = leases.key(task_id, index)
        self._prefix = f"{task_id}|{index}|{round_}"
        self._ttl_ms = max(1, int(leases.ttl * 1000))
        self.token = ""
        self.member = ""
        self.lost = False
        self._renewer: asyncio.Task[None] | None = None
        self._holder: asyncio.Task[object] | None = None

    async def __aenter__(self) -> RedisLease:
        token = await self._leases._acquire(
            keys=[self._key, self._leases.index_key, f"{self._leases._prefix}:lease-generation"],
            args=[self._leases.owner, self._ttl_ms, self._prefix],
        )
        if token is None:
            raise LeaseBusy(f"Page {self._prefix} is held by another worker.")
        self.token = token.decode()
        self.member = f"{self._prefix}|{self.token.split('|', 1)[0]}"
        self._holder = asyncio.current_task()
        self._renewer = asyncio.create_task(self._renew_forever(), name=f"lease-{self._key}")
        return self

    async def _keep_once(self) -> bool:
        return bool(await self._leases._keep(keys=[self._key, self._leases.index_key],
                                             args=[self.token, self._ttl_ms, self.member]))

    async def check(self) -> None:
        try:
            held = await self._keep_once()
        except (RedisError, OSError) as exc:
            raise LeaseLost(f"Could not confirm the lease of {self._prefix} ({type(exc).__name__}).") from exc
        if not held:
            self._lose("taken over")
            raise LeaseLost(f"The lease of {self._prefix} was taken over.")

    def _lose(self, why: str) -> None:
        if not self.lost:
            self.lost = True
            log.warning("lease of page %s lost (%s); stopping its work", self._prefix, why)
            if self._holder is not None and self._holder is not asyncio.current_task():
                self._holder.cancel()

    async def _renew_forever(self) -> None:
        confirmed = time.monotonic()
        while not self.lost:
            await asyncio.sleep(self._leases.ttl / 3)
            try:
                if await self._keep_once():
                    confirmed = time.monotonic()
                else:
                    self._lose("taken over")
            except (RedisError, OSError) as exc:
                # Unconfirmed for most of a TTL: another worker may take the page any moment now; stop first.
                if time.monotonic() - confirmed > self._leases.ttl * 0.8:
                    self._lose(f"Redis unreachable: {type(exc).__name__}")

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if not self.lost:
            with contextlib.suppress(RedisError, OSError):
                await self._leases._release(keys=[self._key, self._leases.index_key], args=[self.token, self.member])
        if self.lost and exc_type is asyncio.CancelledError and self._holder is not None:
            # Our own cancellation (as asyncio.timeout does it): turn it into LeaseLost, unless someone else
            # cancelled the task too.
            if self._holder.uncancel() == 0:
                raise LeaseLost(f"The lease of {self._prefix} lapsed.") from exc
        return False
