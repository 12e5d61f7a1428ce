"""Request dependencies: the service container and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from inkstream.auth.service import AuthService, UserInfo
from inkstream.config import Settings
from inkstream.errors import TokenMissing
from inkstream.events.log import EventLog
from inkstream.events.stream import FrameCache
from inkstream.storage.images import ImageStore
from inkstream.tasks.service import TaskService


@dataclass
class Services:
    settings: Settings
    auth: AuthService
    tasks: TaskService
    events: EventLog
    images: ImageStore
    frames: FrameCache


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain `def` dependency in its thread pool — a thread hand-off on every request,
    # a quarter of the server's time in the connect benchmark.
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]


def bearer_token(request: Request) -> str | None:
    """The access token from `Authorization: Bearer …`, or — GET only, for the reference system's clients —
    from the `access_token` query parameter (redacted from every log line)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if request.method == "GET":
        return request.query_params.get("access_token") or None
    return None


async def current_user(request: Request, svc: ServicesDep) -> UserInfo:
    token = bearer_token(request)
    if token is None:
        raise TokenMissing("Log in first: send `Authorization: Bearer <access token>`.")
    return await svc.auth.user(svc.auth.tokens.user_from_access(token))


CurrentUser = Annotated[UserInfo, Depends(current_user)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
