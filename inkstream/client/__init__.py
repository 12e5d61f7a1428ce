"""The Python SDK of Inkstream (also what the `inkstream login|generate|watch|…` commands are built on).

    async with AsyncInkstream("http://127.0.0.1:8000") as ink:
        await ink.login("me", "secret")
        outline = await ink.outline("秋天的第一杯奶茶")
        task = await ink.generate(outline.pages, full_outline=outline.raw, topic="秋天的第一杯奶茶")
        async for event in ink.stream(task.task_id):
            print(event)
        await ink.download(task.task_id, "out/")

Names are imported on first use, so `import inkstream.client.cli` (done by the `inkstream` command for every
subcommand, `serve` included) does not load httpx or Rich.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "AsyncInkstream": "sdk", "DEFAULT_SERVER": "sdk", "image_file_name": "sdk",
    "Inkstream": "sync", "SyncEventStream": "sync",
    "EventStream": "stream",
    "ReconnectPolicy": "backoff", "Reconnect": "backoff",
    "Tokens": "tokens",
    "Event": "events", "Queued": "events", "Progress": "events", "Complete": "events", "PageError": "events",
    "Retry": "events",
    "Finish": "events", "UnknownEvent": "events", "TextDelta": "events", "OutlineReady": "events",
    "CopyReady": "events", "CopyFailed": "events", "PostCopy": "models",
    "Accepted": "models", "History": "models", "HistoryItem": "models", "Outline": "models", "Page": "models",
    "PageStatus": "models", "TaskStatus": "models", "User": "models",
    "InkstreamError": "errors", "AuthError": "errors", "TokenExpired": "errors", "NotFound": "errors",
    "RateLimited": "errors", "ValidationError": "errors", "Conflict": "errors", "ServerError": "errors",
    "ConnectionLost": "errors",
}
__all__ = [
    "Accepted", "AsyncInkstream", "AuthError", "Complete", "Conflict", "ConnectionLost", "CopyFailed", "CopyReady",
    "DEFAULT_SERVER", "Event", "OutlineReady", "PostCopy", "TextDelta",
    "EventStream", "Finish", "History", "HistoryItem", "Inkstream", "InkstreamError", "NotFound", "Outline", "Page",
    "PageError", "PageStatus", "Progress", "Queued", "RateLimited", "Reconnect", "ReconnectPolicy", "Retry",
    "ServerError",
    "SyncEventStream", "TaskStatus", "TokenExpired", "Tokens", "UnknownEvent", "User", "ValidationError",
    "image_file_name",
]

if TYPE_CHECKING:
    from inkstream.client.backoff import Reconnect, ReconnectPolicy
    from inkstream.client.errors import (
        AuthError,
        Conflict,
        ConnectionLost,
        InkstreamError,
        NotFound,
        RateLimited,
        ServerError,
        TokenExpired,
        ValidationError,
    )
    from inkstream.client.events import (
        Complete,
        CopyFailed,
        CopyReady,
        Event,
        Finish,
        OutlineReady,
        PageError,
        Progress,
        Queued,
        Retry,
        TextDelta,
        UnknownEvent,
    )
    from inkstream.client.models import (
        Accepted,
        History,
        HistoryItem,
        Outline,
        Page,
        PageStatus,
        PostCopy,
        TaskStatus,
        User,
    )
    from inkstream.client.sdk import DEFAULT_SERVER, AsyncInkstream, image_file_name
    from inkstream.client.stream import EventStream
    from inkstream.client.sync import Inkstream, SyncEventStream
    from inkstream.client.tokens import Tokens


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'inkstream.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"inkstream.client.{module}"), name)
    globals()[name] = value
    return value
