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
class UnknownEvent(Event):
    """An event type this SDK version does not know; kept so nothing is silently dropped."""

    event: str


def parse_event(event_id: int, name: str, raw: str) -> Event:
    """Build the typed event from an SSE frame's id, event name and JSON data."""
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        data = {"value": data}
    get = data.get
    if name == "progress":
        return Progress(event_id, int(get("index", 0)), int(get("current", 0)), int(get("total", 0)), data=data)
    if name == "complete":
        return Complete(event_id, int(get("index", 0)), str(get("image_url") or ""), data=data)
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
