"""Schemathesis over the OpenAPI document: every operation, with and without a valid access token, on both modes.
No response may be a 5xx, and each must be documented (status, content type, body schema — errors are `{code,
message}`). The example count is bounded (FUZZ_EXAMPLES, default 25 per operation and auth state) to keep it to
a few minutes; raise it locally for a deeper run: `FUZZ_EXAMPLES=500 pytest tests/api/test_fuzz.py`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import _backend
from tests.support.client import Account, login, new_account
from tests.support.server import LiveServer

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# Operations that can end the fuzzing account's session: it logs in again after each of their cases, so the
# operations after them are still fuzzed signed in (not only as 401s).
SESSION_ENDERS = {"/api/auth/logout-all", "/api/auth/logout", "/api/auth/sessions/{session_id}",
                  "/api/auth/password"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_server(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Default settings (the limits a user gets), but short pages so the tasks the fuzzer creates finish fast."""
    backend = _backend(mode)
    # The fuzzer's random logins fail by the hundred from one address; the failed-login limit (tested on its own in
    # tests/api/test_auth.py) would then also refuse the fuzzing account's own logins after a session-ending case.
    live = LiveServer(tmp_path_factory.mktemp(f"fuzz-{mode}"), backend=backend, max_pages=3,
                      login_max_failures=1_000_000, login_max_failures_per_ip=1_000_000)
    try:
        yield live.start()
    finally:
        live.stop()
        if backend:
            backend.drop()


@pytest.fixture(scope="module")
def fuzz_account(fuzz_server: LiveServer) -> Account:
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as http:
        return new_account(http, prefix="fuzz")


def _fuzz(url: str, account: Account) -> tuple[int, int, list[str]]:
    """Run every operation's positive and negative examples, with and without the token; returns (operations,
    requests sent, failures) so one run reports every failing operation, not just the first."""
    api = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    sent = 0
    failures: list[str] = []

    def call(case: schemathesis.Case) -> None:
        nonlocal sent
        for auth in ({}, account.headers):
            sent += 1
            case.call_and_validate(base_url=url, headers={**(case.headers or {}), **auth}, checks=CHECKS,
                                   timeout=30)
        if case.operation.path in SESSION_ENDERS:
            with httpx.Client(base_url=url, timeout=30) as http:
                login(http, account)

    for operation in operations:
        for generation in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                           suppress_health_check=list(HealthCheck))(
                given(case=operation.as_strategy(generation_mode=generation))(call))
            try:
                run()
            except Unsatisfiable:  # no parameter to break: nothing negative to send
                continue
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected: one run reports them all
                failures.append(f"{operation.label} [{generation.value}]: {str(exc)[:2000]}")
    return len(operations), sent, failures


def test_fuzz_every_operation_with_and_without_a_token(fuzz_server: LiveServer, fuzz_account: Account) -> None:
    operations, sent, failures = _fuzz(fuzz_server.url, fuzz_account)
    print(f"fuzz {fuzz_server.mode}: {operations} operations, {sent} requests, {len(failures)} failing")
    assert operations >= 17
    assert not failures, "\n\n".join(failures)
    assert "Traceback" not in fuzz_server.logs()


# Regressions: what the fuzzer found, one test each.


def test_a_body_that_is_not_utf8_is_422_not_an_undocumented_400(fuzz_server: LiveServer) -> None:
    r = httpx.post(f"{fuzz_server.url}/api/auth/register", content=b"H\xff\x7f\x0b\xfe`",
                   headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_a_repeated_idempotency_key_answers_a_documented_200(fuzz_server: LiveServer, fuzz_account: Account) -> None:
    doc = httpx.get(f"{fuzz_server.url}/openapi.json").json()
    for path in ("/api/outline", "/api/generate"):
        assert {"200", "202"} <= set(doc["paths"][path]["post"]["responses"]), path
    headers = {**fuzz_account.headers, "Idempotency-Key": "fuzz-replay-1"}
    first = httpx.post(f"{fuzz_server.url}/api/outline", json={"topic": "露营"}, headers=headers)
    again = httpx.post(f"{fuzz_server.url}/api/outline", json={"topic": "露营"}, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["task_id"] == again.json()["task_id"]
