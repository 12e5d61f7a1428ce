"""Usage per user per day from the usage events: pages (new and regenerated) and outlines, by provider and model."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import UsageEvent, User


def _day(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).date().isoformat()


async def pages_per_user_per_day(db: Database, span: timedelta, user_id: int | None) -> list[dict[str, Any]]:
    since = (utcnow() - span).replace(hour=0, minute=0, second=0, microsecond=0)
    q = (select(UsageEvent.created_at, UsageEvent.user_id, UsageEvent.kind, UsageEvent.provider, UsageEvent.model,
                User.username).outerjoin(User, User.id == UsageEvent.user_id).where(UsageEvent.created_at >= since))
    if user_id is not None:
        q = q.where(UsageEvent.user_id == user_id)
    async with db.read() as s:
        rows = (await s.execute(q)).all()
    table: dict[tuple[str, int], dict[str, Any]] = {}
    models: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for created, uid, kind, provider, model, username in rows:
        key = (_day(created), uid)
        row = table.setdefault(key, {"day": key[0], "user_id": uid, "username": username or "(deleted)",
                                     "pages": 0, "regenerated": 0, "outlines": 0})
        row["pages" if kind == "page" else "regenerated" if kind == "regenerate" else "outlines"] += 1
        models[key][f"{provider}/{model}" if model else provider] += 1
    return [{**table[k], "by_model": dict(models[k])} for k in sorted(table, key=lambda k: (k[0], k[1]), reverse=True)]
