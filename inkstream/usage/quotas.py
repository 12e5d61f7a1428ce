"""Daily page quotas per role (INKSTREAM_DAILY_PAGE_QUOTA, e.g. {"user": 60, "pro": 600}), with a per-user override
set by admins. A day is a UTC day. What counts: pages generated today (usage events, kept when a post is deleted)
plus pages queued or generating now — so one cannot start more than the quota by starting tasks in parallel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inkstream.errors import QuotaExceeded
from inkstream.storage.db import utcnow
from inkstream.storage.tables import Page, Task, UsageEvent, User

PAGE_KINDS = ("page", "regenerate")


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class QuotaStatus:
    quota: int | None  # None: unlimited
    used_today: int
    in_flight: int
    resets_at: datetime

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(0, self.quota - self.used_today - self.in_flight)

    def as_dict(self) -> dict[str, Any]:
        return {"quota": self.quota, "used_today": self.used_today, "in_flight": self.in_flight,
                "remaining": self.remaining, "resets_at": self.resets_at.isoformat()}


class PageQuotas:
    def __init__(self, by_role: dict[str, int]) -> None:
        self._by_role = by_role

    def limit_for(self, role: str, override: int | None) -> int | None:
        if override is not None:
            return override
        return self._by_role.get(role)  # admins (and roles not listed) are unlimited unless set

    async def status(self, s: AsyncSession, user_id: int) -> QuotaStatus:
        now = utcnow()
        start = day_start(now)
        # Lock the user's row (PostgreSQL; SQLite writers are serialised anyway): two tasks started at once are
        # counted one after the other, so together they cannot pass the quota.
        user = (await s.execute(select(User.role, User.daily_page_quota).where(User.id == user_id)
                                .with_for_update())).first()
        role, override = (user[0], user[1]) if user else ("user", None)
        used = await s.scalar(select(func.count()).select_from(UsageEvent).where(
            UsageEvent.user_id == user_id, UsageEvent.kind.in_(PAGE_KINDS), UsageEvent.created_at >= start)) or 0
        in_flight = await s.scalar(select(func.count()).select_from(Page).join(Task, Task.id == Page.task_id).where(
            Task.user_id == user_id, Page.status.in_(("pending", "generating")))) or 0
        return QuotaStatus(self.limit_for(role, override), int(used), int(in_flight), start + timedelta(days=1))

    async def check(self, s: AsyncSession, user_id: int, pages: int) -> None:
        """Raise 429 quota_exceeded when `pages` more would pass today's quota."""
        status = await self.status(s, user_id)
        if status.remaining is not None and pages > status.remaining:
            retry_after = max(1, int((status.resets_at - utcnow()).total_seconds()) + 1)
            raise QuotaExceeded(
                f"Today's page quota is {status.quota}; {status.remaining} left and {pages} asked for. "
                f"It resets at {status.resets_at:%H:%M} UTC.",
                retry_after=retry_after, quota=status.quota, remaining=status.remaining,
            )
