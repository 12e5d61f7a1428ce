"""How the event stream reconnects: exponential backoff with jitter, a bounded number of attempts, a watchdog."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class ReconnectPolicy:
    """Reconnection settings of `AsyncInkstream.stream`.

    After a failure the stream waits `initial_delay * multiplier**(n-1)` (at most `max_delay`), minus up to
    `jitter` of it at random, before attempt n. `max_attempts` consecutive failed attempts — attempts after
    which no new event arrived — end the stream with `ConnectionLost`; any new event resets the count.
    A connection silent for `watchdog_factor * heartbeat_interval` seconds (the service sends a heartbeat every
    `heartbeat_interval` when idle) is taken as dead and reopened.
    """

    initial_delay: float = 0.5
    max_delay: float = 10.0
    multiplier: float = 2.0
    jitter: float = 0.5
    max_attempts: int = 8
    heartbeat_interval: float = 15.0
    watchdog_factor: float = 2.5
    connect_timeout: float = 10.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before reconnect attempt `attempt` (1-based)."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** max(0, attempt - 1))
        return base * (1 - self.jitter * (rng or random).random())

    @property
    def watchdog(self) -> float:
        return self.heartbeat_interval * self.watchdog_factor


@dataclass
class Reconnect:
    """One reconnect attempt of a stream: when, why, which attempt in a row, how long it waited, how it went."""

    at: float  # Unix time the attempt was made (after the wait)
    reason: str  # what ended the previous connection or attempt: connect_failed, stalled, read_error, …
    attempt: int  # consecutive failed attempts so far, this one included
    delay: float  # seconds waited before it
    outcome: str = "pending"  # connected | finished | not_found | failed: <reason> | gave_up

    @classmethod
    def now(cls, reason: str, attempt: int, delay: float) -> Reconnect:
        return cls(time.time(), reason, attempt, delay)
