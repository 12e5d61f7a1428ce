"""GET /api/admin/dashboard/stats: users, tasks, pages, storage, nodes, queue depth and the three stream figures
(server and client side) for the last hour, day or week, from the database — the same on every node."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import MetricRollup, NodeStatus, Page, Task, UsageEvent, User
from inkstream.usage.figures import client_figures, series_point, server_figures

# period → (length, bucket of the time series)
PERIODS: dict[str, tuple[timedelta, timedelta]] = {
    "1h": (timedelta(hours=1), timedelta(minutes=1)),
    "1d": (timedelta(days=1), timedelta(minutes=15)),
    "7d": (timedelta(days=7), timedelta(hours=1)),
}
NODE_ALIVE = timedelta(seconds=30)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> str:
    return _aware(moment).date().isoformat()


async def rollup_counts(db: Database, since: datetime) -> list[tuple[datetime, str, int]]:
    async with db.read() as s:
        rows = (await s.execute(
            select(MetricRollup.minute, MetricRollup.name, func.sum(MetricRollup.value))
            .where(MetricRollup.minute >= since).group_by(MetricRollup.minute, MetricRollup.name)
        )).all()
    return [(_aware(m), n, int(v or 0)) for m, n, v in rows]


async def queue_depth(db: Database) -> int:
    """Pages waiting or generating, plus outlines not started: the work the workers have not finished."""
    async with db.read() as s:
        pages = await s.scalar(
            select(func.count()).select_from(Page).join(Task, Task.id == Page.task_id)
            .where(Task.status.in_(("queued", "running")), Page.status.in_(("pending", "generating")))
        )
        outlines = await s.scalar(select(func.count()).select_from(Task)
                                  .where(Task.kind == "outline", Task.status.in_(("queued", "running"))))
    return int(pages or 0) + int(outlines or 0)


async def live_nodes(db: Database) -> list[dict[str, Any]]:
    async with db.read() as s:
        rows = (await s.scalars(select(NodeStatus).where(NodeStatus.updated_at >= utcnow() - NODE_ALIVE)
                                .order_by(NodeStatus.kind, NodeStatus.node))).all()
    return [{"node": r.node, "kind": r.kind, "open_streams": r.open_streams,
             "updated_at": _aware(r.updated_at).isoformat(), "started_at": _aware(r.started_at).isoformat()}
            for r in rows]


async def dashboard(db: Database, period: str) -> dict[str, Any]:
    length, bucket = PERIODS[period]
    now = utcnow()
    since = now - length
    week_ago = now - timedelta(days=7)
    counts = await rollup_counts(db, since.replace(second=0, microsecond=0))
    totals: Counter[str] = Counter()
    buckets: dict[int, Counter[str]] = defaultdict(Counter)
    step = int(bucket.total_seconds())
    for minute, name, value in counts:
        totals[name] += value
        buckets[int(minute.timestamp()) // step * step][name] += value
    first = int(since.timestamp()) // step * step
    series = [{"t": t, **series_point(buckets.get(t, Counter()))}
              for t in range(first, int(now.timestamp()) + 1, step)]

    async with db.read() as s:
        users_total = await s.scalar(select(func.count()).select_from(User)) or 0
        users_active = await s.scalar(select(func.count()).select_from(User).where(
            User.is_active.is_(True), User.last_login_at >= since)) or 0
        users_new = await s.scalar(select(func.count()).select_from(User).where(User.created_at >= week_ago)) or 0
        running = await s.scalar(select(func.count()).select_from(Task).where(Task.status == "running")) or 0
        queued = await s.scalar(select(func.count()).select_from(Task).where(Task.status == "queued")) or 0
        finished = (await s.execute(select(Task.finished_at, Task.status).where(Task.finished_at >= week_ago))).all()
        page_events = (await s.execute(select(UsageEvent.created_at).where(
            UsageEvent.created_at >= week_ago, UsageEvent.kind.in_(("page", "regenerate"))))).all()
        storage = (await s.execute(select(func.count(), func.coalesce(func.sum(Page.image_bytes), 0))
                                   .where(Page.status == "done", Page.image_file.is_not(None)))).one()
    days = [(now - timedelta(days=d)).date().isoformat() for d in range(6, -1, -1)]
    per_day: dict[str, Counter[str]] = {d: Counter() for d in days}
    for finished_at, status in finished:
        if finished_at is not None and _day(finished_at) in per_day:
            per_day[_day(finished_at)][status] += 1
    pages_per_day: Counter[str] = Counter(_day(created) for (created,) in page_events)
    return {
        "period": period, "since": since.isoformat(), "until": now.isoformat(), "bucket_seconds": step,
        "users": {"total": users_total, "active": users_active, "new_this_week": users_new},
        "tasks": {"running": running, "queued": queued,
                  "per_day": [{"day": d, "done": per_day[d]["done"], "failed": per_day[d]["failed"],
                               "cancelled": per_day[d]["cancelled"]} for d in days]},
        "pages": {"per_day": [{"day": d, "pages": pages_per_day[d]} for d in days]},
        "storage": {"images": int(storage[0] or 0), "bytes": int(storage[1] or 0)},
        "nodes": await live_nodes(db),
        "queue": {"depth": await queue_depth(db)},
        "server": server_figures(totals),
        "client": client_figures(totals),
        "series": series,
    }
