"""Security headers on every response of the UI and the API: a strict Content-Security-Policy, nosniff,
no Referer (stream tickets and signed image URLs live in URLs), no framing, and HSTS when served over HTTPS.

Installed around the whole middleware stack (pure ASGI, so SSE streams pass through untouched), so that even the
500 that Starlette's outermost error middleware writes carries them.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inkstream.config import Settings

# No inline script or style anywhere: the UI is ES modules and one stylesheet; images are our PNGs, plus data:/blob:
# URLs for reference-image previews and downloads.
STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
              "connect-src 'self'; font-src 'self'; object-src 'none'; worker-src 'self'; "
              "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from jsDelivr and start them with an inline script;
# only those two HTML pages get this looser policy (they take no input that could inject markup).
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
            "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers every response gets (besides the CSP, which depends on the path)."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate CSP 2
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if settings.https:
        # Only when the browser reaches us over HTTPS: on plain-HTTP dev it would pin localhost to HTTPS.
        headers.append((b"strict-transport-security", f"max-age={settings.hsts_max_age}".encode()))
    return headers


class SecurityHeaders:
    """Adds the headers to each HTTP response start; a header the app already set is left as it is."""

    def __init__(self, app: ASGIApp, settings: Settings, docs_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.headers = security_headers(settings)
        self.docs_paths = docs_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = (DOCS_CSP if scope.get("path") in self.docs_paths else STRICT_CSP).encode()
        extra = [*self.headers, (b"content-security-policy", csp)]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    """Wrap the app's whole middleware stack (outside ServerErrorMiddleware) in SecurityHeaders."""
    docs = frozenset(p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p)
    build: Callable[[], ASGIApp] = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), settings, docs)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
