"""What clients saw of their streams, reported when a stream session ends: one small, validated report per session
(no tokens, URLs or task ids in it), added to the node's per-minute rollups under `client.*`.

A stream session is one client following one task, across all its reconnects, until `finish` (finished), a give-up
or a refusal (failed), or the user leaving (abandoned)."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from inkstream.errors import RateLimited
from inkstream.usage.rollups import Rollups

REASONS = ("network", "heartbeat_timeout", "token_expired", "server_error", "not_found", "visibility", "online",
           "manual", "rate_limited", "other")
MAX_COUNT = 10_000


class Refreshes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attempts: int = Field(0, ge=0, le=MAX_COUNT)
    ok: int = Field(0, ge=0, le=MAX_COUNT)

    @model_validator(mode="after")
    def _ok_within_attempts(self) -> Refreshes:
        if self.ok > self.attempts:
            raise ValueError("ok cannot exceed attempts")
        return self


class StreamReport(BaseModel):
    model_config = ConfigDict(extra="forbid")  # nothing but these fields: no room for a token or a URL
    client: Literal["web", "sdk", "cli"] = "web"
    outcome: Literal["finished", "failed", "abandoned"]
    failure_code: str | None = Field(None, pattern=r"^[a-z0-9_]{1,40}$")
    reconnects: int = Field(0, ge=0, le=MAX_COUNT)
    reasons: dict[Literal[REASONS], int] = Field(default_factory=dict)  # type: ignore[valid-type]
    connected_ms: int = Field(0, ge=0, le=7 * 24 * 3600 * 1000)
    refreshes: Refreshes = Field(default_factory=Refreshes)

    @model_validator(mode="after")
    def _reasons_add_up(self) -> StreamReport:
        if any(v < 0 or v > MAX_COUNT for v in self.reasons.values()):
            raise ValueError("reason counts must be 0–10000")
        if sum(self.reasons.values()) > self.reconnects:
            raise ValueError("reasons cannot count more reconnects than `reconnects`")
        return self


class ReportLimiter:
    """At most `per_minute` reports per user and node: a client in a reconnect storm cannot flood the rollups."""

    def __init__(self, per_minute: int = 60) -> None:
        self._per_minute = per_minute
        self._seen: dict[int, deque[float]] = defaultdict(deque)

    def check(self, user_id: int) -> None:
        now = time.monotonic()
        times = self._seen[user_id]
        while times and times[0] <= now - 60:
            times.popleft()
        if len(times) >= self._per_minute:
            raise RateLimited("Too many stream reports; try again in a minute.", retry_after=int(61 - (now - times[0])))
        times.append(now)


def record(rollups: Rollups, report: StreamReport) -> None:
    rollups.add("client.sessions")
    rollups.add(f"client.outcome.{report.outcome}")
    if report.outcome == "failed":
        rollups.add("client.failed")
        rollups.add(f"client.failed.{report.failure_code or 'unknown'}")
    rollups.add("client.reconnects", report.reconnects)
    for reason, n in report.reasons.items():
        rollups.add(f"client.reconnect.{reason}", n)
    rollups.add("client.connected_ms", report.connected_ms)
    rollups.add("client.refresh.attempts", report.refreshes.attempts)
    rollups.add("client.refresh.ok", report.refreshes.ok)
