"""The OpenAPI document lists each operation's error responses with the `{code, message}` schema — also for a
route added later, without touching inkstream/api/openapi_errors.py."""

from __future__ import annotations

from pathlib import Path

from inkstream.api.deps import CurrentUser
from inkstream.app import create_app
from inkstream.config import Settings

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]


def _errors(operation: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {code: r for code, r in operation["responses"].items() if code.startswith(("4", "5"))}


def test_every_operation_documents_its_errors_as_code_and_message(tmp_path: Path) -> None:
    schema = _app(tmp_path).openapi()
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    operations = [(m.upper(), p, op) for p, item in schema["paths"].items() for m, op in item.items()]
    assert len(operations) >= 18
    for method, path, op in operations:
        errors = _errors(op)
        assert "422" in errors, (method, path)
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"] == ERROR_REF, (method, path, code)
    by_route = {(m, p): sorted(_errors(op)) for m, p, op in operations}
    assert by_route[("POST", "/api/generate")] == ["401", "403", "409", "413", "422", "429", "503"]
    assert by_route[("GET", "/api/generate/{task_id}")] == ["401", "403", "404", "422"]
    assert by_route[("POST", "/api/auth/register")] == ["403", "409", "413", "422", "429"]
    assert by_route[("POST", "/api/auth/login")] == ["401", "403", "413", "422", "429"]
    assert by_route[("GET", "/api/health")] == ["422"]


def test_a_route_added_later_is_documented_too(tmp_path: Path) -> None:
    app = _app(tmp_path)

    @app.delete("/api/things/{thing_id}", status_code=204)
    async def delete_thing(thing_id: int, user: CurrentUser) -> None:
        raise NotImplementedError

    op = app.openapi()["paths"]["/api/things/{thing_id}"]["delete"]
    assert sorted(_errors(op)) == ["401", "403", "404", "409", "422"]
