"""The token pair a client holds, and when to refresh it.

The access token is a JWT; its `exp` is read without verifying the signature (only the service can verify it,
and the client needs nothing more than the time). The lifetime is taken as `exp - iat` (less a second: the claims
are whole seconds) and counted from when the pair arrived, so a client clock that is off does not make every token
look expired (or fresh forever).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import asdict, dataclass
from typing import Any


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded but NOT verified; {} when `token` is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def expiry_of(access_token: str, expires_in: float | None = None, now: float | None = None) -> float:
    """When `access_token` stops working, as a local Unix time."""
    now = time.time() if now is None else now
    claims = jwt_claims(access_token)
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, (int, float)) and isinstance(iat, (int, float)) and exp > iat:
        # Whole-second claims: the token may have been issued up to 1 s after `iat`, so it may have up to 1 s
        # less to live than exp - iat. Count the worst case.
        granularity = 1.0 if isinstance(iat, int) else 0.0
        return now + (exp - iat) - granularity
    if expires_in is not None:
        return now + expires_in
    if isinstance(exp, (int, float)):
        return float(exp)
    return now + 60.0  # opaque token, no hint: assume short, refresh early rather than fail


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: float  # local Unix time at which the access token expires

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> Tokens:
        access = str(body["access_token"])
        expires_in = body.get("expires_in")
        return cls(access, str(body["refresh_token"]),
                   expiry_of(access, float(expires_in) if expires_in is not None else None))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tokens:
        access = str(data["access_token"])
        expires_at = data.get("expires_at")
        if not isinstance(expires_at, (int, float)):
            claims = jwt_claims(access)
            expires_at = float(claims.get("exp", 0))
        return cls(access, str(data["refresh_token"]), float(expires_at))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lifetime_left(self, now: float | None = None) -> float:
        return self.expires_at - (time.time() if now is None else now)

    def needs_refresh(self, margin: float | None = None, now: float | None = None) -> bool:
        """True when the access token is expired or will be within `margin` seconds.

        The default margin is a fifth of the token's lifetime, at most 30 s: refresh a 1-hour token 30 s early,
        a 2-second token 0.4 s early — early enough that a request (or a stream reconnect) started now still
        carries a valid token when it reaches the service.
        """
        if margin is None:
            claims = jwt_claims(self.access_token)
            exp, iat = claims.get("exp"), claims.get("iat")
            life = float(exp - iat) if isinstance(exp, (int, float)) and isinstance(iat, (int, float)) else 60.0
            margin = min(30.0, life / 5)
        return self.lifetime_left(now) <= margin
