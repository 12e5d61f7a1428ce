"""The OpenAPI document lists the error responses each operation can return, all with the `{code, message}` body
that api/errors.py sends — derived from each route (does it need a user, take a path parameter, a body, change
state?), so routes added later are covered without listing them here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi

from inkstream.api.deps import current_user

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "machine-readable, e.g. token_expired, task_not_found"},
        "message": {"type": "string", "description": "for people"},
    },
    "additionalProperties": True,  # some errors add details (retry_after, errors, …)
}
DESCRIPTIONS = {
    400: "Bad request", 401: "Not authenticated: token_missing, token_expired, token_invalid, ticket_invalid, …",
    403: "Forbidden", 404: "Not found", 409: "Conflict with the current state", 413: "Request body too large",
    422: "Invalid input", 429: "Too many requests (see Retry-After)", 503: "Storage unavailable; try again later",
}
# Routes that authenticate without the CurrentUser dependency: credentials in the body, a ticket, a signature.
AUTHENTICATES_ITSELF = {"/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/generate/stream/{task_id}",
                        "/api/images/{task_id}/{file_name}", "/api/metrics"}
UNAUTHENTICATED = {"/api/health", "/api/auth/register"}
EXTRA = {
    ("POST", "/api/auth/register"): {403},  # registration closed (INKSTREAM_PUBLIC_REGISTRATION=false)
    ("POST", "/api/outline"): {503},  # reference images could not be stored (disk full)
    ("POST", "/api/generate"): {503},
    ("POST", "/api/admin/config/image-providers/test"): {404},  # no provider of that name (it is in the body)
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _api_routes(app: FastAPI) -> Iterable[Any]:
    """The app's API routes, included routers flattened (FastAPI ≥ 0.16x keeps them as included-router nodes)."""
    iterate = getattr(routing, "iter_route_contexts", None)
    candidates = iterate(app.routes) if iterate is not None else app.routes
    return [r for r in candidates if hasattr(r, "dependant") and hasattr(r, "path_format")]


def error_codes(path: str, method: str, needs_user: bool, has_body: bool) -> list[int]:
    """The error statuses an operation can answer with, by the rules the service follows."""
    codes = {422}  # parameters and bodies are validated everywhere
    authenticated = needs_user or path in AUTHENTICATES_ITSELF
    if authenticated and path not in UNAUTHENTICATED:
        codes |= {401, 403}
    if "{" in path:
        codes.add(404)  # an unknown (or someone else's) task or image
    if method in MUTATING and (needs_user or path in UNAUTHENTICATED):
        codes.add(409)  # a task in the wrong state, a username taken
    if has_body:
        codes.add(413)
    if method == "POST":
        codes.add(429)  # login limits, running-task limits
    return sorted(codes | EXTRA.get((method, path), set()))


def documented_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with every operation's error responses (a route's own `responses=` entries win)."""
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for route in _api_routes(app):
        needs_user = current_user in set(_calls(route.dependant))
        for method in route.methods or ():
            operation = schema.get("paths", {}).get(route.path_format, {}).get(method.lower())
            if operation is None:  # not in the schema (include_in_schema=False)
                continue
            responses = operation.setdefault("responses", {})
            for status in error_codes(route.path_format, method, needs_user, route.body_field is not None):
                existing = responses.get(str(status))
                if existing is None or status == 422:  # 422: ours, not FastAPI's HTTPValidationError shape
                    responses[str(status)] = {"description": DESCRIPTIONS[status],
                                              "content": {"application/json": {"schema": ref}}}
            _document_idempotent_replay(operation)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    return schema


def _document_idempotent_replay(operation: dict[str, Any]) -> None:
    """A create with an Idempotency-Key seen before answers 200 with the first task instead of 202."""
    responses = operation.get("responses", {})
    if "202" in responses and "200" not in responses and any(
        p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key"
        for p in operation.get("parameters", [])
    ):
        responses["200"] = {**responses["202"], "description": "This Idempotency-Key was seen: the first task"}


def install_openapi_errors(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = documented_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
