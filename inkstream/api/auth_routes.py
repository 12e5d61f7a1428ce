"""/api/auth: register, login, refresh, logout (this session or all), the caller's sessions and password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from inkstream.admin.users import session_view
from inkstream.api.deps import CurrentUser, OriginDep, ServicesDep
from inkstream.api.metrics import TOKEN_REFRESHES
from inkstream.api.schemas import (
    Credentials,
    MeOut,
    PasswordChange,
    RefreshBody,
    RegisterBody,
    RegistrationConfigOut,
    SessionOut,
    SessionsOut,
    TokenOut,
    UserOut,
)
from inkstream.errors import InkstreamError

router = APIRouter(prefix="/api/auth", tags=["auth"])

SessionId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 lowercase hex characters")]


@router.get("/registration/config", response_model=RegistrationConfigOut)
async def registration_config(svc: ServicesDep) -> RegistrationConfigOut:
    config, _ = await svc.admin.registration.config()
    return RegistrationConfigOut(enabled=config.enabled, invite_required=config.enabled and config.invite_required)


@router.post("/register", status_code=201, response_model=UserOut)
async def register(body: RegisterBody, svc: ServicesDep, origin: OriginDep) -> UserOut:
    user = await svc.admin.registration.register(body.username, body.password, body.invite_code, origin)
    return UserOut(id=user.id, username=user.username, is_admin=user.is_admin, role=user.role)


@router.post("/login", response_model=TokenOut)
async def login(body: Credentials, svc: ServicesDep, origin: OriginDep) -> TokenOut:
    pair = await svc.auth.login(body.username, body.password, origin)
    return TokenOut(**pair.__dict__)


@router.post("/refresh", response_model=TokenOut)
async def refresh(body: RefreshBody, svc: ServicesDep, origin: OriginDep) -> TokenOut:
    try:
        pair = await svc.auth.refresh(body.refresh_token, origin)
    except InkstreamError as exc:
        TOKEN_REFRESHES.labels(exc.code).inc()
        svc.usage.rollups.add(f"refresh.failed.{exc.code}")
        raise
    TOKEN_REFRESHES.labels("ok").inc()
    svc.usage.rollups.add("refresh.ok")
    return TokenOut(**pair.__dict__)


@router.post("/logout", status_code=204)
async def logout(body: RefreshBody, svc: ServicesDep, origin: OriginDep) -> None:
    await svc.auth.logout(body.refresh_token, origin)


@router.post("/logout-all", status_code=204)
async def logout_all(user: CurrentUser, svc: ServicesDep, origin: OriginDep) -> None:
    await svc.auth.logout_all(user, origin)


@router.get("/sessions", response_model=SessionsOut)
async def sessions(user: CurrentUser, svc: ServicesDep) -> SessionsOut:
    live = await svc.auth.sessions.live_sessions(user.id)
    return SessionsOut(items=[SessionOut(**session_view(s, user.session_id)) for s in live])


@router.delete("/sessions/{session_id}", status_code=204)
async def revoke_session(session_id: SessionId, user: CurrentUser, svc: ServicesDep, origin: OriginDep) -> None:
    await svc.auth.revoke_session(user, session_id, origin)


@router.post("/password", status_code=204)
async def change_password(body: PasswordChange, user: CurrentUser, svc: ServicesDep, origin: OriginDep) -> None:
    await svc.auth.change_password(user, body.current_password, body.new_password, origin)


@router.get("/me", response_model=MeOut)
async def me(user: CurrentUser) -> MeOut:
    return MeOut(id=user.id, username=user.username, is_admin=user.is_admin, role=user.role,
                 session_id=user.session_id)
