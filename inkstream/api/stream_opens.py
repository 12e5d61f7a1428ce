"""Stream opens answered without FastAPI's router, dependency solving and middleware stack.

A stream open is the request the service gets most (every page view, every reconnect, 1,000 viewers of one task).
Profiled (bench/results/profiles/connect-*.txt), FastAPI's routing, dependency solving and the five middleware
layers around it were about half the CPU of an open, and bare sse-starlette opened 2.3× as many streams per second.
No library does this part: it is the route below, called directly.

Installed just inside SecurityHeaders, this layer answers the ordinary shape of GET /api/generate/stream/{id}
itself, with the route's own code (`stream_routes.open_stream`) and the same JSON errors. Any other shape — a
NUL, a repeated or over-long parameter or Last-Event-ID, a path that is not 32 hex digits — goes down the full stack,
where the declared route (kept for OpenAPI) answers exactly as before. Nothing the stack adds applies to such a
GET: it has no body (BodySizeLimit, RefuseNul's body check) and the route's refusals are InkstreamErrors.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from inkstream.api import stream_routes
from inkstream.api.errors import inkstream_error_response, internal_error_response
from inkstream.errors import InkstreamError

log = logging.getLogger(__name__)

_PATH = re.compile(r"/api/generate/stream/([0-9a-f]{32})")
_LIMITS = {"ticket": 2048, "last_event_id": 32, "access_token": 8192}  # as the route declares (access_token: any)
_HEADER_LIMIT = 32  # Last-Event-ID, as the route declares


def _ordinary(scope: Scope) -> dict[str, str] | None:
    """The query parameters, when the request is one the route would take as it is; None sends it down the stack."""
    raw: bytes = scope.get("query_string", b"")
    params: dict[str, str] = {}
    if raw:
        if b"%00" in raw:
            return None  # RefuseNul's answer
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
            limit = _LIMITS.get(name)
            if limit is None:
                continue  # ignored by the route too
            if name in params or len(value) > limit:
                return None
            params[name] = value
    seen = False
    for name, value in scope["headers"]:
        if name == b"last-event-id":
            if seen or len(value) > _HEADER_LIMIT:
                return None
            seen = True
    return params


class StreamOpens:
    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/api/generate/s"):
            await self.app(scope, receive, send)
            return
        match = _PATH.fullmatch(scope["path"])
        params = _ordinary(scope) if match else None
        if match is None or params is None:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.fastapi_app  # what Starlette sets for the route: request.app
        request = Request(scope, receive)
        response: Response
        try:
            response = await stream_routes.open_stream(
                match[1], request, self.fastapi_app.state.services, params.get("ticket"),
                request.headers.get("last-event-id") or params.get("last_event_id"))
        except InkstreamError as exc:
            response = inkstream_error_response(exc)
        except Exception:  # as the app's own handler for the unexpected: logged, a typed 500
            log.exception("unhandled error on GET %s", scope["path"])
            response = internal_error_response()
        await response(scope, receive, send)


def install_stream_opens(app: FastAPI) -> None:
    """Put StreamOpens in front of the app's middleware stack (install before SecurityHeaders, which wraps it)."""
    build = app.build_middleware_stack

    def build_with_stream_opens() -> ASGIApp:
        return StreamOpens(build(), app)

    app.build_middleware_stack = build_with_stream_opens  # type: ignore[method-assign]
