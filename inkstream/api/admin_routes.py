"""/api/admin: users, tasks and images across users, the audit log. Every route needs an administrator."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from inkstream.admin.audit import AuditFilter
from inkstream.admin.paging import PageRequest, TimeRange
from inkstream.admin.records import RecordFilter
from inkstream.admin.users import UserFilter
from inkstream.api.admin_schemas import UserCreate, UserStatus, UserUpdate
from inkstream.api.deps import AdminUser, OriginDep, ServicesDep, actor
from inkstream.api.task_routes import TaskId

router = APIRouter(prefix="/api/admin", tags=["admin"])

PageNo = Annotated[int, Query(ge=1, le=100_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# A filter by user: bounded like the path's ids, as PostgreSQL's integer column refuses (500) a larger one.
UserIdFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
# Search text: PostgreSQL's text holds no NUL, and comparing with one is an error there (a 500), not "no match".
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, Query(max_length=100, pattern=NO_NUL)]
Since = Annotated[datetime | None, Query(description="ISO 8601; inclusive")]
Until = Annotated[datetime | None, Query(description="ISO 8601; exclusive")]


def listing(items: list[dict[str, Any]], total: int, page: int, page_size: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "page_size": page_size}


# --- users ---
@router.get("/users")
async def list_users(
    _: AdminUser, svc: ServicesDep, q: Text = "", role: Annotated[str, Query(pattern="^(|user|pro|admin)$")] = "",
    status: Annotated[str, Query(pattern="^(|active|disabled)$")] = "", page: PageNo = 1, page_size: PageSize = 20,
) -> dict[str, Any]:
    items, total = await svc.admin.users.list(UserFilter(q, role, status), PageRequest(page, page_size))
    return listing(items, total, page, page_size)


@router.post("/users", status_code=201)
async def create_user(body: UserCreate, admin: AdminUser, svc: ServicesDep, origin: OriginDep) -> dict[str, Any]:
    return await svc.admin.users.create(body.username, body.password, body.role, actor(admin), origin)


@router.get("/users/{user_id}")
async def get_user(user_id: UserId, _: AdminUser, svc: ServicesDep) -> dict[str, Any]:
    return await svc.admin.users.detail(user_id)


@router.put("/users/{user_id}")
async def update_user(user_id: UserId, body: UserUpdate, admin: AdminUser, svc: ServicesDep,
                      origin: OriginDep) -> dict[str, Any]:
    quota = ("set", body.daily_page_quota) if "daily_page_quota" in body.model_fields_set else None
    return await svc.admin.users.update(user_id, body.role, body.password, actor(admin), origin, quota=quota)


@router.patch("/users/{user_id}/status")
async def set_user_status(user_id: UserId, body: UserStatus, admin: AdminUser, svc: ServicesDep,
                          origin: OriginDep) -> dict[str, Any]:
    return await svc.admin.users.set_active(user_id, body.is_active, actor(admin), origin)


@router.post("/users/{user_id}/revoke-sessions", status_code=204)
async def revoke_user_sessions(user_id: UserId, admin: AdminUser, svc: ServicesDep, origin: OriginDep) -> None:
    await svc.admin.users.revoke_sessions(user_id, actor(admin), origin)


@router.delete("/users/{user_id}", status_code=204)
async def delete_user(user_id: UserId, admin: AdminUser, svc: ServicesDep, origin: OriginDep) -> None:
    await svc.admin.users.delete(user_id, actor(admin), origin)


# --- tasks and images across users ---
@router.get("/records")
async def list_records(
    _: AdminUser, svc: ServicesDep, q: Text = "", user_id: UserIdFilter = None,
    status: Annotated[str, Query(pattern="^(|queued|running|done|failed|cancelled)$")] = "",
    kind: Annotated[str, Query(pattern="^(|outline|generate)$")] = "", since: Since = None, until: Until = None,
    page: PageNo = 1, page_size: PageSize = 20,
) -> dict[str, Any]:
    f = RecordFilter(q, user_id, status, kind, TimeRange(since, until))
    items, total = await svc.admin.records.tasks(f, PageRequest(page, page_size))
    return listing(items, total, page, page_size)


@router.post("/records/{task_id}/cancel")
async def cancel_record(task_id: TaskId, admin: AdminUser, svc: ServicesDep, origin: OriginDep) -> dict[str, Any]:
    task = await svc.tasks.cancel_any(task_id)
    await svc.admin.audit.record("admin.task.cancel", actor=actor(admin), target_type="task", target_id=task_id,
                                 origin=origin, after={"status": task.status})
    return {"task_id": task.id, "status": task.status}


@router.delete("/records/{task_id}", status_code=204)
async def delete_record(task_id: TaskId, admin: AdminUser, svc: ServicesDep, origin: OriginDep) -> None:
    owner = await svc.tasks.owner_of(task_id)
    await svc.tasks.remove_any(task_id)
    await svc.admin.audit.record("admin.task.delete", actor=actor(admin), target_type="task", target_id=task_id,
                                 origin=origin, before={"user_id": owner})


@router.get("/images")
async def list_images(
    _: AdminUser, svc: ServicesDep, user_id: UserIdFilter = None,
    task_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None, page: PageNo = 1,
    page_size: PageSize = 20,
) -> dict[str, Any]:
    items, total = await svc.admin.records.images(user_id, task_id, PageRequest(page, page_size))
    return listing(items, total, page, page_size)


@router.get("/images/stats")
async def image_stats(_: AdminUser, svc: ServicesDep) -> dict[str, Any]:
    return await svc.admin.records.image_stats()


# --- audit log ---
def _audit_filter(actor_: str, action: str, target: str, severity: str, since: datetime | None,
                  until: datetime | None) -> AuditFilter:
    return AuditFilter(actor_, action, target, severity, TimeRange(since, until))


AuditAction = Annotated[str, Query(max_length=48, pattern=r"^[a-z_.]*$")]
Severity = Annotated[str, Query(pattern="^(|info|warning|alert)$")]


@router.get("/audit-logs")
async def audit_logs(
    _: AdminUser, svc: ServicesDep, actor: Text = "", action: AuditAction = "", target: Text = "",
    severity: Severity = "", since: Since = None, until: Until = None, page: PageNo = 1, page_size: PageSize = 20,
) -> dict[str, Any]:
    f = _audit_filter(actor, action, target, severity, since, until)
    items, total = await svc.admin.audit.search(f, PageRequest(page, page_size))
    return listing(items, total, page, page_size)


@router.get("/audit-logs/export.csv", response_class=Response)
async def audit_logs_csv(
    _: AdminUser, svc: ServicesDep, actor: Text = "", action: AuditAction = "", target: Text = "",
    severity: Severity = "", since: Since = None, until: Until = None,
) -> Response:
    body = await svc.admin.audit.export_csv(_audit_filter(actor, action, target, severity, since, until))
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="inkstream-audit.csv"'})
