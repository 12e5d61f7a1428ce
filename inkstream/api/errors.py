"""Every error leaves the service as JSON `{code, message}` with the right status; mapped here, once."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from inkstream.api.body_limit import BodyTooLarge
from inkstream.errors import AuthError, InkstreamError, QuotaExceeded, RateLimited, TooManyTasks

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 400: "bad_request"}


def error_response(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


def internal_error_response() -> JSONResponse:
    """The typed 500 for an unexpected error (log it first)."""
    return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")


def inkstream_error_response(exc: InkstreamError) -> JSONResponse:
    response = error_response(exc.status, exc.code, exc.message, **exc.details)
    if isinstance(exc, AuthError):
        # RFC 6750: tell the client which scheme and why, so it can refresh instead of guessing.
        response.headers["WWW-Authenticate"] = f'Bearer realm="inkstream", error="invalid_token", ' \
                                               f'error_description="{exc.code}"'
    if isinstance(exc, (RateLimited, TooManyTasks, QuotaExceeded)):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InkstreamError)
    async def _domain(_: Request, exc: InkstreamError) -> JSONResponse:
        return inkstream_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "message": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "message": "invalid request"}
        where = ".".join(first["loc"][1:]) or "request"
        return error_response(422, "validation_error", f"{where}: {first['message']}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, BodyTooLarge):  # a chunked body ran over the limit while being parsed
            return error_response(413, "body_too_large", "The request body is too large.")
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI's 400 for a body that is not UTF-8; invalid JSON is already a 422 — one answer for both.
            return error_response(422, "validation_error", "body: not valid UTF-8 JSON")
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, BodyTooLarge):
            return error_response(413, "body_too_large", "The request body is too large.")
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return internal_error_response()
