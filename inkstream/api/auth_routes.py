"""/api/auth: register, login, refresh, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Request

from inkstream.api.deps import CurrentUser, ServicesDep, client_ip
from inkstream.api.metrics import TOKEN_REFRESHES
from inkstream.api.schemas import Credentials, RefreshBody, TokenOut, UserOut
from inkstream.errors import Forbidden, InkstreamError

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post("/register", status_code=201, response_model=UserOut)
async def register(body: Credentials, svc: ServicesDep) -> UserOut:
    if not svc.settings.public_registration:
        raise Forbidden("Registration is closed; ask an administrator for an account.")
    user = await svc.auth.register(body.username, body.password)
    return UserOut(id=user.id, username=user.username, is_admin=user.is_admin)


@router.post("/login", response_model=TokenOut)
async def login(body: Credentials, request: Request, svc: ServicesDep) -> TokenOut:
    pair = await svc.auth.login(body.username, body.password, client_ip(request))
    return TokenOut(**pair.__dict__)


@router.post("/refresh", response_model=TokenOut)
async def refresh(body: RefreshBody, svc: ServicesDep) -> TokenOut:
    try:
        pair = await svc.auth.refresh(body.refresh_token)
    except InkstreamError as exc:
        TOKEN_REFRESHES.labels(exc.code).inc()
        raise
    TOKEN_REFRESHES.labels("ok").inc()
    return TokenOut(**pair.__dict__)


@router.post("/logout", status_code=204)
async def logout(body: RefreshBody, svc: ServicesDep) -> None:
    await svc.auth.logout(body.refresh_token)


@router.get("/me", response_model=UserOut)
async def me(user: CurrentUser) -> UserOut:
    return UserOut(id=user.id, username=user.username, is_admin=user.is_admin)
