"""POST /api/telemetry/stream: validated, authenticated, rate-limited; nothing but counts gets in."""

from __future__ import annotations

import httpx

from tests.support.client import Account, new_account

GOOD = {"client": "web", "outcome": "finished", "reconnects": 2, "reasons": {"network": 1, "token_expired": 1},
        "connected_ms": 12_000, "refreshes": {"attempts": 1, "ok": 1}}


def test_a_report_is_accepted(http: httpx.Client, account: Account) -> None:
    assert http.post("/api/telemetry/stream", json=GOOD, headers=account.headers).status_code == 204
    failed = {**GOOD, "outcome": "failed", "failure_code": "task_not_found"}
    assert http.post("/api/telemetry/stream", json=failed, headers=account.headers).status_code == 204


def test_bad_reports_are_refused(http: httpx.Client, account: Account) -> None:
    assert http.post("/api/telemetry/stream", json=GOOD).status_code == 401
    for bad in (
        {**GOOD, "token": "eyJhbGciOi..."},  # no room for secrets or URLs
        {**GOOD, "url": "/api/generate/stream/x?ticket=y"},
        {**GOOD, "refreshes": {"attempts": 1, "ok": 2}},
        {**GOOD, "reasons": {"network": 3}},  # more reasons than reconnects
        {**GOOD, "reasons": {"cosmic_rays": 1}},
        {**GOOD, "outcome": "great"},
        {**GOOD, "reconnects": -1},
        {**GOOD, "failure_code": "Robert'); DROP TABLE"},
    ):
        r = http.post("/api/telemetry/stream", json=bad, headers=account.headers)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", (bad, r.text)


def test_reports_are_rate_limited_per_user(http: httpx.Client) -> None:
    flood = new_account(http)
    codes = [http.post("/api/telemetry/stream", json=GOOD, headers=flood.headers).status_code for _ in range(61)]
    assert codes[:60] == [204] * 60 and codes[60] == 429
    other = new_account(http)
    assert http.post("/api/telemetry/stream", json=GOOD, headers=other.headers).status_code == 204
