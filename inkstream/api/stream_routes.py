"""GET /api/generate/stream/{task_id}: the task's events as Server-Sent Events, resumable.

Auth is checked once, when the stream opens (a stream ticket, a Bearer header, or the legacy `access_token` query
parameter); an open stream then outlives the token. Failures are typed JSON, never a silently closed stream.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sse_starlette import EventSourceResponse

from inkstream.api.deps import Services, ServicesDep, bearer_token
from inkstream.api.metrics import STREAM_COUNTERS, STREAM_REQUESTS
from inkstream.api.task_routes import TaskId
from inkstream.api.views import event_view
from inkstream.errors import InkstreamError, InvalidInput, TaskNotFound, TokenMissing
from inkstream.events.stream import task_stream

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
    try:
        return await _open(task_id, request, svc, ticket, last_event_id_header or last_event_id)
    except InkstreamError as exc:
        STREAM_REQUESTS.labels(exc.code).inc()
        raise


async def _open(task_id: str, request: Request, svc: Services, ticket: str | None, cursor: str | None) -> Response:
    if ticket:
        user_id = svc.auth.tokens.user_from_ticket(ticket, task_id)
    else:
        token = bearer_token(request)
        if token is None:
            raise TokenMissing("Open the stream with ?ticket= (POST …/stream-ticket) or an Authorization header.")
        user_id = svc.auth.tokens.user_from_access(token)
    after = _cursor(cursor)
    if await svc.tasks.owner_of(task_id) != user_id:
        raise TaskNotFound("No such task.")
    if await svc.tasks.stream_is_over(task_id, after):
        STREAM_REQUESTS.labels("finished_204").inc()
        return Response(status_code=204)  # the client has `finish`: EventSource stops reconnecting on 204
    if after > await svc.events.last_id(task_id):
        raise InvalidInput("invalid_last_event_id", "Last-Event-ID is ahead of this task's events.")
    STREAM_REQUESTS.labels("resumed" if after else "opened").inc()
    s = svc.settings
    events = task_stream(
        svc.events, task_id, after, retry_ms=s.sse_retry_ms, heartbeat_interval=s.heartbeat_interval,
        viewer=user_id, present=lambda e: event_view(e, svc.images, user_id), frames=svc.frames,
        counters=STREAM_COUNTERS,
    )
    return EventSourceResponse(
        # ping=0: our own `heartbeat` events replace sse-starlette's comment pings.
        events, ping=0, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        send_timeout=30,
    )
