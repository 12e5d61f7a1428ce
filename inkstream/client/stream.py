"""A task's events, each exactly once and in order, across dropped connections, restarts and token expiry.

The service numbers a task's events 1, 2, 3…, replays from any `Last-Event-ID`, and answers 204 once the client
holds `finish`. So the stream only has to remember the last id it handed out and reconnect with it; ids at or
below it are dropped as a second line of defence. Heartbeats carry no id and are never handed out.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable
from types import TracebackType

import httpx
from httpx_sse import EventSource, ServerSentEvent, SSEError

from inkstream.client.backoff import Reconnect, ReconnectPolicy
from inkstream.client.errors import (
    AuthError,
    ConnectionLost,
    InkstreamError,
    RateLimited,
    ServerError,
    TokenExpired,
    from_response,
)
from inkstream.client.events import Event, Finish, parse_event
from inkstream.client.http import Session

StateListener = Callable[["EventStream"], None]
# Called once when a stream session ends, with the report the service's /api/telemetry/stream takes.
SessionReporter = Callable[[dict[str, object]], None]

# The SDK's reconnect reasons in the report's vocabulary (usage/telemetry.py REASONS).
_REPORTED_REASONS = {"stalled": "heartbeat_timeout", "connect_timeout": "network", "connect_failed": "network",
                     "disconnected": "network", "read_error": "network", "server_closed": "network",
                     "token_expired": "token_expired", "rate_limited": "rate_limited",
                     "not_event_stream": "server_error"}

# Reasons that are not failures: reconnect at once and do not count against the attempt budget.
_FREE = ("token_expired", "next_round")


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.ReadTimeout):
        return "stalled"  # the watchdog: nothing arrived, not even a heartbeat
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_failed"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "disconnected"  # closed mid-response: incomplete chunked read, no response at all
    if isinstance(exc, httpx.ReadError):
        return "read_error"
    if isinstance(exc, SSEError):
        return "not_event_stream"
    if isinstance(exc, ConnectionLost):
        return "refresh_failed"
    return type(exc).__name__


class EventStream:
    """Async iterator over one task's typed events; `history` lists every reconnect it made.

    Ends after `finish` (or with `follow=True`, when the service says there is nothing more: 204), raises
    `NotFound` / `AuthError` / `ValidationError` at once, and `ConnectionLost` when `policy.max_attempts`
    reconnects in a row brought no new event. Use `async with` (or `aclose()`) to release the connection
    when stopping early.
    """

    def __init__(
        self,
        session: Session,
        task_id: str,
        last_event_id: int = 0,
        *,
        policy: ReconnectPolicy | None = None,
        follow: bool = False,
        on_change: StateListener | None = None,
        reporter: SessionReporter | None = None,
    ) -> None:
        self.task_id = task_id
        self.last_event_id = last_event_id
        self.policy = policy or ReconnectPolicy()
        self.follow = follow
        self.on_change = on_change
        self.history: list[Reconnect] = []
        self.state = "idle"  # connecting | open | waiting | closed
        self.reason: str | None = None  # why the last connection ended, while reconnecting
        self.attempt = 0  # consecutive reconnect attempts without a new event (0 while all is well)
        self.delay = 0.0  # the wait before the reconnect now being made
        self.connections = 0  # HTTP responses received (any status)
        self.heartbeats = 0
        self.duplicates = 0  # events dropped because their id was already handed out
        self.gaps: list[tuple[int, int]] = []  # (last id, next id) where ids jumped; the service should never
        self._session = session
        self._url = f"/api/generate/stream/{task_id}"
        self._reporter = reporter
        self._connected = 0.0  # seconds spent with the stream open
        self._opened_at: float | None = None
        self._gen = self._reported() if reporter is not None else self._run()

    # --- iterator protocol ---
    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()
        self._set_state("closed")

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
                        ) -> None:
        await self.aclose()

    # --- internals ---
    def _set_state(self, state: str) -> None:
        if state == "open" and self._opened_at is None:
            self._opened_at = time.monotonic()
        elif state != "open" and self._opened_at is not None:
            self._connected += time.monotonic() - self._opened_at
            self._opened_at = None
        if state != self.state:
            self.state = state
            if self.on_change is not None:
                self.on_change(self)

    async def _reported(self) -> AsyncGenerator[Event, None]:
        """The stream, and when it ends (finished, failed or given up by the caller) one report of what this
        client saw: reconnects and why, time connected, refreshes — no token, URL or task id."""
        attempts, ok = self._session.refresh_attempts, self._session.refreshes
        outcome, code = "abandoned", None
        try:
            async for event in self._run():
                yield event
            outcome = "finished"
        except InkstreamError as exc:
            outcome, code = "failed", exc.code
            raise
        finally:
            self._set_state("closed")
            reasons: dict[str, int] = {}
            for record in self.history:
                reason = _REPORTED_REASONS.get(record.reason, "server_error" if record.reason.startswith("http_")
                                               else "other")
                reasons[reason] = reasons.get(reason, 0) + 1
            report: dict[str, object] = {
                "client": "sdk", "outcome": outcome, "reconnects": len(self.history), "reasons": reasons,
                "connected_ms": round(self._connected * 1000),
                "refreshes": {"attempts": self._session.refresh_attempts - attempts,
                              "ok": self._session.refreshes - ok},
            }
            if code is not None:
                report["failure_code"] = code[:40]
            assert self._reporter is not None
            self._reporter(report)

    def _accept(self, sse: ServerSentEvent) -> Event | None:
        """The typed event for a frame, or None for heartbeats, frames without data and ids already seen."""
        if sse.event == "heartbeat":  # no id of its own (httpx-sse repeats the previous one): never an event
            self.heartbeats += 1
            return None
        if sse.event == "error" and '"fatal"' in sse.data:
            # The session was revoked (logout everywhere, account disabled): the server's last word, no id.
            body = json.loads(sse.data)
            if body.get("fatal") and "index" not in body:
                self._set_state("closed")
                code = str(body.get("code", "session_revoked"))
                raise AuthError(str(body.get("message", "")), code=code,
                                status=403 if code == "account_disabled" else 401)
        if not sse.data or not sse.id.isdigit():
            return None
        event_id = int(sse.id)
        if event_id <= self.last_event_id:
            self.duplicates += 1
            return None
        if event_id != self.last_event_id + 1:
            self.gaps.append((self.last_event_id, event_id))
        try:
            event = parse_event(event_id, sse.event or "message", sse.data)
        except (ValueError, TypeError, KeyError) as exc:
            raise ServerError(f"Event {event_id} is not valid: {exc}", code="bad_event") from exc
        self.last_event_id = event_id
        return event

    def _timeout(self) -> httpx.Timeout:
        p = self.policy
        return httpx.Timeout(connect=p.connect_timeout, read=p.watchdog, write=p.connect_timeout,
                             pool=p.connect_timeout)

    async def _run(self) -> AsyncGenerator[Event, None]:
        failures = 0  # consecutive attempts that brought no new event
        reason: str | None = None
        retry_after = 0.0
        refreshed_for_401 = False
        finish_id = -1
        while True:
            record: Reconnect | None = None
            if reason is not None:
                delay = 0.0
                if reason not in _FREE:
                    failures += 1
                    if failures > self.policy.max_attempts:
                        self._set_state("closed")
                        if self.history:
                            self.history[-1].outcome = f"gave_up: {reason}"
                        raise ConnectionLost(
                            f"Lost the event stream of task {self.task_id}: {failures - 1} reconnects in a row "
                            f"failed (last: {reason}).", history=self.history)
                    delay = max(self.policy.delay(failures), retry_after)
                self.reason, self.attempt, self.delay = reason, failures, delay
                self._set_state("waiting")
                if delay > 0:
                    await asyncio.sleep(delay)
                record = Reconnect.now(reason, failures, delay)
                self.history.append(record)
            reason, retry_after = None, 0.0
            self._set_state("connecting")
            try:
                headers = await self._session.auth_headers()
                used = self._session.tokens
                if self.last_event_id:
                    headers["Last-Event-ID"] = str(self.last_event_id)
                async with self._session.open_stream(self._url, headers, self._timeout()) as response:
                    self.connections += 1
                    if response.status_code == 204:  # the client already holds `finish`
                        if record:
                            record.outcome = "finished"
                        self._set_state("closed")
                        return
                    if response.status_code != 200:
                        await response.aread()
                        error = from_response(response)
                        if isinstance(error, TokenExpired) and not refreshed_for_401:
                            refreshed_for_401 = True
                            await self._session.refresh(stale=used)
                            reason = "token_expired"
                        elif isinstance(error, RateLimited):
                            reason, retry_after = "rate_limited", error.retry_after
                        elif isinstance(error, ServerError):
                            reason = f"http_{response.status_code}"
                        else:  # 404, other 401s, 422…: reconnecting cannot fix these
                            if record:
                                record.outcome = "not_found" if error.status == 404 else f"failed: {error.code}"
                            self._set_state("closed")
                            raise error
                    else:
                        refreshed_for_401 = False
                        if record:
                            record.outcome = "connected"
                        self._set_state("open")
                        async for sse in EventSource(response).aiter_sse():
                            event = self._accept(sse)
                            if event is None:
                                continue
                            failures = self.attempt = 0
                            finish_id = event.id if isinstance(event, Finish) else finish_id
                            yield event
                            if finish_id == event.id and not self.follow:
                                self._set_state("closed")
                                return
                        # The service closes the stream after `finish`; following, ask whether more came since.
                        reason = "next_round" if finish_id == self.last_event_id else "server_closed"
            except (httpx.RequestError, SSEError, ConnectionLost) as exc:
                reason = _reason(exc)
            except InkstreamError:  # refreshing was refused (session revoked…), or an error raised above
                self._set_state("closed")
                raise
            if record and record.outcome == "pending":
                record.outcome = f"failed: {reason}"

