"""Signed tokens (PyJWT, HS256): short-lived access tokens and stream tickets bound to one task."""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from dataclasses import dataclass

import jwt

from inkstream.errors import TicketInvalid, TokenExpired, TokenInvalid

_ALGORITHM = "HS256"
# Tokens verified once are remembered until they expire: PyJWT re-validates the HMAC key on every decode (it tries
# to parse the secret as a JWK, a fresh JSON decoder each time), which with the signature check was about a tenth of
# a stream open's CPU (bench/results/profiles/connect-*.txt). Keyed by the token's SHA-256, never the token itself.
_VERIFIED_KEPT = 20_000


@dataclass(frozen=True)
class Bearer:
    """Who an access token or stream ticket speaks for: the user and the login session (None for tokens issued
    before sessions existed)."""

    user_id: int
    session_id: str | None


class TokenService:
    def __init__(self, secret: str, access_ttl: int, ticket_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.ticket_ttl = ticket_ttl
        self._verified: dict[bytes, dict[str, object]] = {}

    def _sign(self, claims: dict[str, object], ttl: int) -> str:
        now = time.time()
        # Rounded up: a token always lives at least `ttl` seconds (truncating would cut a 1 s token to ~0).
        payload = {**claims, "iat": int(now), "exp": math.ceil(now + ttl), "jti": uuid.uuid4().hex}
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)

    def _decode(self, token: str, typ: str) -> dict[str, object]:
        key = hashlib.sha256(token.encode()).digest()
        claims = self._verified.get(key)
        # PyJWT's own test: expired once `exp <= now` (no leeway); an expired one goes through PyJWT to say so.
        if claims is None or claims["exp"] <= time.time():  # type: ignore[operator]
            self._verified.pop(key, None)
            claims = jwt.decode(token, self._secret, algorithms=[_ALGORITHM],
                                options={"require": ["exp", "sub", "typ"]})
            if len(self._verified) >= _VERIFIED_KEPT:
                del self._verified[next(iter(self._verified))]  # the oldest
            self._verified[key] = claims
        if claims.get("typ") != typ:
            raise jwt.InvalidTokenError("wrong token type")
        return claims

    def issue_access(self, user_id: int, session_id: str | None = None) -> str:
        claims: dict[str, object] = {"sub": str(user_id), "typ": "access"}
        if session_id:
            claims["sid"] = session_id
        return self._sign(claims, self.access_ttl)

    @staticmethod
    def _bearer(claims: dict[str, object]) -> Bearer:
        sid = claims.get("sid")
        return Bearer(int(str(claims["sub"])), sid if isinstance(sid, str) else None)

    def bearer_of_access(self, token: str) -> Bearer:
        try:
            claims = self._decode(token, "access")
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("The access token has expired; refresh it and try again.") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid("The access token is not valid; log in again.") from exc
        return self._bearer(claims)

    def user_from_access(self, token: str) -> int:
        return self.bearer_of_access(token).user_id

    def issue_ticket(self, user_id: int, task_id: str, session_id: str | None = None) -> str:
        claims: dict[str, object] = {"sub": str(user_id), "typ": "stream", "task": task_id}
        if session_id:
            claims["sid"] = session_id
        return self._sign(claims, self.ticket_ttl)

    def bearer_of_ticket(self, ticket: str, task_id: str) -> Bearer:
        try:
            claims = self._decode(ticket, "stream")
        except jwt.InvalidTokenError as exc:  # expired tickets too: the client simply asks for a new one
            raise TicketInvalid("The stream ticket is expired or not valid; request a new one.") from exc
        if claims.get("task") != task_id:
            raise TicketInvalid("The stream ticket is for another task.")
        return self._bearer(claims)
