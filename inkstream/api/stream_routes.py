"""GET /api/generate/stream/{task_id}: the task's events as Server-Sent Events, resumable.

Auth is checked once, when the stream opens (a stream ticket, a Bearer header, or the legacy `access_token` query
parameter); an open stream then outlives the token. Failures are typed JSON, never a silently closed stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sse_starlette import EventSourceResponse
from starlette.types import Message, Send

from inkstream.api.deps import Services, ServicesDep, bearer_token
from inkstream.api.metrics import STREAM_COUNTERS, STREAM_REQUESTS
from inkstream.api.task_routes import TaskId
from inkstream.api.views import event_view
from inkstream.auth.tokens import Bearer
from inkstream.errors import InkstreamError, InvalidInput, TaskNotFound, TokenMissing
from inkstream.events.broadcast import Broadcaster, Wakeup

router = APIRouter(tags=["stream"])

MAX_EVENT_ID = 2**53  # what a JavaScript client can hold exactly


def _cursor(raw: str | None) -> int:
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) > MAX_EVENT_ID:
        raise InvalidInput("invalid_last_event_id", "Last-Event-ID must be a non-negative integer event id.")
    return int(raw)


@router.get("/api/generate/stream/{task_id}", response_model=None, responses={
    200: {"description": "The task's events", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    204: {"description": "The stream is over: the client already has `finish`"}})
async def stream(
    task_id: TaskId,
    request: Request,
    svc: ServicesDep,
    ticket: Annotated[str | None, Query(max_length=2048)] = None,
    last_event_id: Annotated[str | None, Query(max_length=32)] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", max_length=32)] = None,
) -> Response:
    # Ordinary opens are answered by api/stream_opens.py before FastAPI routes them; the rest come here.
    return await open_stream(task_id, request, svc, ticket, last_event_id_header or last_event_id)


async def open_stream(task_id: str, request: Request, svc: Services, ticket: str | None,
                      cursor: str | None) -> Response:
    """The stream's response, or the typed error refusing it (counted)."""
    try:
        return await _open(task_id, request, svc, ticket, cursor)
    except InkstreamError as exc:
        STREAM_REQUESTS.labels(exc.code).inc()
        svc.usage.rollups.add(f"stream.refused.{exc.code}")
        if cursor:
            svc.usage.rollups.add("stream.reconnect_refused")
        raise


async def _open(task_id: str, request: Request, svc: Services, ticket: str | None, cursor: str | None) -> Response:
    if ticket:
        bearer = svc.auth.tokens.bearer_of_ticket(ticket, task_id)
    else:
        token = bearer_token(request)
        if token is None:
            raise TokenMissing("Open the stream with ?ticket= (POST …/stream-ticket) or an Authorization header.")
        bearer = svc.auth.tokens.bearer_of_access(token)
    user_id = (await svc.guard.principal(bearer)).id  # a revoked session cannot open a stream either
    after = _cursor(cursor)
    if await svc.tasks.owner_of(task_id) != user_id:
        raise TaskNotFound("No such task.")
    if await svc.tasks.stream_is_over(task_id, after):
        STREAM_REQUESTS.labels("finished_204").inc()
        svc.usage.rollups.add("stream.finished_204")
        return Response(status_code=204)  # the client has `finish`: EventSource stops reconnecting on 204
    # Asks the log only for a cursor past what this process knows (a stream open costs no query otherwise).
    if after > svc.events.known_last_id(task_id) and after > await svc.events.last_id(task_id):
        raise InvalidInput("invalid_last_event_id", "Last-Event-ID is ahead of this task's events.")
    STREAM_REQUESTS.labels("resumed" if after else "opened").inc()
    svc.usage.rollups.add("stream.resumed" if after else "stream.opened")
    return _StreamResponse(
        # ping=0: our own `heartbeat` events replace sse-starlette's comment pings.
        _watched(svc, request.app.state.broadcaster, task_id, after, bearer), ping=0,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class _StreamResponse(EventSourceResponse):
    """sse-starlette's response, minus its per-send timeout.

    It wraps every send in an anyio cancel scope, even with no timeout set: a tenth of the server's CPU in the
    fan-out benchmark (bench/README.md, issue 14). No timer is needed here: a client that stops reading closes its
    TCP window, and the kernel aborts a connection whose window stays shut for TCP_USER_TIMEOUT
    (api/dead_clients.py; tests/api/test_dead_clients.py), which ends the stream. Should a later sse-starlette
    rename the method, this override goes unused and streams only cost that tenth again."""

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        try:
            await send(message)
        except BaseException:
            self._send_interrupted = True  # as the original: no further send is attempted on this transport
            raise


async def _watched(svc: Services, broadcaster: Broadcaster, task_id: str, after: int,
                   bearer: Bearer) -> AsyncIterator[bytes]:
    """The task's stream, ended with a typed `error` event when its session is revoked. Expiry alone never ends
    it: the token was checked when the stream opened."""
    kick = Wakeup()  # set by the guard when the session ends: the stream wakes and looks at `ending`
    watch = svc.guard.watch(bearer, kick.set)

    def ending() -> dict[str, Any] | None:
        problem = watch.problem
        if problem is None:
            return None
        STREAM_REQUESTS.labels(f"revoked_{problem.code}").inc()
        return {"code": problem.code, "message": problem.message, "fatal": True}

    s = svc.settings
    ended = "client"  # unless the stream runs to its end: the client went away (or the server stopped)
    try:
        async for frame in broadcaster.stream(
            task_id, after, retry_ms=s.sse_retry_ms, viewer=bearer.user_id,
            present=lambda e: event_view(e, svc.images, bearer.user_id), counters=STREAM_COUNTERS, ending=ending,
            wake=kick,
        ):
            yield frame
        ended = "revoked" if watch.problem is not None else "finish"
    finally:
        svc.guard.unwatch(watch)
        svc.usage.rollups.add(f"stream.closed.{ended}")
