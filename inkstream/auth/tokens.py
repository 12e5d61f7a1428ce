"""Signed tokens (PyJWT, HS256): short-lived access tokens and stream tickets bound to one task."""

from __future__ import annotations

import math
import time
import uuid

import jwt

from inkstream.errors import TicketInvalid, TokenExpired, TokenInvalid

_ALGORITHM = "HS256"


class TokenService:
    def __init__(self, secret: str, access_ttl: int, ticket_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.ticket_ttl = ticket_ttl

    def _sign(self, claims: dict[str, object], ttl: int) -> str:
        now = time.time()
        # Rounded up: a token always lives at least `ttl` seconds (truncating would cut a 1 s token to ~0).
        payload = {**claims, "iat": int(now), "exp": math.ceil(now + ttl), "jti": uuid.uuid4().hex}
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)

    def _decode(self, token: str, typ: str) -> dict[str, object]:
        claims: dict[str, object] = jwt.decode(
            token, self._secret, algorithms=[_ALGORITHM], options={"require": ["exp", "sub", "typ"]}
        )
        if claims.get("typ") != typ:
            raise jwt.InvalidTokenError("wrong token type")
        return claims

    def issue_access(self, user_id: int) -> str:
        return self._sign({"sub": str(user_id), "typ": "access"}, self.access_ttl)

    def user_from_access(self, token: str) -> int:
        try:
            claims = self._decode(token, "access")
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("The access token has expired; refresh it and try again.") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenInvalid("The access token is not valid; log in again.") from exc
        return int(str(claims["sub"]))

    def issue_ticket(self, user_id: int, task_id: str) -> str:
        return self._sign({"sub": str(user_id), "typ": "stream", "task": task_id}, self.ticket_ttl)

    def user_from_ticket(self, ticket: str, task_id: str) -> int:
        try:
            claims = self._decode(ticket, "stream")
        except jwt.InvalidTokenError as exc:  # expired tickets too: the client simply asks for a new one
            raise TicketInvalid("The stream ticket is expired or not valid; request a new one.") from exc
        if claims.get("task") != task_id:
            raise TicketInvalid("The stream ticket is for another task.")
        return int(str(claims["sub"]))
