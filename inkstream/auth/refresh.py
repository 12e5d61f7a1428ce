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

from inkstream.errors import (
    AccountDisabled,
    InkstreamError,
    RefreshTokenReused,
    SessionRevoked,
    TokenExpired,
    TokenInvalid,
)
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import AuthChange, AuthSession, RefreshToken

# Why a session ended, as stored in auth_sessions.revoked_reason.
REUSE = "token_reuse"
DISABLED = "account_disabled"


def revoked_error(reason: str | None) -> InkstreamError:
    """The error a client gets for a token of a session that ended for `reason`."""
    if reason == DISABLED:
        return AccountDisabled("This account has been disabled by an administrator.")
    if reason == REUSE:
        return RefreshTokenReused("This refresh token was already used; every session of that login is revoked.")
    return SessionRevoked("This session was signed out; log in again.")


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

    async def issue(self, user_id: int, *, ip: str = "", user_agent: str = "") -> tuple[str, str]:
        """A new session for a login: (refresh token, session id)."""
        session_id = uuid.uuid4().hex
        async with self._db.write() as s:
            now = utcnow()
            s.add(AuthSession(id=session_id, user_id=user_id, created_at=now, last_used_at=now, ip=ip[:64],
                              user_agent=user_agent[:256]))
            await s.flush()  # the session row first: refresh_tokens has no foreign key to it, but readers join
            return self._add(s, user_id, session_id), session_id

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

    async def rotate(self, token: str) -> tuple[int, str, str]:
        """Spend `token`; return its user, its session and the next token of the same family."""
        reused_family: str | None = None
        async with self._db.write() as s:
            row = await s.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(token)))
            if row is None:
                raise TokenInvalid("The refresh token is not valid; log in again.")
            session = await s.get(AuthSession, row.family_id)
            if session is not None and session.revoked_at is not None and session.revoked_reason != REUSE:
                raise revoked_error(session.revoked_reason)  # ended on purpose: not a theft, nothing to revoke
            if session is not None:
                session.last_used_at = utcnow()
            if row.used_at is not None or row.revoked_at is not None:
                if (retried := await self._retry(s, row)) is not None:
                    return row.user_id, row.family_id, retried
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
                        return row.user_id, row.family_id, retried
                    reused_family = row.family_id
                else:
                    return row.user_id, row.family_id, self._add(s, row.user_id, row.family_id)
        await self.revoke_family(reused_family, REUSE)
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

    async def revoke_family(self, family_id: str, reason: str) -> int | None:
        """End one session: its refresh tokens die now, its access tokens and streams within seconds (every node
        polls auth_changes). Returns the session's user, None for an unknown session."""
        async with self._db.write() as s:
            return await self._revoke(s, [family_id], reason)

    async def _revoke(self, s, family_ids: list[str], reason: str) -> int | None:  # type: ignore[no-untyped-def]
        now = utcnow()
        await s.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id.in_(family_ids), RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        user_id = None
        for session in (await s.scalars(select(AuthSession).where(AuthSession.id.in_(family_ids)))).all():
            user_id = session.user_id
            if session.revoked_at is None or reason == REUSE:
                session.revoked_at, session.revoked_reason = now, reason
            s.add(AuthChange(user_id=session.user_id, session_id=session.id, reason=reason, created_at=now))
        return user_id

    async def revoke_user(self, user_id: int, reason: str, *, keep: str | None = None) -> int:
        """End every live session of a user but `keep`; returns how many ended. Always announces the change, so
        nodes re-check the user (a disabled account is refused even on a session that had ended already)."""
        async with self._db.write() as s:
            ids = list((await s.scalars(
                select(AuthSession.id).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            )).all())
            ids = [i for i in ids if i != keep]
            if ids:
                await self._revoke(s, ids, reason)
            s.add(AuthChange(user_id=user_id, session_id=None, reason=reason, created_at=utcnow()))
            return len(ids)

    async def announce(self, user_id: int, reason: str) -> None:
        """Tell every node to re-read this user (a role changed) without ending any session."""
        async with self._db.write() as s:
            s.add(AuthChange(user_id=user_id, session_id=None, reason=reason, created_at=utcnow()))

    async def session_of(self, token: str) -> tuple[str, int] | None:
        """(session id, user id) of a refresh token, spent or not."""
        async with self._db.read() as s:
            row = (await s.execute(
                select(RefreshToken.family_id, RefreshToken.user_id).where(RefreshToken.token_hash == _digest(token))
            )).first()
        return (row[0], row[1]) if row else None

    async def revoke(self, token: str, reason: str = "logout") -> tuple[str, int] | None:
        """Logout: end the session of `token`; unknown tokens are ignored (logout is idempotent)."""
        found = await self.session_of(token)
        if found is not None:
            await self.revoke_family(found[0], reason)
        return found

    async def live_sessions(self, user_id: int) -> list[AuthSession]:
        async with self._db.read() as s:
            return list((await s.scalars(
                select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
                .order_by(AuthSession.last_used_at.desc())
            )).all())
