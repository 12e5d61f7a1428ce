"""Managing accounts: list and inspect, create, change role or password, enable / disable, end sessions, delete.

Every change is audited with before and after, and every change that takes access away ends the user's sessions
through the same revocation feed as a logout (inkstream.auth.revocation): effective on every node within seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from inkstream.admin.paging import PageRequest, count, iso, like
from inkstream.auth.audit_sink import Actor, AuditSink, Origin
from inkstream.auth.passwords import hash_password
from inkstream.auth.refresh import DISABLED
from inkstream.auth.service import AuthService, check_password
from inkstream.errors import Conflict, InvalidInput, NotFound
from inkstream.storage.database import Database
from inkstream.storage.tables import ROLES, AuthSession, Page, Task, User
from inkstream.tasks.service import TaskService


@dataclass(frozen=True)
class UserFilter:
    q: str = ""
    role: str = ""
    status: str = ""  # active | disabled


def _public(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "role": user.role, "is_admin": user.role == "admin",
            "is_active": user.is_active, "created_at": iso(user.created_at), "last_login_at": iso(user.last_login_at),
            "daily_page_quota": user.daily_page_quota}


def session_view(session: AuthSession, current: str | None = None) -> dict[str, Any]:
    return {"id": session.id, "created_at": iso(session.created_at), "last_used_at": iso(session.last_used_at),
            "ip": session.ip, "user_agent": session.user_agent, "current": session.id == current}


class AdminUsers:
    def __init__(self, db: Database, auth: AuthService, tasks: TaskService, audit: AuditSink) -> None:
        self._db = db
        self._auth = auth
        self._tasks = tasks
        self._audit = audit

    async def _usage(self, user_ids: list[int]) -> dict[int, dict[str, int]]:
        """Tasks, pages generated, bytes of images on disk and live sessions per user."""
        usage = {uid: {"tasks": 0, "pages": 0, "storage_bytes": 0, "active_sessions": 0} for uid in user_ids}
        if not user_ids:
            return usage
        async with self._db.read() as s:
            for uid, n in (await s.execute(
                select(Task.user_id, func.count()).where(Task.user_id.in_(user_ids)).group_by(Task.user_id)
            )).all():
                usage[uid]["tasks"] = n
            for uid, n, size in (await s.execute(
                select(Task.user_id, func.count(), func.coalesce(func.sum(Page.image_bytes), 0))
                .join(Page, Page.task_id == Task.id).where(Task.user_id.in_(user_ids), Page.status == "done")
                .group_by(Task.user_id)
            )).all():
                usage[uid]["pages"], usage[uid]["storage_bytes"] = n, int(size or 0)
            for uid, n in (await s.execute(
                select(AuthSession.user_id, func.count())
                .where(AuthSession.user_id.in_(user_ids), AuthSession.revoked_at.is_(None))
                .group_by(AuthSession.user_id)
            )).all():
                usage[uid]["active_sessions"] = n
        return usage

    async def list(self, f: UserFilter, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        q = select(User)
        if f.q:
            q = q.where(User.username.like(like(f.q), escape="\\"))
        if f.role:
            q = q.where(User.role == f.role)
        if f.status in ("active", "disabled"):
            q = q.where(User.is_active.is_(f.status == "active"))
        async with self._db.read() as s:
            total = await count(s, q)
            users = (await s.scalars(q.order_by(User.id).offset(page.offset).limit(page.page_size))).all()
        usage = await self._usage([u.id for u in users])
        return [{**_public(u), **usage[u.id]} for u in users], total

    async def _get(self, user_id: int) -> User:
        async with self._db.read() as s:
            user = await s.get(User, user_id)
        if user is None:
            raise NotFound("user_not_found", "No such user.")
        return user

    async def detail(self, user_id: int) -> dict[str, Any]:
        user = await self._get(user_id)
        usage = (await self._usage([user.id]))[user.id]
        sessions = await self._auth.sessions.live_sessions(user.id)
        async with self._db.read() as s:
            tasks = (await s.scalars(
                select(Task).where(Task.user_id == user.id).order_by(Task.created_at.desc()).limit(20)
            )).all()
        return {**_public(user), **usage, "sessions": [session_view(x) for x in sessions],
                "recent_tasks": [{"task_id": t.id, "kind": t.kind, "status": t.status, "topic": t.topic,
                                  "total": t.total, "created_at": iso(t.created_at)} for t in tasks]}

    async def create(self, username: str, password: str, role: str, actor: Actor, origin: Origin) -> dict[str, Any]:
        info = await self._auth.register(username, password, role=role)
        user = await self._get(info.id)
        await self._audit.record("admin.user.create", actor=actor, target_type="user", target_id=str(user.id),
                                 origin=origin, after=_public(user))
        return {**_public(user), **(await self._usage([user.id]))[user.id]}

    async def _guard(self, user: User, actor: Actor, *, removes_admin: bool) -> None:
        if user.id == actor.id and removes_admin:
            raise Conflict("cannot_change_self", "You cannot demote, disable or delete your own account.")
        if removes_admin and user.role == "admin" and user.is_active:
            async with self._db.read() as s:
                admins = await s.scalar(select(func.count()).select_from(User)
                                        .where(User.role == "admin", User.is_active.is_(True)))
            if (admins or 0) <= 1:
                raise Conflict("last_admin", "This is the last active administrator.")

    async def update(self, user_id: int, role: str | None, password: str | None, actor: Actor,
                     origin: Origin, *, quota: tuple[str, int | None] | None = None) -> dict[str, Any]:
        if role is not None and role not in ROLES:
            raise InvalidInput("invalid_role", f"The role must be one of {', '.join(ROLES)}.")
        if password is not None:
            check_password(password)
        user = await self._get(user_id)
        await self._guard(user, actor, removes_admin=role is not None and role != "admin")
        before = _public(user)
        async with self._db.write() as s:
            row = await s.get(User, user_id)
            if row is None:
                raise NotFound("user_not_found", "No such user.")
            if role is not None:
                row.set_role(role)
            if password is not None:
                row.password_hash = hash_password(password)
            if quota is not None:
                row.daily_page_quota = quota[1]
        if password is not None:
            await self._auth.sessions.revoke_user(user_id, "password_reset")
        elif role is not None and role != before["role"]:
            await self._auth.sessions.announce(user_id, "role_changed")  # nodes re-read the role
        after = _public(await self._get(user_id))
        await self._audit.record("admin.user.update", actor=actor, target_type="user", target_id=str(user_id),
                                 origin=origin, before=before, after=after,
                                 detail={"password_reset": password is not None})
        return {**after, **(await self._usage([user_id]))[user_id]}

    async def set_active(self, user_id: int, active: bool, actor: Actor, origin: Origin) -> dict[str, Any]:
        user = await self._get(user_id)
        await self._guard(user, actor, removes_admin=not active)
        before = _public(user)
        async with self._db.write() as s:
            row = await s.get(User, user_id)
            if row is not None:
                row.is_active = active
        if not active:
            await self._auth.sessions.revoke_user(user_id, DISABLED)
        after = _public(await self._get(user_id))
        await self._audit.record("admin.user.status", actor=actor, target_type="user", target_id=str(user_id),
                                 origin=origin, before=before, after=after)
        return {**after, **(await self._usage([user_id]))[user_id]}

    async def revoke_sessions(self, user_id: int, actor: Actor, origin: Origin) -> None:
        await self._get(user_id)
        ended = await self._auth.sessions.revoke_user(user_id, "admin_revoked")
        await self._audit.record("admin.user.revoke_sessions", actor=actor, target_type="user",
                                 target_id=str(user_id), origin=origin, detail={"sessions": ended})

    async def delete(self, user_id: int, actor: Actor, origin: Origin) -> None:
        user = await self._get(user_id)
        await self._guard(user, actor, removes_admin=True)
        before = _public(user)
        await self._auth.sessions.revoke_user(user_id, "account_deleted")
        async with self._db.read() as s:
            task_ids = list((await s.scalars(select(Task.id).where(Task.user_id == user_id))).all())
        for task_id in task_ids:
            await self._tasks.remove_any(task_id)
        async with self._db.write() as s:
            row = await s.get(User, user_id)
            if row is not None:
                await s.delete(row)
        await self._audit.record("admin.user.delete", actor=actor, target_type="user", target_id=str(user_id),
                                 origin=origin, before=before, detail={"tasks_deleted": len(task_ids)})
