"""The web UI's refresh token in an HttpOnly cookie: set by a cookie login, rotated by refresh, cleared by logout,
usable only from our own origin — and never in a response body. Body tokens (SDK, CLI) are unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie

import httpx
import pytest

from tests.support.client import Account, new_account
from tests.support.server import LiveServer

COOKIE = "inkstream_refresh"


@pytest.fixture
def browser_like(server: LiveServer) -> Iterator[httpx.Client]:
    """A client that keeps cookies and sends the Origin a page of the service would send."""
    with _holding(server) as client:
        yield client


def _set_cookie(response: httpx.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


def _holding(server: LiveServer, token: str | None = None, origin: str | None = "") -> httpx.Client:
    """A client that presents `token` as the refresh cookie, from `origin` (default: the service's own; None: no
    Origin header at all)."""
    origin = server.url if origin == "" else origin
    client = httpx.Client(base_url=server.url, headers={"Origin": origin} if origin else {}, timeout=30)
    if token is not None:
        client.cookies.set(COOKIE, token, path="/api/auth")
    return client


def _cookie_login(client: httpx.Client, account: Account) -> httpx.Response:
    r = client.post("/api/auth/login", json={"username": account.username, "password": account.password,
                                             "cookie": True})
    assert r.status_code == 200, r.text
    return r


def test_cookie_login_sets_an_httponly_strict_cookie_scoped_to_auth(
    browser_like: httpx.Client, account: Account
) -> None:
    r = _cookie_login(browser_like, account)
    body = r.json()
    assert body["refresh_token"] is None and body["access_token"]
    morsel = _set_cookie(r)[COOKIE]
    assert morsel.value and morsel["httponly"] is True and morsel["samesite"] == "strict"
    assert morsel["path"] == "/api/auth" and not morsel["secure"]  # plain-HTTP dev server
    assert int(morsel["max-age"]) == 30 * 24 * 3600
    me = browser_like.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200


def test_refresh_from_the_cookie_rotates_it_and_the_spent_one_is_refused(
    browser_like: httpx.Client, account: Account, server: LiveServer
) -> None:
    _cookie_login(browser_like, account)
    first = browser_like.cookies[COOKIE]
    r = browser_like.post("/api/auth/refresh")
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"] is None and r.json()["access_token"]
    second = browser_like.cookies[COOKIE]
    assert second != first
    r = browser_like.post("/api/auth/refresh", json={})  # an empty body reads the cookie too
    assert r.status_code == 200
    third = browser_like.cookies[COOKIE]
    with _holding(server, first) as thief:
        r = thief.post("/api/auth/refresh")
    assert (r.status_code, r.json()["code"]) in {(401, "refresh_token_reused"), (401, "session_revoked")}
    browser_like.cookies.set(COOKIE, third, path="/api/auth")
    assert browser_like.post("/api/auth/refresh").status_code == 401  # the reuse ended the whole login


@pytest.mark.parametrize("origin", [None, "https://evil.example", "http://127.0.0.1:1"])
def test_the_cookie_is_refused_from_any_other_origin(
    server: LiveServer, account: Account, origin: str | None
) -> None:
    with _holding(server) as page:
        _cookie_login(page, account)
        token = page.cookies[COOKIE]
    with _holding(server, token, origin) as other:
        for path in ("/api/auth/refresh", "/api/auth/logout"):
            r = other.post(path)
            assert (r.status_code, r.json()["code"]) == (403, "origin_rejected"), (path, r.text)
        r = other.post("/api/auth/login", json={"username": account.username, "password": account.password,
                                                "cookie": True})
        assert (r.status_code, r.json()["code"]) == (403, "origin_rejected")
    with _holding(server, token) as page:  # the session is intact
        assert page.post("/api/auth/refresh").status_code == 200


def test_refresh_without_body_or_cookie_is_401_token_missing(browser_like: httpx.Client) -> None:
    r = browser_like.post("/api/auth/refresh")
    assert (r.status_code, r.json()["code"]) == (401, "token_missing")


def test_logout_through_the_cookie_ends_the_session_and_clears_it(
    browser_like: httpx.Client, account: Account, server: LiveServer
) -> None:
    _cookie_login(browser_like, account)
    token = browser_like.cookies[COOKIE]
    r = browser_like.post("/api/auth/logout")
    assert r.status_code == 204
    morsel = _set_cookie(r)[COOKIE]
    assert morsel.value == "" and int(morsel["max-age"]) == 0 and morsel["path"] == "/api/auth"
    assert COOKIE not in browser_like.cookies
    with _holding(server, token) as page:
        r = page.post("/api/auth/refresh")
    assert (r.status_code, r.json()["code"]) == (401, "session_revoked")


def test_body_tokens_are_unchanged_for_the_sdk(http: httpx.Client) -> None:
    account = new_account(http)
    r = http.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert r.status_code == 200 and r.json()["refresh_token"] and "set-cookie" not in r.headers


def test_cookie_is_secure_over_https_and_a_trusted_origin_may_use_it(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server(https="true", trusted_origins='["https://ink.example.com"]').start()
    with httpx.Client(base_url=server.url, headers={"Origin": "https://ink.example.com"}) as page:
        account = new_account(page)
        r = _cookie_login(page, account)
        assert _set_cookie(r)[COOKIE]["secure"] is True
        token = _set_cookie(r)[COOKIE].value
        page.cookies.set(COOKIE, token, path="/api/auth")  # httpx keeps Secure cookies off plain HTTP
        assert page.post("/api/auth/refresh").status_code == 200
