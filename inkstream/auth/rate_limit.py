"""Failed-login limits per username and per client address (sliding window).

`FailureLimiter` counts in process memory (the embedded mode: one process); the distributed mode counts in Redis
(auth/redis_rate_limit.py), so N API nodes do not allow N times the limit.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from typing import Protocol

from inkstream.errors import RateLimited


class FailureCounter(Protocol):
    async def check(self, key: str) -> None:
        """Raise RateLimited while `key` has its window's maximum of failures."""
        ...

    async def record_failure(self, key: str) -> None: ...
    async def reset(self, key: str) -> None: ...


def too_many(retry_after: float) -> RateLimited:
    seconds = max(1, math.ceil(retry_after))
    return RateLimited(f"Too many failed logins; try again in {seconds} s.", seconds)


class FailureLimiter:
    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    async def check(self, key: str) -> None:
        now = time.monotonic()
        times = self._recent(key, now)
        if len(times) >= self._max:
            raise too_many(times[0] + self._window - now)

    async def record_failure(self, key: str) -> None:
        self._failures[key].append(time.monotonic())

    async def reset(self, key: str) -> None:
        self._failures.pop(key, None)
