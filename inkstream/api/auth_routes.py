"""/api/auth: register, login, refresh, logout (this session or all), the caller's sessions and password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from inkstream.admin.users import session_view
from inkstream.api.deps import CurrentUser, OriginDep, ServicesDep
from inkstream.api.metrics import TOKEN_REFRESHES
from inkstream.api.schemas import (
    LoginBody,
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
from inkstream.api.session_cookie import check_origin, clear_refresh_cookie, cookie_token, set_refresh_cookie
from inkstream.auth.service import TokenPair
from inkstream.errors import InkstreamError, TokenMissing

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
async def login(body: LoginBody, request: Request, response: Response, svc: ServicesDep, origin: OriginDep
                ) -> TokenOut:
    if body.cookie:
        check_origin(request, svc.settings)
    pair = await svc.auth.login(body.username, body.password, origin)
    return _tokens_out(pair, response, svc, in_cookie=body.cookie)


@router.post("/refresh", response_model=TokenOut)
async def refresh(request: Request, response: Response, svc: ServicesDep, origin: OriginDep,
                  body: RefreshBody | None = None) -> TokenOut:
    in_cookie = body is None or body.refresh_token is None
    try:
        token = _presented_token(body, request, svc)
        if token is None:
            raise TokenMissing("No refresh token: send it in the body, or log in again.")
        pair = await svc.auth.refresh(token, origin)
    except InkstreamError as exc:
        TOKEN_REFRESHES.labels(exc.code).inc()
        svc.usage.rollups.add(f"refresh.failed.{exc.code}")
        raise
    TOKEN_REFRESHES.labels("ok").inc()
    svc.usage.rollups.add("refresh.ok")
    return _tokens_out(pair, response, svc, in_cookie=in_cookie)


def _presented_token(body: RefreshBody | None, request: Request, svc: ServicesDep) -> str | None:
    """The refresh token in the body (SDK, CLI), else the browser's cookie (after its Origin check)."""
    if body is not None and body.refresh_token:
        return body.refresh_token
    return cookie_token(request, svc.settings)


def _tokens_out(pair: TokenPair, response: Response, svc: ServicesDep, *, in_cookie: bool) -> TokenOut:
    if not in_cookie:
        return TokenOut(**pair.__dict__)
    set_refresh_cookie(response, pair.refresh_token, svc.settings)
    return TokenOut(**{**pair.__dict__, "refresh_token": None})


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response, svc: ServicesDep, origin: OriginDep,
                 body: RefreshBody | None = None) -> None:
    """End this session: the refresh token from the body, else from the cookie (which is cleared)."""
    token = _presented_token(body, request, svc)
    clear_refresh_cookie(response, svc.settings)
    if token is not None:
        await svc.auth.logout(token, origin)


@router.post("/logout-all", status_code=204)
async def logout_all(user: CurrentUser, response: Response, svc: ServicesDep, origin: OriginDep) -> None:
    clear_refresh_cookie(response, svc.settings)
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
