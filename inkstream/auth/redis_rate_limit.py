"""Failed-login counters in Redis, shared by every API node of the distributed mode.

One sorted set per counted key (`<prefix>:login-failures:<scope>:<key>`), a failure per member scored with Redis'
own clock (nodes' clocks may differ), trimmed to the window on every use and expiring with it. While Redis does
not answer, each node counts in its own memory: logins keep working and stay limited, per node, until it is back.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from inkstream.auth.rate_limit import FailureLimiter, too_many

log = logging.getLogger(__name__)

_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) "

# KEYS: the counter. ARGV: window ms. Returns {failures in the window, ms until the oldest leaves it}.
_COUNT = _NOW_MS + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
if n == 0 then return {0, 0} end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {n, tonumber(oldest[2]) + ARGV[1] - now}
"""

# KEYS: the counter. ARGV: window ms, a unique member.
_RECORD = _NOW_MS + """
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
"""


class RedisFailureLimiter:
    def __init__(self, redis: Redis, prefix: str, scope: str, max_failures: int, window_seconds: float) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:login-failures:{scope}:"
        self._max = max_failures
        self._window_ms = int(window_seconds * 1000)
        self._count = redis.register_script(_COUNT)
        self._record = redis.register_script(_RECORD)
        self._fallback = FailureLimiter(max_failures, window_seconds)

    def _key(self, key: str) -> str:
        # Hashed: usernames and addresses stay out of Redis' key space (and out of anything that lists it).
        return self._prefix + hashlib.sha256(key.encode()).hexdigest()[:32]

    def _degraded(self, exc: Exception) -> None:
        log.warning("login failure counters unreachable in Redis (%s); counting in this process",
                    type(exc).__name__)

    async def check(self, key: str) -> None:
        try:
            failures, retry_ms = await self._count(keys=[self._key(key)], args=[self._window_ms])
        except (RedisError, OSError) as exc:
            self._degraded(exc)
            await self._fallback.check(key)
            return
        if int(failures) >= self._max:
            raise too_many(int(retry_ms) / 1000)

    async def record_failure(self, key: str) -> None:
        try:
            await self._record(keys=[self._key(key)], args=[self._window_ms, uuid.uuid4().hex])
        except (RedisError, OSError) as exc:
            self._degraded(exc)
            await self._fallback.record_failure(key)

    async def reset(self, key: str) -> None:
        await self._fallback.reset(key)
        try:
            await self._redis.delete(self._key(key))
        except (RedisError, OSError) as exc:
            self._degraded(exc)
