"""Tokens: expiry read from the JWT, refreshed before it runs out and once more on 401 token_expired."""

from __future__ import annotations

import asyncio
import time

import httpx
import jwt
import pytest

from inkstream.client import AsyncInkstream, AuthError, Tokens
from inkstream.client.tokens import expiry_of, jwt_claims
from tests.client.conftest import PASSWORD, new_user
from tests.support.server import LiveServer


def statuses(client: AsyncInkstream) -> list[tuple[str, int]]:
    """Record (path, status) of every response the client gets."""
    seen: list[tuple[str, int]] = []

    async def record(response: httpx.Response) -> None:
        seen.append((response.request.url.path, response.status_code))

    client.session.http.event_hooks["response"].append(record)
    return seen


async def expired(client: AsyncInkstream, within: float = 5.0) -> None:
    """Wait until the service refuses the client's access token as expired."""
    assert client.tokens is not None
    headers = {"Authorization": f"Bearer {client.tokens.access_token}"}
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=client.base_url) as http:
        while (await http.get("/api/auth/me", headers=headers)).status_code != 401:
            assert time.monotonic() < deadline, "the access token did not expire"
            await asyncio.sleep(0.1)


def test_expiry_is_read_from_the_jwt_without_its_key() -> None:
    key = "a key the client never sees, 32+ bytes long"
    token = jwt.encode({"sub": "1", "iat": 1000, "exp": 1060}, key, algorithm="HS256")
    assert jwt_claims(token)["exp"] == 1060
    # The lifetime (exp - iat, less 1 s for whole-second claims) counts from arrival: client clock skew is harmless.
    assert expiry_of(token, now=5000.0) == 5059.0
    assert jwt_claims("not-a-jwt") == {} and jwt_claims("a.b.c") == {}
    tokens = Tokens(token, "r", expires_at=5059.0)
    assert not tokens.needs_refresh(now=5046.0)  # margin: a fifth of the 60 s lifetime
    assert tokens.needs_refresh(now=5048.0)
    assert Tokens.from_dict(tokens.to_dict()) == tokens


async def test_access_token_is_refreshed_before_it_expires(ink: AsyncInkstream) -> None:
    seen = statuses(ink)
    assert ink.tokens is not None
    first = ink.tokens
    assert 0.5 < first.lifetime_left() <= 2.0  # the server's 2 s tokens (less up to 1 s for whole-second claims)
    first.expires_at = time.time() + 0.1  # about to expire: the next call refreshes first
    assert (await ink.me()).username.startswith("sdk_")
    assert [s for _, s in seen] == [200, 200] and seen[0][0] == "/api/auth/refresh"
    assert ink.tokens is not first and ink.session.refreshes == 1


async def test_401_token_expired_refreshes_once_and_retries(ink: AsyncInkstream) -> None:
    assert ink.tokens is not None
    await expired(ink)  # the access token really expired…
    ink.tokens.expires_at = time.time() + 3600  # …while the client believes it is fresh (a skewed clock)
    seen = statuses(ink)
    await ink.me()
    assert seen == [("/api/auth/me", 401), ("/api/auth/refresh", 200), ("/api/auth/me", 200)]


async def test_concurrent_calls_share_one_refresh(ink: AsyncInkstream) -> None:
    assert ink.tokens is not None
    ink.tokens.expires_at = time.time()
    users = await asyncio.gather(*(ink.me() for _ in range(8)))
    assert len({u.id for u in users}) == 1
    assert ink.session.refreshes == 1  # rotating twice would spend one refresh token twice


async def test_every_new_pair_is_handed_to_on_tokens(live: LiveServer) -> None:
    pairs: list[Tokens | None] = []
    client = await new_user(live.url, on_tokens=pairs.append)
    async with client:
        await client.refresh()
        await client.logout()
    assert len(pairs) == 3 and pairs[-1] is None
    assert pairs[0] != pairs[1]


async def test_reused_refresh_token_revokes_the_session(ink: AsyncInkstream, live: LiveServer) -> None:
    assert ink.tokens is not None
    stolen = Tokens(**ink.tokens.to_dict())
    # The victim refreshes twice, so the stolen token's successor has been used too: the thief's copy cannot pass
    # for a client retrying a refresh whose answer it lost (the server's retry grace; tests/api/test_auth.py).
    await ink.refresh()
    await ink.refresh()
    async with AsyncInkstream(live.url, tokens=stolen) as thief:
        with pytest.raises(AuthError) as caught:
            await thief.refresh()
    assert (caught.value.status, caught.value.code) == (401, "refresh_token_reused")
    with pytest.raises(AuthError):  # the whole family is revoked: the victim must log in again too
        await ink.refresh()


async def test_logout_revokes_the_refresh_token(ink: AsyncInkstream, live: LiveServer) -> None:
    assert ink.tokens is not None
    kept = Tokens(**ink.tokens.to_dict())
    await ink.logout()
    assert ink.tokens is None
    with pytest.raises(AuthError) as caught:
        await ink.me()
    assert caught.value.code == "not_logged_in"
    async with AsyncInkstream(live.url, tokens=kept) as again:
        with pytest.raises(AuthError):
            await again.refresh()


async def test_wrong_password_is_an_auth_error(live: LiveServer) -> None:
    async with AsyncInkstream(live.url) as client:
        with pytest.raises(AuthError) as caught:
            await client.login("nobody_here", PASSWORD)
    assert (caught.value.status, caught.value.code) == (401, "invalid_credentials")
