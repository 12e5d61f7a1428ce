"""Registration, login, token refresh and logout."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from inkstream.auth.passwords import hash_password, verify_password
from inkstream.auth.rate_limit import FailureCounter
from inkstream.auth.refresh import RefreshTokens
from inkstream.auth.tokens import TokenService
from inkstream.errors import InvalidCredentials, InvalidInput, TokenInvalid, UsernameTaken
from inkstream.storage.database import Database
from inkstream.storage.db import utcnow
from inkstream.storage.tables import User

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-\u4e00-\u9fff]{3,32}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256


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
    is_admin: bool


class AuthService:
    def __init__(
        self, db: Database, tokens: TokenService, refresh: RefreshTokens, per_user: FailureCounter,
        per_ip: FailureCounter,
    ) -> None:
        self._db = db
        self.tokens = tokens
        self._refresh = refresh
        self._per_user = per_user
        self._per_ip = per_ip

    async def register(self, username: str, password: str, *, is_admin: bool = False) -> UserInfo:
        if not USERNAME_RE.match(username):
            raise InvalidInput(
                "invalid_username", "Usernames are 3–32 letters, digits, Chinese characters, '_', '.' or '-'."
            )
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidInput("weak_password", f"Passwords are {MIN_PASSWORD}–{MAX_PASSWORD} characters long.")
        user = User(username=username, password_hash=hash_password(password), is_admin=is_admin, created_at=utcnow())
        try:
            async with self._db.write() as s:
                s.add(user)
        except IntegrityError as exc:
            raise UsernameTaken(f"The username {username!r} is taken.") from exc
        return UserInfo(user.id, user.username, user.is_admin)

    async def login(self, username: str, password: str, client_ip: str) -> TokenPair:
        user_key = username.lower()
        await self._per_user.check(user_key)
        await self._per_ip.check(client_ip)
        async with self._db.read() as s:
            user = await s.scalar(select(User).where(User.username == username))
        if not verify_password(user.password_hash if user else None, password) or user is None:
            await self._per_user.record_failure(user_key)
            await self._per_ip.record_failure(client_ip)
            raise InvalidCredentials("Wrong username or password.")
        await self._per_user.reset(user_key)
        refresh = await self._refresh.issue(user.id)
        return TokenPair(self.tokens.issue_access(user.id), refresh, self.tokens.access_ttl)

    async def refresh(self, refresh_token: str) -> TokenPair:
        user_id, new_refresh = await self._refresh.rotate(refresh_token)
        return TokenPair(self.tokens.issue_access(user_id), new_refresh, self.tokens.access_ttl)

    async def logout(self, refresh_token: str) -> None:
        await self._refresh.revoke(refresh_token)

    async def user(self, user_id: int) -> UserInfo:
        async with self._db.read() as s:
            user = await s.get(User, user_id)
        if user is None:  # deleted since the token was issued
            raise TokenInvalid("The account of this token no longer exists.")
        return UserInfo(user.id, user.username, user.is_admin)
