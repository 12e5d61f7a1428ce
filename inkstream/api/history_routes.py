"""/api/history: the user's posts — search, filter, counts, rename, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from inkstream.api.deps import CurrentUser, ServicesDep
from inkstream.api.task_routes import TaskId

router = APIRouter(tags=["history"])


class RenameBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    title: str | None = Field(max_length=10_000)  # the domain checks the real limit, with its own error code


@router.get("/api/history")
async def history(
    user: CurrentUser, svc: ServicesDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    q: Annotated[str, Query(max_length=1000)] = "",
    status: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    rows, total = await svc.tasks.posts.list(user.id, page, page_size, q=q, status=status or None)
    images = svc.images
    items = []
    for row in rows:
        task, cover = row.task, row.cover
        cover_url = cover_preview = None
        if cover is not None and cover.image_file:
            cover_url = images.sign(user.id, images.unsigned_url(task.id, cover.image_file))
            preview = images.preview_url(task.id, cover.image_file)
            cover_preview = images.sign(user.id, preview) if preview else None
        items.append({"task_id": task.id, "kind": task.kind, "status": task.status, "topic": task.topic,
                      "title": row.title, "renamed": task.title is not None, "total": task.total,
                      "cover_url": cover_url, "cover_preview_url": cover_preview,
                      "created_at": task.created_at.isoformat()})
    return {"items": items, "page": page, "page_size": page_size, "total": total, "q": q.strip(),
            "status": status or None, "stats": await svc.tasks.posts.stats(user.id)}


@router.get("/api/history/stats")
async def history_stats(user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    return await svc.tasks.posts.stats(user.id)


@router.patch("/api/history/{task_id}")
async def rename(task_id: TaskId, body: RenameBody, user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    title = await svc.tasks.posts.rename(user.id, task_id, body.title)
    return {"task_id": task_id, "title": title}


@router.delete("/api/history/{task_id}", status_code=204)
async def delete_task(task_id: TaskId, user: CurrentUser, svc: ServicesDep) -> None:
    await svc.tasks.delete(user.id, task_id)
