"""Usage and monitoring: clients' stream reports, a user's quota, and the admin dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from inkstream.api.admin_routes import UserIdFilter
from inkstream.api.deps import AdminUser, CurrentUser, ServicesDep
from inkstream.api.metrics import client_report_counted
from inkstream.usage.daily import pages_per_user_per_day
from inkstream.usage.dashboard import dashboard
from inkstream.usage.telemetry import StreamReport, record

router = APIRouter(tags=["usage"])


@router.post("/api/telemetry/stream", status_code=204)
async def stream_report(report: StreamReport, user: CurrentUser, svc: ServicesDep) -> None:
    """One finished or abandoned stream session as the client saw it (reconnects and why, refreshes)."""
    svc.usage.reports.check(user.id)
    record(svc.usage.rollups, report)
    client_report_counted(report)


@router.get("/api/usage/me")
async def my_usage(user: CurrentUser, svc: ServicesDep) -> dict[str, Any]:
    """Today's page quota: the quota (null: unlimited), pages used today, pages in flight, what is left, the reset."""
    async with svc.usage.db.read() as s:
        status = await svc.usage.quotas.status(s, user.id)
    return status.as_dict()


@router.get("/api/admin/dashboard/stats")
async def dashboard_stats(
    _: AdminUser, svc: ServicesDep, period: Annotated[str, Query(pattern="^(1h|1d|7d)$")] = "1d",
) -> dict[str, Any]:
    return await dashboard(svc.usage.db, period)


@router.get("/api/admin/usage/daily")
async def usage_daily(
    _: AdminUser, svc: ServicesDep, days: Annotated[int, Query(ge=1, le=90)] = 7,
    user_id: UserIdFilter = None,
) -> dict[str, Any]:
    """Pages and outlines per user per day, with the providers and models that made them."""
    return {"days": days, "items": await pages_per_user_per_day(svc.usage.db, timedelta(days=days), user_id)}

