"""/api/generate/{id}/copy: the post's words — regenerate them alone, or save the owner's edit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from inkstream.api.deps import CurrentUser, ServicesDep
from inkstream.api.task_routes import TaskId

router = APIRouter(tags=["copy"])


class CopyBody(BaseModel):
    """An edited copy; the rules (3 titles ≤ 20 characters, body 200–800, 5–10 tags) are checked by the domain,
    so each broken rule gets its own error code."""

    model_config = ConfigDict(extra="ignore")
    titles: list[str] = Field(max_length=50)
    body: str = Field(max_length=20_000)
    tags: list[str] = Field(max_length=100)


@router.post("/api/generate/{task_id}/copy/regenerate", status_code=202)
async def regenerate_copy(task_id: TaskId, user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    task = await svc.tasks.copy.regenerate(user.id, task_id)
    return {"task_id": task.id, "status": task.status, "stream_url": f"/api/generate/stream/{task.id}"}


@router.put("/api/generate/{task_id}/copy")
async def save_copy(task_id: TaskId, body: CopyBody, user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    return await svc.tasks.copy.edit(user.id, task_id, body.model_dump())
