"""Tasks and images across all users, and storage totals: what the reference system calls records and images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from inkstream.admin.paging import PageRequest, TimeRange, count, iso, like
from inkstream.storage.database import Database
from inkstream.storage.images import ImageStore
from inkstream.storage.tables import Page, Task, User


@dataclass(frozen=True)
class RecordFilter:
    q: str = ""
    user_id: int | None = None
    status: str = ""
    kind: str = ""
    time: TimeRange = TimeRange()


class AdminRecords:
    def __init__(self, db: Database, images: ImageStore) -> None:
        self._db = db
        self._images = images

    async def tasks(self, f: RecordFilter, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        q = select(Task, User.username).join(User, User.id == Task.user_id)
        if f.q:
            q = q.where(Task.topic.like(like(f.q), escape="\\"))
        if f.user_id is not None:
            q = q.where(Task.user_id == f.user_id)
        if f.status:
            q = q.where(Task.status == f.status)
        if f.kind:
            q = q.where(Task.kind == f.kind)
        q = f.time.apply(q, Task.created_at)
        async with self._db.read() as s:
            total = await count(s, q)
            rows = (await s.execute(q.order_by(Task.created_at.desc(), Task.id).offset(page.offset)
                                    .limit(page.page_size))).all()
            ids: list[str] = [t.id for t, _ in rows]
            tallies: dict[str, dict[str, int]] = {i: {"done": 0, "error": 0} for i in ids}
            for task_id, status, n in (await s.execute(
                select(Page.task_id, Page.status, func.count()).where(Page.task_id.in_(ids))
                .group_by(Page.task_id, Page.status)
            )).all():
                if status in ("done", "error"):
                    tallies[task_id][status] = n
        return [{"task_id": t.id, "user_id": t.user_id, "username": name, "kind": t.kind, "status": t.status,
                 "topic": t.topic, "total": t.total, "completed": tallies[t.id]["done"],
                 "failed": tallies[t.id]["error"], "created_at": iso(t.created_at),
                 "finished_at": iso(t.finished_at)} for t, name in rows], total

    async def images(self, user_id: int | None, task_id: str | None,
                     page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        q = (select(Page, Task.user_id, User.username).join(Task, Task.id == Page.task_id)
             .join(User, User.id == Task.user_id).where(Page.status == "done", Page.image_file.is_not(None)))
        if user_id is not None:
            q = q.where(Task.user_id == user_id)
        if task_id:
            q = q.where(Page.task_id == task_id)
        async with self._db.read() as s:
            total = await count(s, q)
            rows = (await s.execute(q.order_by(Page.updated_at.desc(), Page.task_id, Page.index)
                                    .offset(page.offset).limit(page.page_size))).all()
        # Signed for the owner: the same URL the owner's browser gets, so it loads in an <img> for the admin too.
        return [{"task_id": p.task_id, "index": p.index, "user_id": owner, "username": name,
                 "image_url": self._images.sign(owner, self._images.unsigned_url(p.task_id, p.image_file or "")),
                 "bytes": p.image_bytes or 0, "updated_at": iso(p.updated_at)} for p, owner, name in rows], total

    async def image_stats(self) -> dict[str, Any]:
        async with self._db.read() as s:
            rows = (await s.execute(
                select(User.id, User.username, func.count(Page.index), func.coalesce(func.sum(Page.image_bytes), 0))
                .join(Task, Task.user_id == User.id).join(Page, Page.task_id == Task.id)
                .where(Page.status == "done", Page.image_file.is_not(None))
                .group_by(User.id, User.username).order_by(func.coalesce(func.sum(Page.image_bytes), 0).desc())
            )).all()
        users = [{"user_id": uid, "username": name, "images": n, "bytes": int(size or 0)}
                 for uid, name, n, size in rows]
        return {"images": sum(u["images"] for u in users), "bytes": sum(u["bytes"] for u in users), "users": users}
