"""The typed events of a task's stream. Each has the stream `id` it arrived with (1, 2, 3… per task)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    id: int
    data: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, kw_only=True)
    name = "event"


@dataclass(frozen=True)
class Queued(Event):
    """The task was accepted and waits for a worker: the first event of every new task."""

    kind: str  # "generate" or "outline"
    total: int
    name = "queued"


@dataclass(frozen=True)
class Progress(Event):
    """A page started generating."""

    index: int
    current: int
    total: int
    name = "progress"


@dataclass(frozen=True)
class Complete(Event):
    """A page is done; `image_url` is a signed URL, relative to the service."""

    index: int
    image_url: str
    preview_url: str | None = None  # a ~540 px WebP of the same page, for grids
    name = "complete"


@dataclass(frozen=True)
class PageError(Event):
    """A page failed; `retryable` says whether retrying it may help."""

    index: int
    message: str
    retryable: bool
    name = "error"


@dataclass(frozen=True)
class Retry(Event):
    """A new round started for some pages (retry of the failed ones, or a regenerate)."""

    round: int
    indexes: list[int]
    name = "retry"


@dataclass(frozen=True)
class Finish(Event):
    """The task (or this round of it) is over. The last event of the stream."""

    success: bool
    task_id: str
    total: int
    completed: int
    failed: int
    failed_indices: list[int]
    images: list[str]
    cancelled: bool = False
    pages: list[dict[str, Any]] = field(default_factory=list)  # outline tasks: the outline's pages
    name = "finish"


@dataclass(frozen=True)
class TextDelta(Event):
    """The next piece of the outline (`outline_delta`) or the copy (`copy_delta`) as it is written. With `reset`,
    the text so far is void (the writer started over) and this piece begins it again."""

    text: str
    reset: bool = False
    kind: str = "outline"  # outline | copy
    name = "text_delta"


@dataclass(frozen=True)
class OutlineReady(Event):
    """The whole outline, parsed: its text and pages."""

    raw: str
    pages: list[dict[str, Any]]
    name = "outline"


@dataclass(frozen=True)
class CopyReady(Event):
    """The post's copy: three title options, the body and the tags."""

    titles: list[str]
    body: str
    tags: list[str]
    name = "copy"


@dataclass(frozen=True)
class CopyFailed(Event):
    """The copy could not be written (the images are not affected); regenerate it alone later."""

    message: str
    retryable: bool
    code: str = ""
    name = "copy_error"


@dataclass(frozen=True)
class UnknownEvent(Event):
    """An event type this SDK version does not know; kept so nothing is silently dropped."""

    event: str


def parse_event(event_id: int, name: str, raw: str) -> Event:
    """Build the typed event from an SSE frame's id, event name and JSON data."""
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        data = {"value": data}
    get = data.get
    if name == "queued":
        return Queued(event_id, str(get("kind", "")), int(get("total", 0)), data=data)
    if name == "progress":
        return Progress(event_id, int(get("index", 0)), int(get("current", 0)), int(get("total", 0)), data=data)
    if name == "complete":
        return Complete(event_id, int(get("index", 0)), str(get("image_url") or ""), get("preview_url"), data=data)
    if name in ("outline_delta", "copy_delta"):
        return TextDelta(event_id, str(get("text", "")), bool(get("reset", False)), name.split("_")[0], data=data)
    if name == "outline":
        return OutlineReady(event_id, str(get("raw", "")), list(get("pages", [])), data=data)
    if name == "copy":
        return CopyReady(event_id, [str(t) for t in get("titles", [])], str(get("body", "")),
                         [str(t) for t in get("tags", [])], data=data)
    if name == "copy_error":
        return CopyFailed(event_id, str(get("message", "")), bool(get("retryable")), str(get("code", "")), data=data)
    if name == "error":
        return PageError(event_id, int(get("index", 0)), str(get("message", "")), bool(get("retryable")), data=data)
    if name == "retry":
        return Retry(event_id, int(get("round", 0)), [int(i) for i in get("indexes", [])], data=data)
    if name == "finish":
        return Finish(
            event_id, bool(get("success")), str(get("task_id", "")), int(get("total", 0)), int(get("completed", 0)),
            int(get("failed", 0)), [int(i) for i in get("failed_indices", [])], [str(u) for u in get("images", [])],
            cancelled=bool(get("cancelled", False)), pages=list(get("pages", [])), data=data,
        )
    return UnknownEvent(event_id, name, data=data)
