"""The SDK's exception hierarchy: one class per kind of failure a caller handles differently.

Every error carries the service's machine-readable `code`, its `message` and the HTTP `status` (0 when no
response arrived). `from_response` maps an error response once; nothing else in the SDK inspects status codes.
"""

from __future__ import annotations

from typing import Any

import httpx


class InkstreamError(Exception):
    """Base class: `code`, `message`, `status` (0: no HTTP response) and the rest of the error body."""

    def __init__(self, message: str, *, code: str = "error", status: int = 0, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class AuthError(InkstreamError):
    """Not logged in, bad credentials, a revoked session or a refused permission (401/403)."""


class TokenExpired(AuthError):
    """The access token (or refresh token) has expired and refreshing did not help."""


class NotFound(InkstreamError):
    """No such task or image — or it belongs to someone else (the service answers 404 for both)."""


class RateLimited(InkstreamError):
    """Too many requests or running tasks; `retry_after` is the wait the service asked for, in seconds."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ValidationError(InkstreamError):
    """The request was understood but refused: bad input, too large, an invalid Last-Event-ID (400/413/422)."""


class Conflict(InkstreamError):
    """The task is not in a state that allows this (cancel a finished task, retry a running one…) (409)."""


class ServerError(InkstreamError):
    """The service failed (5xx) or answered something the SDK cannot read."""


class ConnectionLost(InkstreamError):
    """The service could not be reached, or the connection kept failing until the retry budget ran out."""

    def __init__(self, message: str, *, history: list[Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("code", "connection_lost")
        super().__init__(message, **kwargs)
        self.history = history or []


def _retry_after(response: httpx.Response, body: dict[str, Any]) -> float:
    raw = response.headers.get("retry-after") or body.get("retry_after") or 1
    try:
        return max(0.0, float(raw))
    except (TypeError, ValueError):
        return 1.0


def error_body(response: httpx.Response) -> dict[str, Any]:
    """The `{code, message, …}` body of an error response, or a stand-in when it is not JSON."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "code" not in body:
        reason = response.reason_phrase or "error"
        return {"code": f"http_{response.status_code}", "message": f"HTTP {response.status_code} {reason}"}
    return body


def from_response(response: httpx.Response) -> InkstreamError:
    """The exception for an error response (status >= 400); the body must already be read."""
    body = error_body(response)
    status = response.status_code
    code = str(body.get("code", f"http_{status}"))
    message = str(body.get("message", ""))
    details = {k: v for k, v in body.items() if k not in ("code", "message")}
    kwargs: dict[str, Any] = {"code": code, "status": status, "details": details}
    if status == 401 and code == "token_expired":
        return TokenExpired(message, **kwargs)
    if status in (401, 403):
        return AuthError(message, **kwargs)
    if status == 404:
        return NotFound(message, **kwargs)
    if status == 409:
        return Conflict(message, **kwargs)
    if status == 429:
        return RateLimited(message, retry_after=_retry_after(response, body), **kwargs)
    if status in (400, 413, 422):
        return ValidationError(message, **kwargs)
    if status >= 500:
        return ServerError(message, **kwargs)
    return InkstreamError(message, **kwargs)
