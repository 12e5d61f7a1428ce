"""GET /api/images/{task_id}/{file}: a generated image, for its owner only (signed URL or Bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from inkstream.api.deps import ServicesDep, bearer_token
from inkstream.errors import ImageNotFound
from inkstream.storage.images import MEDIA_TYPES

router = APIRouter(tags=["images"])


@router.get("/api/images/{task_id}/{file_name}", response_model=None, responses={
    200: {"description": "The PNG", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}})
async def image(
    task_id: str, file_name: str, request: Request, svc: ServicesDep,
    exp: Annotated[str, Query(max_length=20)] = "", sig: Annotated[str, Query(max_length=128)] = "",
) -> FileResponse:
    path = svc.images.path(task_id, file_name)  # refuses anything but <hex id>/<n>.png|webp in the image root
    owner = await svc.tasks.owner_of(task_id)
    if owner is None:
        raise ImageNotFound("No such image.")
    token = bearer_token(request)
    allowed = (svc.images.verify(owner, task_id, file_name, exp, sig) if sig
               else token is not None
               and (await svc.guard.principal(svc.auth.tokens.bearer_of_access(token))).id == owner)
    if not allowed or not path.is_file():
        raise ImageNotFound("No such image, or the link has expired.")  # 404 either way: nothing to probe
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix[1:]],
                        headers={"Cache-Control": "private, max-age=300"})
