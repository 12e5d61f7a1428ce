"""Pagination and time filters shared by the admin lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class PageRequest:
    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]


@dataclass(frozen=True)
class TimeRange:
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Q, column: Any) -> Q:
        if self.since is not None:
            query = query.where(column >= _utc(self.since))
        if self.until is not None:
            query = query.where(column < _utc(self.until))
        return query


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 with an offset that leaves the calendar: its first or last moment
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


async def count(s: AsyncSession, query: Any) -> int:
    return int(await s.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def like(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
