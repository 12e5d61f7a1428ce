"""The audit log: logins, theft alarms, session changes and admin actions with before / after; filters; CSV."""

from __future__ import annotations

import csv
import io

import httpx

from tests.support.client import Account, refresh


def _logs(http: httpx.Client, admin: Account, **query: str) -> list[dict]:
    r = http.get("/api/admin/audit-logs", params={"page_size": "100", **query}, headers=admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_logins_are_audited_with_ip_and_agent(http: httpx.Client, admin: Account, user: Account) -> None:
    bad = http.post("/api/auth/login", json={"username": user.username, "password": "wrong password"},
                    headers={"User-Agent": "audit-test/1.0"})
    assert bad.status_code == 401
    failed = _logs(http, admin, action="login.failed", actor=user.username)
    assert failed and failed[0]["ip"] == "127.0.0.1" and failed[0]["user_agent"] == "audit-test/1.0"
    assert failed[0]["severity"] == "warning"
    ok = _logs(http, admin, action="login.ok", actor=user.username)
    assert ok and ok[0]["target_type"] == "session"


def test_refresh_token_reuse_raises_an_alert(http: httpx.Client, admin: Account, user: Account) -> None:
    stolen = user.refresh_token
    refresh(http, user)  # the victim moves on; the spent token is presented again (by a thief)
    refresh(http, user)
    r = http.post("/api/auth/refresh", json={"refresh_token": stolen})
    assert r.status_code == 401 and r.json()["code"] == "refresh_token_reused"
    alerts = _logs(http, admin, severity="alert")
    assert any(a["action"] == "token.reuse_detected" for a in alerts)


def test_admin_actions_keep_before_and_after(http: httpx.Client, admin: Account, user: Account) -> None:
    uid = http.get("/api/auth/me", headers=user.headers).json()["id"]
    http.put(f"/api/admin/users/{uid}", headers=admin.headers, json={"role": "pro"})
    entries = _logs(http, admin, action="admin.user", target=f"user:{uid}")
    change = next(e for e in entries if e["action"] == "admin.user.update")
    assert change["before"]["role"] == "user" and change["after"]["role"] == "pro"
    assert change["actor_name"] == admin.username
    assert _logs(http, admin, action="admin.user", target=f"user:{uid}", since="2999-01-01T00:00:00") == []


def test_csv_export(http: httpx.Client, admin: Account, user: Account) -> None:
    http.post("/api/auth/login", json={"username": "=cmd|' /C calc'!A0", "password": "whatever1"})
    r = http.get("/api/admin/audit-logs/export.csv", params={"action": "login.failed"}, headers=admin.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:4] == ["id", "created_at", "severity", "action"]
    assert all(row[3] == "login.failed" for row in rows[1:]) and len(rows) > 1
    names = [row[5] for row in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in names  # a formula is written as text


def test_bad_filters_are_422(http: httpx.Client, admin: Account) -> None:
    for query in ({"since": "yesterday"}, {"severity": "panic"}, {"page": "0"}, {"action": "DROP TABLE"}):
        assert http.get("/api/admin/audit-logs", params=query, headers=admin.headers).status_code == 422
