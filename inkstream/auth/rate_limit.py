"""Failed-login limits per username and per client address (sliding window, in process memory)."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from inkstream.errors import RateLimited


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

    def check(self, key: str) -> None:
        now = time.monotonic()
        times = self._recent(key, now)
        if len(times) >= self._max:
            retry_after = max(1, math.ceil(times[0] + self._window - now))
            raise RateLimited(f"Too many failed logins; try again in {retry_after} s.", retry_after)

    def record_failure(self, key: str) -> None:
        self._failures[key].append(time.monotonic())

    def reset(self, key: str) -> None:
        self._failures.pop(key, None)
