"""Request dependencies: the service container and who is calling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from inkstream.admin.audit import AuditLogStore
from inkstream.admin.providers import ProviderSettings, RuntimeGenerators
from inkstream.admin.records import AdminRecords
from inkstream.admin.registration import Registration
from inkstream.admin.users import AdminUsers
from inkstream.auth.audit_sink import Actor, Origin
from inkstream.auth.revocation import Principal, SessionGuard
from inkstream.auth.service import AuthService
from inkstream.config import Settings
from inkstream.errors import Forbidden, TokenMissing
from inkstream.events.log import EventLog
from inkstream.events.stream import FrameCache
from inkstream.storage.database import Database
from inkstream.storage.images import ImageStore
from inkstream.tasks.service import TaskService
from inkstream.usage.quotas import PageQuotas
from inkstream.usage.rollups import Rollups
from inkstream.usage.telemetry import ReportLimiter


@dataclass
class AdminParts:
    audit: AuditLogStore
    registration: Registration
    users: AdminUsers
    records: AdminRecords
    providers: ProviderSettings
    generators: RuntimeGenerators


@dataclass
class UsageParts:
    rollups: Rollups
    quotas: PageQuotas
    reports: ReportLimiter
    db: Database


@dataclass
class Services:
    settings: Settings
    auth: AuthService
    tasks: TaskService
    events: EventLog
    images: ImageStore
    frames: FrameCache
    guard: SessionGuard
    admin: AdminParts
    usage: UsageParts


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


async def current_user(request: Request, svc: ServicesDep) -> Principal:
    """The caller, checked against its session and account as they are now (revocation), from memory."""
    token = bearer_token(request)
    if token is None:
        raise TokenMissing("Log in first: send `Authorization: Bearer <access token>`.")
    return await svc.guard.principal(svc.auth.tokens.bearer_of_access(token))


CurrentUser = Annotated[Principal, Depends(current_user)]


async def admin_user(user: CurrentUser) -> Principal:
    if not user.is_admin:
        raise Forbidden("This needs an administrator.")
    return user


AdminUser = Annotated[Principal, Depends(admin_user)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def origin(request: Request) -> Origin:
    return Origin(client_ip(request), request.headers.get("user-agent", "")[:256])


OriginDep = Annotated[Origin, Depends(origin)]


def actor(user: Principal) -> Actor:
    return Actor(user.id, user.username)
