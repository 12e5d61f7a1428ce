"""/api/outline, /api/generate: creating, reading and changing tasks."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Response

from inkstream.api.deps import CurrentUser, ServicesDep
from inkstream.api.schemas import GenerateBody, OutlineBody, RegenerateBody, TicketOut
from inkstream.api.views import outline_view, task_view
from inkstream.errors import InvalidInput
from inkstream.storage.uploads import decode_reference_images
from inkstream.tasks import states
from inkstream.tasks.service import PageInput

router = APIRouter(tags=["tasks"])

TaskId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 lowercase hex characters")]
IDEMPOTENCY_RE = re.compile(r"^[\x21-\x7e]{1,128}$")


def _idempotency(key: str | None) -> str | None:
    if key is not None and not IDEMPOTENCY_RE.match(key):
        raise InvalidInput("invalid_idempotency_key", "Idempotency-Key must be 1–128 printable ASCII characters.")
    return key


@router.post("/api/outline", status_code=202)
async def create_outline(
    body: OutlineBody, user: CurrentUser, svc: ServicesDep, response: Response,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    s = svc.settings
    refs = decode_reference_images(body.images, s.max_reference_images, s.max_reference_image_bytes)
    task, created = await svc.tasks.create(
        user.id, states.OUTLINE, topic=body.topic, reference_images=refs,
        idempotency_key=_idempotency(idempotency_key),
    )
    response.status_code = 202 if created else 200
    return {"task_id": task.id, "status": task.status, "stream_url": f"/api/generate/stream/{task.id}"}


@router.get("/api/outline/{task_id}")
async def get_outline(task_id: TaskId, user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    task, _ = await svc.tasks.get(user.id, task_id, kind=states.OUTLINE)
    return outline_view(task)


@router.post("/api/generate", status_code=202)
async def create_generation(
    body: GenerateBody, user: CurrentUser, svc: ServicesDep, response: Response,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    s = svc.settings
    refs = decode_reference_images(body.user_images, s.max_reference_images, s.max_reference_image_bytes)
    task, created = await svc.tasks.create(
        user.id, states.GENERATE, topic=body.user_topic, full_outline=body.full_outline, reference_images=refs,
        pages=[PageInput(p.index, p.type, p.content) for p in body.pages],
        idempotency_key=_idempotency(idempotency_key),
    )
    response.status_code = 202 if created else 200
    return {"task_id": task.id, "status": task.status, "stream_url": f"/api/generate/stream/{task.id}"}


@router.get("/api/generate/{task_id}")
async def get_generation(task_id: TaskId, user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    task, pages = await svc.tasks.get(user.id, task_id)
    task = await svc.tasks.settled(task)
    return task_view(task, pages, svc.images)


@router.post("/api/generate/{task_id}/cancel")
async def cancel(task_id: TaskId, user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    task = await svc.tasks.cancel(user.id, task_id)
    return {"task_id": task.id, "status": task.status}


@router.post("/api/generate/{task_id}/retry", status_code=202)
async def retry_failed(task_id: TaskId, user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    task = await svc.tasks.rerun_pages(user.id, task_id, None)
    return {"task_id": task.id, "status": task.status, "stream_url": f"/api/generate/stream/{task.id}"}


@router.post("/api/generate/{task_id}/regenerate", status_code=202)
async def regenerate(task_id: TaskId, body: RegenerateBody, user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    task = await svc.tasks.rerun_pages(user.id, task_id, [body.index])
    return {"task_id": task.id, "status": task.status, "stream_url": f"/api/generate/stream/{task.id}"}


@router.post("/api/generate/{task_id}/stream-ticket", response_model=TicketOut)
async def stream_ticket(task_id: TaskId, user: CurrentUser, svc: ServicesDep) -> TicketOut:
    await svc.tasks.get(user.id, task_id)
    tokens = svc.auth.tokens
    return TicketOut(ticket=tokens.issue_ticket(user.id, task_id, user.session_id), expires_in=tokens.ticket_ttl)
