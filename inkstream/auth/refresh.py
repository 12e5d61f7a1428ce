"""Opaque refresh tokens, stored as SHA-256 hashes, rotated on every use.

A token presented twice means it was copied: the whole family (every token descended from that login) is
revoked, so a thief and the victim are both logged out and the thief's copy is worthless. One exception keeps a
flaky network from logging people out: a spent token presented again within a short grace, while the token it was
exchanged for has never been used, is a client retrying a refresh whose response it lost. That unused successor
is revoked and a new one issued, so at most one live token per family exists either way.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from inkstream.errors import RefreshTokenReused, TokenExpired, TokenInvalid
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import RefreshToken


def _digest(token: str) -> str:
    # Lookup by a digest of a 256-bit random token: nothing secret is compared byte by byte in Python.
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands datetimes back naive


class RefreshTokens:
    def __init__(self, db: Database, ttl_seconds: int, retry_grace_seconds: int = 0) -> None:
        self._db = db
        self._ttl = timedelta(seconds=ttl_seconds)
        self._grace = timedelta(seconds=retry_grace_seconds)

    async def issue(self, user_id: int, family_id: str | None = None) -> str:
        async with self._db.write() as s:
            return self._add(s, user_id, family_id or uuid.uuid4().hex)

    def _add(self, s, user_id: int, family_id: str) -> str:  # type: ignore[no-untyped-def]
        token = secrets.token_urlsafe(32)
        now = utcnow()
        s.add(
            RefreshToken(
                user_id=user_id, family_id=family_id, token_hash=_digest(token), created_at=now,
                expires_at=now + self._ttl,
            )
        )
        return token

    async def rotate(self, token: str) -> tuple[int, str]:
        """Spend `token`; return its user and the next token of the same family."""
        reused_family: str | None = None
        async with self._db.write() as s:
            row = await s.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(token)))
            if row is None:
                raise TokenInvalid("The refresh token is not valid; log in again.")
            if row.used_at is not None or row.revoked_at is not None:
                if (retried := await self._retry(s, row)) is not None:
                    return row.user_id, retried
                reused_family = row.family_id
            elif _aware(row.expires_at) <= utcnow():
                raise TokenExpired("The refresh token has expired; log in again.")
            else:
                # Conditional update: of two concurrent rotations of one token only one can win.
                spent = await s.execute(
                    update(RefreshToken)
                    .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
                    .values(used_at=utcnow())
                )
                if spent.rowcount != 1:  # type: ignore[attr-defined]
                    await s.refresh(row)  # a concurrent rotation won; it may have been this client's own retry
                    if (retried := await self._retry(s, row)) is not None:
                        return row.user_id, retried
                    reused_family = row.family_id
                else:
                    return row.user_id, self._add(s, row.user_id, row.family_id)
        await self.revoke_family(reused_family)
        raise RefreshTokenReused("This refresh token was already used; every session of that login is revoked.")

    async def _retry(self, s, row: RefreshToken) -> str | None:  # type: ignore[no-untyped-def]
        """A new successor if `row` was spent moments ago and what it was exchanged for is still unused."""
        if row.revoked_at is not None or row.used_at is None or utcnow() - _aware(row.used_at) > self._grace:
            return None
        later = (
            await s.scalars(
                select(RefreshToken).where(RefreshToken.family_id == row.family_id, RefreshToken.id > row.id)
            )
        ).all()
        # Every later token unused (earlier retries left revoked, never-used ones) and exactly one still live.
        live = [t for t in later if t.revoked_at is None]
        if any(t.used_at is not None for t in later) or len(live) != 1:
            return None
        unused = await s.execute(
            update(RefreshToken)
            .where(RefreshToken.id == live[0].id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if unused.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return self._add(s, row.user_id, row.family_id)

    async def revoke_family(self, family_id: str) -> None:
        async with self._db.write() as s:
            await s.execute(
                update(RefreshToken)
                .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    async def revoke(self, token: str) -> None:
        """Logout: revoke the family of `token`; unknown tokens are ignored (logout is idempotent)."""
        async with self._db.read() as s:
            family = await s.scalar(select(RefreshToken.family_id).where(RefreshToken.token_hash == _digest(token)))
        if family is not None:
            await self.revoke_family(family)
