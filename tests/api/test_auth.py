"""Auth endpoints against a live server: success and every failure case."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.support.client import Account, login, new_account, refresh


def _name() -> str:
    return f"u_{uuid.uuid4().hex[:10]}"


def test_register_then_login_and_me(http: httpx.Client) -> None:
    account = new_account(http)
    r = http.get("/api/auth/me", headers=account.headers)
    assert r.status_code == 200
    assert r.json()["username"] == account.username
    assert r.json()["is_admin"] is False


def test_register_duplicate_username_is_409(http: httpx.Client, account: Account) -> None:
    r = http.post("/api/auth/register", json={"username": account.username, "password": "another password"})
    assert r.status_code == 409
    assert r.json()["code"] == "username_taken"


def test_register_rejects_bad_username_and_short_password(http: httpx.Client) -> None:
    r = http.post("/api/auth/register", json={"username": "a/b", "password": "long enough password"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_username")
    r = http.post("/api/auth/register", json={"username": _name(), "password": "short"})
    assert (r.status_code, r.json()["code"]) == (422, "weak_password")


def test_register_with_missing_fields_or_bad_json_is_422(http: httpx.Client) -> None:
    r = http.post("/api/auth/register", json={"username": _name()})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    assert "password" in r.json()["message"]
    r = http.post("/api/auth/register", content=b"{not json", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_login_with_wrong_password_or_unknown_user_is_401(http: httpx.Client, account: Account) -> None:
    r = http.post("/api/auth/login", json={"username": account.username, "password": "wrong password"})
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")
    assert "WWW-Authenticate" in r.headers
    r = http.post("/api/auth/login", json={"username": _name(), "password": "whatever password"})
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")


def test_login_is_rate_limited_per_username(http: httpx.Client, account: Account) -> None:
    for _ in range(10):  # the default limit: 10 failures per 5 minutes
        r = http.post("/api/auth/login", json={"username": account.username, "password": "wrong password"})
        assert r.status_code == 401
    r = http.post("/api/auth/login", json={"username": account.username, "password": account.password})
    assert (r.status_code, r.json()["code"]) == (429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0


def test_me_without_token_is_401_token_missing(http: httpx.Client) -> None:
    r = http.get("/api/auth/me")
    assert (r.status_code, r.json()["code"]) == (401, "token_missing")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_me_with_garbage_token_is_401_token_invalid(http: httpx.Client) -> None:
    r = http.get("/api/auth/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert (r.status_code, r.json()["code"]) == (401, "token_invalid")


def test_default_access_token_lives_fifteen_minutes(http: httpx.Client) -> None:
    """The module's server runs with the default TTL: a login gets 900 s, in the body and in the JWT itself."""
    import jwt

    account = new_account(http)
    r = http.post("/api/auth/login", json={"username": account.username, "password": account.password})
    assert r.json()["expires_in"] == 900
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] in (900, 901)  # exp is rounded up, never down


def test_access_token_expires(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(access_token_ttl=2).start()
    with httpx.Client(base_url=live.url) as http:
        account = new_account(http)
        assert http.get("/api/auth/me", headers=account.headers).status_code == 200
        time.sleep(3.1)
        r = http.get("/api/auth/me", headers=account.headers)
        assert (r.status_code, r.json()["code"]) == (401, "token_expired")
        assert "token_expired" in r.headers["WWW-Authenticate"]
        refresh(http, account)
        assert http.get("/api/auth/me", headers=account.headers).status_code == 200


def test_refresh_rotates_and_reuse_revokes_the_family(http: httpx.Client, account: Account) -> None:
    first = account.refresh_token
    refresh(http, account)
    second = account.refresh_token
    assert second != first
    refresh(http, account)
    third = account.refresh_token
    # The spent token comes back after its successor was used: someone copied it. The whole family dies.
    r = http.post("/api/auth/refresh", json={"refresh_token": first})
    assert (r.status_code, r.json()["code"]) == (401, "refresh_token_reused")
    r = http.post("/api/auth/refresh", json={"refresh_token": third})
    assert (r.status_code, r.json()["code"]) == (401, "refresh_token_reused")
    # Another login (another family) still works.
    login(http, account)
    refresh(http, account)


def test_refresh_retried_after_a_lost_response_keeps_the_login(http: httpx.Client, account: Account) -> None:
    first = account.refresh_token
    lost = http.post("/api/auth/refresh", json={"refresh_token": first})
    assert lost.status_code == 200  # ... but say the client never saw this answer
    for _ in range(2):  # a retry of the same spent token, twice
        retry = http.post("/api/auth/refresh", json={"refresh_token": first})
        assert retry.status_code == 200, retry.text
    newest = retry.json()["refresh_token"]
    # Only the newest successor lives: the lost one was revoked (presenting it now is reuse).
    r = http.post("/api/auth/refresh", json={"refresh_token": lost.json()["refresh_token"]})
    assert (r.status_code, r.json()["code"]) == (401, "refresh_token_reused")
    r = http.post("/api/auth/refresh", json={"refresh_token": newest})
    assert (r.status_code, r.json()["code"]) == (401, "refresh_token_reused")


def test_refresh_retry_grace_can_be_turned_off(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(refresh_retry_grace=0).start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        first = account.refresh_token
        assert http.post("/api/auth/refresh", json={"refresh_token": first}).status_code == 200
        r = http.post("/api/auth/refresh", json={"refresh_token": first})
        assert (r.status_code, r.json()["code"]) == (401, "refresh_token_reused")


def test_refresh_with_unknown_token_is_401(http: httpx.Client) -> None:
    r = http.post("/api/auth/refresh", json={"refresh_token": "made-up"})
    assert (r.status_code, r.json()["code"]) == (401, "token_invalid")
    r = http.post("/api/auth/refresh", json={})  # no token in the body and no cookie (tests/api/test_refresh_cookie.py)
    assert (r.status_code, r.json()["code"]) == (401, "token_missing")
    r = http.post("/api/auth/refresh", json={"refresh_token": ""})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_logout_revokes_the_refresh_token(http: httpx.Client, account: Account) -> None:
    assert http.post("/api/auth/logout", json={"refresh_token": account.refresh_token}).status_code == 204
    r = http.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert r.status_code == 401
    # Logging out twice, or with an unknown token, is harmless.
    assert http.post("/api/auth/logout", json={"refresh_token": account.refresh_token}).status_code == 204
    assert http.post("/api/auth/logout", json={"refresh_token": "unknown"}).status_code == 204


def test_unknown_route_and_wrong_method_are_json(http: httpx.Client) -> None:
    r = http.get("/api/nope")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = http.get("/api/auth/login")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")
