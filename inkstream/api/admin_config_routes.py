"""/api/admin: providers at run time (versions, diff, rollback, test connection) and registration with invites."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from inkstream.admin.paging import PageRequest
from inkstream.admin.provider_check import check_provider
from inkstream.admin.registration import RegistrationConfig
from inkstream.api.admin_routes import PageNo, PageSize, listing
from inkstream.api.admin_schemas import InviteCreate, ProvidersUpdate, ProviderTest, RegistrationUpdate
from inkstream.api.deps import AdminUser, OriginDep, ServicesDep, actor
from inkstream.errors import GeneratorConfigUnusable
from inkstream.generators.base import GeneratorError

router = APIRouter(prefix="/api/admin", tags=["admin"])

Version = Annotated[int, Path(ge=1, le=2**31 - 1)]
InviteCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]


# --- providers ---
@router.get("/config/image-providers")
async def get_providers(_: AdminUser, svc: ServicesDep) -> dict[str, Any]:
    return await svc.admin.providers.view()


@router.put("/config/image-providers")
async def put_providers(body: ProvidersUpdate, admin: AdminUser, svc: ServicesDep,
                        origin: OriginDep) -> dict[str, Any]:
    view = await svc.admin.providers.save(body.config, body.comment, actor(admin), origin)
    svc.admin.generators.invalidate()  # this node at once; the others within their check interval
    return view


@router.get("/config/image-providers/history")
async def providers_history(_: AdminUser, svc: ServicesDep, page: PageNo = 1,
                            page_size: PageSize = 20) -> dict[str, Any]:
    items, total = await svc.admin.providers.history(PageRequest(page, page_size))
    return listing(items, total, page, page_size)


@router.post("/config/image-providers/rollback/{version}")
async def rollback_providers(version: Version, admin: AdminUser, svc: ServicesDep,
                             origin: OriginDep) -> dict[str, Any]:
    view = await svc.admin.providers.rollback(version, actor(admin), origin)
    svc.admin.generators.invalidate()
    return view


@router.post("/config/image-providers/test")
async def test_provider(body: ProviderTest, _: AdminUser, svc: ServicesDep) -> dict[str, Any]:
    _version, data, _meta = await svc.admin.providers.current()
    try:
        opened = svc.admin.providers.unsealed(data)
    except GeneratorError as exc:  # a key sealed under another secret key
        raise GeneratorConfigUnusable(exc.message) from None
    return await check_provider(opened, body.section, body.provider)


# --- registration and invites ---
async def _registration(svc: Any) -> dict[str, Any]:
    config, meta = await svc.admin.registration.config()
    return {**config.as_dict(), **meta}


@router.get("/registration")
async def get_registration(_: AdminUser, svc: ServicesDep) -> dict[str, Any]:
    return await _registration(svc)


@router.put("/registration")
async def put_registration(body: RegistrationUpdate, admin: AdminUser, svc: ServicesDep,
                           origin: OriginDep) -> dict[str, Any]:
    await svc.admin.registration.update(RegistrationConfig(body.enabled, body.invite_required, body.default_role),
                                        actor(admin), origin)
    return await _registration(svc)


@router.get("/registration/history")
async def registration_history(_: AdminUser, svc: ServicesDep, page: PageNo = 1,
                               page_size: PageSize = 20) -> dict[str, Any]:
    items, total = await svc.admin.registration.history(PageRequest(page, page_size))
    return listing(items, total, page, page_size)


@router.get("/registration/invites")
async def list_invites(
    _: AdminUser, svc: ServicesDep, status: Annotated[str, Query(pattern="^(|active|used|expired|revoked)$")] = "",
    page: PageNo = 1, page_size: PageSize = 20,
) -> dict[str, Any]:
    items, total = await svc.admin.registration.invites(status, PageRequest(page, page_size))
    return listing(items, total, page, page_size)


@router.post("/registration/invites", status_code=201)
async def create_invite(body: InviteCreate, admin: AdminUser, svc: ServicesDep,
                        origin: OriginDep) -> dict[str, Any]:
    return await svc.admin.registration.create_invite(body.max_uses, body.expires_in, actor(admin), origin)


@router.delete("/registration/invites/{code}", status_code=204)
async def revoke_invite(code: InviteCode, admin: AdminUser, svc: ServicesDep, origin: OriginDep) -> None:
    await svc.admin.registration.revoke_invite(code, actor(admin), origin)
