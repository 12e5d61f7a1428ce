"""Numbered versions of a runtime setting kept in the database: the newest is in effect, every one is kept."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from inkstream.errors import Conflict
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import ConfigVersion


class VersionStore:
    def __init__(self, db: Database, kind: str) -> None:
        self._db = db
        self.kind = kind

    async def latest(self) -> ConfigVersion | None:
        async with self._db.read() as s:
            return await s.scalar(
                select(ConfigVersion).where(ConfigVersion.kind == self.kind)
                .order_by(ConfigVersion.version.desc()).limit(1)
            )

    async def latest_number(self) -> int:
        async with self._db.read() as s:
            value = await s.scalar(select(func.max(ConfigVersion.version)).where(ConfigVersion.kind == self.kind))
        return int(value or 0)

    async def get(self, version: int) -> ConfigVersion | None:
        async with self._db.read() as s:
            return await s.get(ConfigVersion, (self.kind, version))

    async def save(self, data: dict[str, Any], created_by: str, comment: str = "") -> ConfigVersion:
        """Append the next version. Two admins saving at once: one wins, the other gets a 409 to reload."""
        try:
            async with self._db.write() as s:
                current = await s.scalar(
                    select(func.max(ConfigVersion.version)).where(ConfigVersion.kind == self.kind)
                )
                row = ConfigVersion(kind=self.kind, version=int(current or 0) + 1, data=data, comment=comment[:200],
                                    created_by=created_by[:64], created_at=utcnow())
                s.add(row)
            return row
        except IntegrityError as exc:
            raise Conflict("version_conflict", "Someone saved a newer version meanwhile; reload and try again.") \
                from exc

    async def history(self, offset: int, limit: int) -> tuple[list[ConfigVersion], int]:
        async with self._db.read() as s:
            total = await s.scalar(select(func.count()).select_from(ConfigVersion)
                                   .where(ConfigVersion.kind == self.kind)) or 0
            rows = (await s.scalars(
                select(ConfigVersion).where(ConfigVersion.kind == self.kind)
                .order_by(ConfigVersion.version.desc()).offset(offset).limit(limit)
            )).all()
        return list(rows), int(total)
