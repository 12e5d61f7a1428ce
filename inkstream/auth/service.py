"""Accounts and sessions: registration, login, token refresh, logout (one session or all), password changes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inkstream.auth.audit_sink import Actor, AuditSink, NoAudit, Origin
from inkstream.auth.passwords import hash_password, verify_password
from inkstream.auth.rate_limit import FailureCounter
from inkstream.auth.refresh import DISABLED, RefreshTokens
from inkstream.auth.revocation import Principal
from inkstream.auth.tokens import TokenService
from inkstream.errors import (
    AccountDisabled,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    RefreshTokenReused,
    UsernameTaken,
    WrongPassword,
)
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import ROLES, User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{3,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256

BeforeInsert = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    role: str = "user"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def check_new_account(username: str, password: str, role: str) -> None:
    if not USERNAME_RE.match(username):
        raise InvalidInput(
            "invalid_username", "Usernames are 3–32 letters, digits, Chinese characters, '_', '.' or '-'."
        )
    check_password(password)
    if role not in ROLES:
        raise InvalidInput("invalid_role", f"The role must be one of {', '.join(ROLES)}.")


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput("weak_password", f"Passwords are {MIN_PASSWORD}–{MAX_PASSWORD} characters long.")


class AuthService:
    def __init__(
        self, db: Database, tokens: TokenService, refresh: RefreshTokens, per_user: FailureCounter,
        per_ip: FailureCounter, audit: AuditSink | None = None,
    ) -> None:
        self._db = db
        self.tokens = tokens
        self.sessions = refresh
        self._per_user = per_user
        self._per_ip = per_ip
        self._audit: AuditSink = audit or NoAudit()

    async def register(
        self, username: str, password: str, *, role: str = "user", is_admin: bool = False,
        before_insert: BeforeInsert | None = None,
    ) -> UserInfo:
        """Create an account; `before_insert` runs in the same transaction (an invite is spent only if the account
        is created, and the other way round)."""
        role = "admin" if is_admin else role
        check_new_account(username, password, role)
        user = User(username=username, password_hash=hash_password(password), created_at=utcnow(), is_active=True)
        user.set_role(role)
        try:
            async with self._db.write() as s:
                if before_insert is not None:
                    await before_insert(s)
                s.add(user)
                await s.flush()
        except IntegrityError as exc:
            raise UsernameTaken(f"The username {username!r} is taken.") from exc
        return UserInfo(user.id, user.username, user.role)

    async def login(self, username: str, password: str, origin: Origin) -> TokenPair:
        user_key = username.lower()
        await self._per_user.check(user_key)
        await self._per_ip.check(origin.ip)
        async with self._db.read() as s:
            user = await s.scalar(select(User).where(User.username == username))
        if not verify_password(user.password_hash if user else None, password) or user is None:
            await self._per_user.record_failure(user_key)
            await self._per_ip.record_failure(origin.ip)
            await self._audit.record("login.failed", actor=Actor(user.id if user else None, username[:64]),
                                     target_type="user", target_id=str(user.id) if user else "", origin=origin,
                                     severity="warning", detail={"reason": "invalid_credentials"})
            raise InvalidCredentials("Wrong username or password.")
        if not user.is_active:
            await self._audit.record("login.failed", actor=Actor(user.id, user.username), target_type="user",
                                     target_id=str(user.id), origin=origin, severity="warning",
                                     detail={"reason": DISABLED})
            raise AccountDisabled("This account has been disabled by an administrator.")
        await self._per_user.reset(user_key)
        refresh, session_id = await self.sessions.issue(user.id, ip=origin.ip, user_agent=origin.user_agent)
        async with self._db.write() as s:
            db_user = await s.get(User, user.id)
            if db_user is not None:
                db_user.last_login_at = utcnow()
        await self._audit.record("login.ok", actor=Actor(user.id, user.username), target_type="session",
                                 target_id=session_id, origin=origin)
        return TokenPair(self.tokens.issue_access(user.id, session_id), refresh, self.tokens.access_ttl)

    async def refresh(self, refresh_token: str, origin: Origin | None = None) -> TokenPair:
        try:
            user_id, session_id, new_refresh = await self.sessions.rotate(refresh_token)
        except RefreshTokenReused:
            found = await self.sessions.session_of(refresh_token)
            await self._audit.record(
                "token.reuse_detected", actor=Actor(found[1] if found else None, ""), target_type="session",
                target_id=found[0] if found else "", origin=origin, severity="alert",
                detail={"message": "A spent refresh token was presented again: the session was revoked."})
            raise
        return TokenPair(self.tokens.issue_access(user_id, session_id), new_refresh, self.tokens.access_ttl)

    async def logout(self, refresh_token: str, origin: Origin | None = None) -> None:
        found = await self.sessions.revoke(refresh_token, "logout")
        if found is not None:
            await self._audit.record("logout", actor=Actor(found[1], ""), target_type="session",
                                     target_id=found[0], origin=origin)

    async def logout_all(self, who: Principal, origin: Origin) -> None:
        ended = await self.sessions.revoke_user(who.id, "logout_all")
        await self._audit.record("logout_all", actor=Actor(who.id, who.username), target_type="user",
                                 target_id=str(who.id), origin=origin, detail={"sessions": ended})

    async def revoke_session(self, who: Principal, session_id: str, origin: Origin) -> None:
        if not any(s.id == session_id for s in await self.sessions.live_sessions(who.id)):
            raise NotFound("session_not_found", "No such session.")
        await self.sessions.revoke_family(session_id, "revoked")
        await self._audit.record("session.revoke", actor=Actor(who.id, who.username), target_type="session",
                                 target_id=session_id, origin=origin)

    async def change_password(self, who: Principal, current: str, new: str, origin: Origin) -> None:
        check_password(new)
        async with self._db.read() as s:
            user = await s.get(User, who.id)
        if user is None or not verify_password(user.password_hash, current):
            await self._audit.record("password.change", actor=Actor(who.id, who.username), target_type="user",
                                     target_id=str(who.id), origin=origin, severity="warning",
                                     detail={"ok": False})
            raise WrongPassword("The current password is wrong.")
        async with self._db.write() as s:
            db_user = await s.get(User, who.id)
            if db_user is not None:
                db_user.password_hash = hash_password(new)
        ended = await self.sessions.revoke_user(who.id, "password_changed", keep=who.session_id)
        await self._audit.record("password.change", actor=Actor(who.id, who.username), target_type="user",
                                 target_id=str(who.id), origin=origin, detail={"ok": True, "sessions_ended": ended})

    async def user(self, user_id: int) -> UserInfo:
        async with self._db.read() as s:
            user = await s.get(User, user_id)
        if user is None:
            raise NotFound("user_not_found", "No such user.")
        return UserInfo(user.id, user.username, user.role)
