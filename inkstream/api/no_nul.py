"""Refuses a NUL character in the query string or a JSON body with 422 before any route runs (pure ASGI middleware).

PostgreSQL's text holds no NUL: a topic, a search or a comment with one failed at the database with a 500 in the
distributed mode while SQLite stored it. Refusing it at the boundary answers the same in both modes."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# `\u0000` as JSON escapes it: after an odd run of backslashes (an even run is escaped backslashes, then text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RefuseNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def _reject(self, send: Send, where: str) -> None:
        body = json.dumps({"code": "validation_error", "message": f"{where}: a NUL character is not accepted."})
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            await self._reject(send, "query")
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
        if scope["method"] in ("GET", "HEAD") or not content_type.endswith(b"json"):
            await self.app(scope, receive, send)
            return
        # A JSON body is small (BodySizeLimit, outside this, bounds it): read it whole, look, then pass it on.
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if _JSON_NUL.search(b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")):
            await self._reject(send, "body")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
