"""The audit log: append-only rows of who did what, from where, with before and after; filters and CSV export."""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select

from inkstream.admin.paging import PageRequest, TimeRange, count, iso, like
from inkstream.auth.audit_sink import Actor, Origin
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import AuditLog

log = logging.getLogger(__name__)

CSV_COLUMNS = ("id", "created_at", "severity", "action", "actor_id", "actor_name", "target_type", "target_id",
               "ip", "user_agent", "before", "after", "detail")
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""  # a user id, or part of a username
    action: str = ""  # an action or its prefix ("admin.user")
    target: str = ""  # a target id, or "type:id"
    severity: str = ""
    time: TimeRange = TimeRange()


def audit_view(row: AuditLog) -> dict[str, Any]:
    return {"id": row.id, "created_at": iso(row.created_at), "actor_id": row.actor_id, "actor_name": row.actor_name,
            "action": row.action, "target_type": row.target_type, "target_id": row.target_id, "ip": row.ip,
            "user_agent": row.user_agent, "severity": row.severity, "before": row.before, "after": row.after,
            "detail": row.detail}


class AuditLogStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, action: str, *, actor: Actor | None = None, target_type: str = "", target_id: str = "",
        origin: Origin | None = None, severity: str = "info", before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None, detail: dict[str, Any] | None = None,
    ) -> None:
        origin = origin or Origin()
        async with self._db.write() as s:
            s.add(AuditLog(
                created_at=utcnow(), actor_id=actor.id if actor else None,
                actor_name=(actor.name if actor else "")[:64],
                action=action, target_type=target_type, target_id=target_id[:64], ip=origin.ip[:64],
                user_agent=origin.user_agent[:256], severity=severity, before=before, after=after, detail=detail,
            ))
        if severity == "alert":
            log.warning("audit alert: %s (target %s %s)", action, target_type, target_id)

    def _query(self, f: AuditFilter) -> Select[Any]:
        q = select(AuditLog)
        if f.actor:
            q = q.where(AuditLog.actor_id == int(f.actor)) if f.actor.isdigit() else \
                q.where(AuditLog.actor_name.like(like(f.actor), escape="\\"))
        if f.action:
            q = q.where(or_(AuditLog.action == f.action, AuditLog.action.like(f"{f.action}.%")))
        if f.target:
            kind, _, ident = f.target.rpartition(":")
            q = q.where(AuditLog.target_id == ident)
            if kind:
                q = q.where(AuditLog.target_type == kind)
        if f.severity:
            q = q.where(AuditLog.severity == f.severity)
        return f.time.apply(q, AuditLog.created_at)

    async def search(self, f: AuditFilter, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        q = self._query(f)
        async with self._db.read() as s:
            total = await count(s, q)
            rows = (await s.scalars(q.order_by(AuditLog.id.desc()).offset(page.offset).limit(page.page_size))).all()
        return [audit_view(r) for r in rows], total

    async def export_csv(self, f: AuditFilter) -> str:
        async with self._db.read() as s:
            rows = (await s.scalars(self._query(f).order_by(AuditLog.id.desc()).limit(EXPORT_LIMIT))).all()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            view = audit_view(row)
            writer.writerow([_cell(view[c]) for c in CSV_COLUMNS])
        return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)
    # Spreadsheet formula injection: a cell starting with = + - @ is data, not a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
