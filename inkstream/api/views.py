"""JSON shapes of tasks, pages and events as the owner sees them (image URLs signed on the way out)."""

from __future__ import annotations

from typing import Any

from inkstream.events.log import StoredEvent
from inkstream.storage.images import ImageStore
from inkstream.storage.tables import Page, Task
from inkstream.tasks import post_copy


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _signed(images: ImageStore, owner_id: int, url: str | None) -> str | None:
    return images.sign(owner_id, url) if url else None


def page_view(page: Page, images: ImageStore, owner_id: int) -> dict[str, Any]:
    url = preview = None
    if page.image_file:
        url = images.sign(owner_id, images.unsigned_url(page.task_id, page.image_file))
        preview = _signed(images, owner_id, images.preview_url(page.task_id, page.image_file))
    return {"index": page.index, "type": page.type, "content": page.content, "status": page.status,
            "image_url": url, "preview_url": preview, "error": page.error, "retryable": page.retryable}


def task_view(task: Task, pages: list[Page], images: ImageStore) -> dict[str, Any]:
    return {
        "task_id": task.id,
        "kind": task.kind,
        "status": task.status,
        "topic": task.topic,
        "total": len(pages) if task.kind == "generate" else task.total,
        "completed": sum(p.status == "done" for p in pages),
        "failed": sum(p.status == "error" for p in pages),
        "images": [page_view(p, images, task.user_id) for p in pages],
        "last_event_id": task.last_event_id,
        "created_at": _iso(task.created_at),
        "finished_at": _iso(task.finished_at),
        "stream_url": f"/api/generate/stream/{task.id}",
        "title": task.title,
        **post_copy.view(task),
    }


def outline_view(task: Task) -> dict[str, Any]:
    result = task.result or {}
    return {
        "task_id": task.id,
        "status": task.status,
        "topic": task.topic,
        "pages": result.get("pages", []),
        "outline": result.get("raw", ""),
        "error": task.error,
        "last_event_id": task.last_event_id,
        "stream_url": f"/api/generate/stream/{task.id}",
    }


def event_view(event: StoredEvent, images: ImageStore, owner_id: int) -> dict[str, Any]:
    """The event's data with its image URLs signed for the owner; the log itself keeps them unsigned."""
    data = event.data
    for key in ("image_url", "preview_url"):
        if data.get(key):
            data = {**data, key: images.sign(owner_id, data[key])}
    if data.get("images"):
        data = {**data, "images": [images.sign(owner_id, u) for u in data["images"]]}
    return data
