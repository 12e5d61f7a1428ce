"""One HTTP session with the service: the connection pool, the tokens, and errors turned into exceptions.

Requests carry a fresh access token: it is refreshed shortly before it expires, and once more when the service
still answers 401 `token_expired` (a clock or a clock-less proxy may disagree with ours). Refreshes are
serialized: refresh tokens rotate, and two concurrent refreshes of the same token would revoke the session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from inkstream.client.errors import AuthError, ConnectionLost, InkstreamError, error_body, from_response
from inkstream.client.tokens import Tokens

TokensListener = Callable[[Tokens | None], None]

# Errors that prove the request never reached the service: always safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


class Session:
    """The low-level client the SDK is built on; `AsyncInkstream` is the API to use."""

    def __init__(
        self,
        base_url: str,
        *,
        tokens: Tokens | None = None,
        on_tokens: TokensListener | None = None,
        timeout: float = 30.0,
        network_retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.on_tokens = on_tokens
        self.network_retries = network_retries
        self.refreshes = 0  # how many times the pair was rotated, for callers that want to observe it
        self.refresh_attempts = 0  # refreshes asked for, rotated or refused
        self._lock = asyncio.Lock()
        self.http = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, transport=transport,
            headers={"User-Agent": "inkstream-client/0.1"},
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def set_tokens(self, tokens: Tokens | None) -> None:
        self.tokens = tokens
        if self.on_tokens is not None:
            self.on_tokens(tokens)

    # --- tokens ---
    async def access_token(self) -> str:
        """A valid access token, refreshed first if it is about to expire."""
        tokens = self.tokens
        if tokens is None:
            raise AuthError("Not logged in.", code="not_logged_in", status=0)
        if tokens.needs_refresh():
            tokens = await self.refresh(stale=tokens)
        return tokens.access_token

    async def refresh(self, stale: Tokens | None = None) -> Tokens:
        """Rotate the token pair. With `stale`: do nothing if another task already replaced that pair."""
        async with self._lock:
            current = self.tokens
            if current is None:
                raise AuthError("Not logged in.", code="not_logged_in", status=0)
            if stale is not None and current is not stale:
                return current
            # Not idempotent: only a request that certainly never left is sent again (see _send).
            self.refresh_attempts += 1
            response = await self._send("POST", "/api/auth/refresh", json={"refresh_token": current.refresh_token})
            if response.status_code != 200:
                raise from_response(response)
            fresh = Tokens.from_response(response.json())
            self.refreshes += 1
            self.set_tokens(fresh)
            return fresh

    async def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.access_token()}"}

    # --- requests ---
    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send once, again after a network error only when that cannot do anything twice."""
        headers = kwargs.get("headers") or {}
        repeatable = method in _IDEMPOTENT or "Idempotency-Key" in headers
        attempt = 0
        while True:
            try:
                return await self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                retry = isinstance(exc, _NOT_SENT) or (repeatable and not isinstance(exc, httpx.UnsupportedProtocol))
                if not retry or attempt >= self.network_retries:
                    raise ConnectionLost(f"Cannot reach {self.base_url}: {describe(exc)}") from exc
            attempt += 1
            await asyncio.sleep(0.2 * 2**attempt)

    async def request(
        self, method: str, url: str, *, auth: bool = True, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send a request and return the successful response; raise the typed error otherwise."""
        for first in (True, False):
            used = self.tokens
            all_headers = {**(headers or {}), **(await self.auth_headers() if auth else {})}
            response = await self._send(method, url, headers=all_headers, **kwargs)
            if response.status_code < 400:
                return response
            if auth and first and response.status_code == 401 and error_body(response).get("code") == "token_expired":
                await self.refresh(stale=used)
                continue
            raise from_response(response)
        raise AssertionError("unreachable")

    async def json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self.request(method, url, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise InkstreamError(f"{method} {url}: the response is not JSON", code="bad_response",
                                 status=response.status_code) from exc

    @contextlib.asynccontextmanager
    async def open_stream(self, url: str, headers: dict[str, str], timeouts: httpx.Timeout
                          ) -> AsyncIterator[httpx.Response]:
        """GET a streaming response (no retries, no error mapping: the caller decides)."""
        headers = {**headers, "Accept": "text/event-stream", "Cache-Control": "no-store"}
        async with self.http.stream("GET", url, headers=headers, timeout=timeouts) as response:
            yield response


def describe(exc: BaseException) -> str:
    """A short human description of a transport error."""
    text = str(exc) or type(exc).__name__
    return text if len(text) < 200 else text[:197] + "…"
