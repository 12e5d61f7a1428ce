"""Security headers on every response: each documented API route (with and without a token), each UI file, the
docs pages, and the error responses (404, 405, 413, 422, 500)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from http.client import HTTPConnection, HTTPResponse
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from inkstream.api.security_headers import DOCS_CSP, STRICT_CSP
from inkstream.app import WEB_DIR, create_app
from inkstream.config import Settings
from tests.support.client import Account
from tests.support.server import LiveServer

EXPECTED = {
    "content-security-policy": STRICT_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def _assert_headers(response: httpx.Response, csp: str = STRICT_CSP) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    _assert_header_map(response.headers, where, csp)


def _assert_header_map(headers: Mapping[str, str], where: str, csp: str = STRICT_CSP) -> None:
    for name, value in {**EXPECTED, "content-security-policy": csp}.items():
        assert headers.get(name) == value, f"{where}: {name} = {headers.get(name)!r}"
    assert "strict-transport-security" not in headers, f"{where}: HSTS on plain HTTP"


def _declared_too_large(server: LiveServer) -> HTTPResponse:
    """A POST declaring a 1 GB body (httpx will not send a Content-Length it cannot back)."""
    conn = HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/api/generate")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(10**9))
    conn.endheaders()
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _app(tmp_path: Path, **settings: object) -> object:
    return create_app(Settings(_env_file=None, data_dir=tmp_path, **settings))  # type: ignore[call-arg]


def _operations(tmp_path: Path) -> list[tuple[str, str]]:
    """(method, concrete path) for every operation in the OpenAPI document; path parameters get plausible values."""
    schema = _app(tmp_path).openapi()  # type: ignore[attr-defined]
    ops = []
    for path, item in schema["paths"].items():
        concrete = re.sub(r"\{task_id\}", "0" * 32, path)
        concrete = re.sub(r"\{[^}]*index[^}]*\}", "0", concrete)
        concrete = re.sub(r"\{[^}]+\}", "x", concrete)
        ops.extend((method.upper(), concrete) for method in item if method in {"get", "post", "put", "patch",
                                                                               "delete"})
    return ops


def _web_files() -> list[str]:
    return sorted("/" + p.relative_to(WEB_DIR).as_posix() for p in WEB_DIR.rglob("*") if p.is_file())


def test_every_api_route_has_the_headers_with_and_without_a_token(
    http: httpx.Client, account: Account, tmp_path: Path
) -> None:
    ops = _operations(tmp_path)
    assert len(ops) >= 15, ops  # the whole API, not a handful
    statuses = set()
    for method, path in ops:
        for headers in ({}, account.headers):
            r = http.request(method, path, headers=headers, json={} if method in ("POST", "PUT", "PATCH") else None)
            statuses.add(r.status_code)
            _assert_headers(r)
    assert {200, 401, 404, 422} <= statuses  # successes and errors alike were checked


def test_every_ui_file_and_the_docs_have_the_headers(http: httpx.Client) -> None:
    files = _web_files()
    assert "/index.html" in files and "/js/app.js" in files
    for path in ["/", *files]:
        r = http.get(path)
        assert r.status_code == 200, path
        _assert_headers(r)
    _assert_headers(http.get("/openapi.json"))
    for docs in ("/docs", "/redoc"):
        _assert_headers(http.get(docs), csp=DOCS_CSP)


def test_error_responses_have_the_headers(http: httpx.Client, server: LiveServer) -> None:
    cases = [
        http.get("/no-such-file.js"),
        http.get("/api/no-such-route"),
        http.delete("/api/health"),  # 405
        http.post("/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}),
        http.get("/api/generate/stream/not-a-task-id"),
    ]
    assert [r.status_code for r in cases] == [404, 404, 405, 422, 422]
    for r in cases:
        _assert_headers(r)
    too_large = _declared_too_large(server)
    assert too_large.status == 413
    _assert_header_map(httpx.Headers(too_large.getheaders()), "POST /api/generate (1 GB declared)")


def test_an_unhandled_error_500_has_the_headers(tmp_path: Path) -> None:
    app = _app(tmp_path)

    @app.get("/api/boom")  # type: ignore[attr-defined]
    async def boom() -> None:
        raise RuntimeError("boom")

    r = TestClient(app, raise_server_exceptions=False).get("/api/boom")  # type: ignore[arg-type]
    assert (r.status_code, r.json()["code"]) == (500, "internal_error")
    _assert_headers(r)


def test_hsts_only_when_configured_for_https(tmp_path: Path) -> None:
    client = TestClient(_app(tmp_path, https=True, hsts_max_age=600))  # type: ignore[arg-type]
    assert client.get("/api/health").headers["strict-transport-security"] == "max-age=600"
    assert client.get("/").headers["strict-transport-security"] == "max-age=600"


def test_the_ui_has_no_inline_script_or_style() -> None:
    """What the strict CSP would block if someone added it back: inline <script>/<style> and style= attributes."""
    html = (WEB_DIR / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html)
    for js in WEB_DIR.rglob("*.js"):
        text = js.read_text()
        assert not re.search(r"setAttribute\(\s*['\"]style|innerHTML|insertAdjacentHTML|\beval\(|new Function",
                             text), js
