"""The web UI's refresh token, kept where page script cannot read it: an HttpOnly, SameSite=Strict cookie scoped
to /api/auth (Secure when the service is reached over HTTPS).

A browser asks for it by logging in with `"cookie": true`; refresh and logout then read the token from the cookie
when the body has none. Because a browser attaches cookies by itself, every request that uses the cookie must
come from our own origin: SameSite=Strict keeps other sites' requests from carrying it, and the Origin check here
refuses any that still do (old browsers, a sibling subdomain). The SDK and CLI keep tokens in bodies and never see
the cookie.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request, Response

from inkstream.config import Settings
from inkstream.errors import OriginRejected

COOKIE = "inkstream_refresh"
PATH = "/api/auth"


def set_refresh_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(COOKIE, token, max_age=settings.refresh_token_ttl, path=PATH, httponly=True,
                        samesite="strict", secure=settings.https)


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict", secure=settings.https)


def check_origin(request: Request, settings: Settings) -> None:
    """Refuse a cookie-authenticated request that does not come from a page of ours (403 origin_rejected)."""
    origin = request.headers.get("origin", "")
    netloc = urlsplit(origin).netloc.lower() if origin else ""
    host = request.headers.get("host", "").lower()
    trusted = {o.rstrip("/").lower() for o in settings.trusted_origins}
    if not netloc or (netloc != host and origin.rstrip("/").lower() not in trusted):
        raise OriginRejected("This request must come from the Inkstream web page itself (Origin header).")


def cookie_token(request: Request, settings: Settings) -> str | None:
    """The refresh token from the cookie, when there is one, after the Origin check."""
    token = request.cookies.get(COOKIE)
    if token:
        check_origin(request, settings)
    return token or None
