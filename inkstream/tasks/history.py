"""A user's post history: listing with search and a status filter, counts for the header, and renaming."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from inkstream.errors import InvalidInput, TaskNotFound
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import Page, Task
from inkstream.tasks import states

STATUSES = (states.QUEUED, states.RUNNING, states.DONE, states.PARTIAL, states.FAILED, states.CANCELLED)
TITLE_MAX = 100
QUERY_MAX = 100
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_COVER_TITLE_RE = re.compile(r"^\s*标题[:：]\s*(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class HistoryItem:
    task: Task
    cover: Page | None  # the first finished page, for the card's picture
    cover_title: str | None  # 「标题：…」 of the outline's cover page

    @property
    def title(self) -> str:
        """What the card is called: the owner's name for it, else the copy's first title, the cover's, the topic."""
        copy = (self.task.post_copy or {}).get("copy") or {}
        titles = copy.get("titles") or []
        return self.task.title or (titles[0] if titles else None) or self.cover_title or self.task.topic


def week_start(now: datetime) -> datetime:
    """Monday 00:00 (UTC) of the week `now` falls in."""
    return (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


class History:
    def __init__(self, db: Database, images_dir: Path) -> None:
        self._db = db
        self._images = images_dir

    @staticmethod
    def _filters(user_id: int, q: str, status: str | None) -> list[ColumnElement[bool]]:
        if status is not None and status not in STATUSES:
            raise InvalidInput("invalid_status", f"status must be one of: {', '.join(STATUSES)}.")
        q = q.strip()
        if len(q) > QUERY_MAX:
            raise InvalidInput("query_too_long", f"The search is over {QUERY_MAX} characters.")
        where: list[ColumnElement[bool]] = [Task.user_id == user_id]
        if status is not None:
            where.append(Task.status == status)
        if q:
            needle = q.lower()
            # autoescape: a user's % or _ is a character to find, not a wildcard.
            cover_matches = exists().where(and_(
                Page.task_id == Task.id, Page.index == 0,
                func.lower(Page.content).contains(needle, autoescape=True),
            ))
            where.append(or_(func.lower(Task.topic).contains(needle, autoescape=True),
                             func.lower(func.coalesce(Task.title, "")).contains(needle, autoescape=True),
                             cover_matches))
        return where

    async def list(self, user_id: int, page: int, page_size: int, q: str = "",
                   status: str | None = None) -> tuple[list[HistoryItem], int]:
        where = self._filters(user_id, q, status)
        async with self._db.read() as s:
            total = await s.scalar(select(func.count()).select_from(Task).where(*where)) or 0
            tasks = (await s.scalars(
                select(Task).where(*where).order_by(Task.created_at.desc(), Task.id)
                .offset((page - 1) * page_size).limit(page_size)
            )).all()
            ids = [t.id for t in tasks]
            pages = (await s.scalars(
                select(Page).where(Page.task_id.in_(ids), (Page.index == 0) | (Page.status == states.PAGE_DONE))
                .order_by(Page.index.desc())
            )).all()
        covers = {p.task_id: p for p in pages if p.status == states.PAGE_DONE}  # lowest index wins
        firsts = {p.task_id: p for p in pages if p.index == 0}
        items = []
        for task in tasks:
            first = firsts.get(task.id)
            match = _COVER_TITLE_RE.search(first.content) if first is not None else None
            items.append(HistoryItem(task, covers.get(task.id), match.group(1).strip() if match else None))
        return items, total

    async def stats(self, user_id: int) -> dict[str, Any]:
        """Posts (generation tasks), pages drawn, and posts started this week (since Monday 00:00 UTC)."""
        mine = and_(Task.user_id == user_id, Task.kind == states.GENERATE)
        async with self._db.read() as s:
            posts = await s.scalar(select(func.count()).select_from(Task).where(mine)) or 0
            drawn = await s.scalar(
                select(func.count()).select_from(Page).join(Task, Task.id == Page.task_id)
                .where(mine, Page.status == states.PAGE_DONE)
            ) or 0
            this_week = await s.scalar(
                select(func.count()).select_from(Task).where(mine, Task.created_at >= week_start(utcnow()))
            ) or 0
        return {"posts": posts, "pages": drawn, "this_week": this_week}

    async def rename(self, user_id: int, task_id: str, title: str | None) -> str | None:
        """Give the post a name of its own; None or blank goes back to the automatic title."""
        cleaned = (title or "").strip() or None
        if cleaned is not None and (len(cleaned) > TITLE_MAX or _CONTROL_RE.search(cleaned)):
            raise InvalidInput("invalid_title", f"A title is 1–{TITLE_MAX} characters on one line.",
                               limit=TITLE_MAX)
        async with self._db.write() as s:
            changed = await s.execute(
                update(Task).where(Task.id == task_id, Task.user_id == user_id)
                .values(title=cleaned, updated_at=utcnow())
            )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise TaskNotFound("No such task.")
        return cleaned
