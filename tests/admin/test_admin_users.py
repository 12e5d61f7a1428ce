"""Admin user management: list and filter, create, edit role, reset password, enable / disable, revoke sessions,
delete with tasks and files — and the guard rails (yourself, the last admin)."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.support.client import (
    REVOCATION_DEADLINE,
    Account,
    login,
    new_account,
    refused_within,
    start_generation,
    wait_status,
)


def _id(http: httpx.Client, account: Account) -> int:
    return int(http.get("/api/auth/me", headers=account.headers).json()["id"])


def test_list_search_filter_and_paginate(http: httpx.Client, admin: Account) -> None:
    tag = uuid.uuid4().hex[:6]
    for n in range(3):
        r = http.post("/api/admin/users", headers=admin.headers,
                      json={"username": f"find_{tag}_{n}", "password": "long enough 1", "role": "pro" if n else "user"})
        assert r.status_code == 201, r.text
        assert r.json()["role"] == ("pro" if n else "user")
    body = http.get(f"/api/admin/users?q=find_{tag}&page_size=2", headers=admin.headers).json()
    assert body["total"] == 3 and len(body["items"]) == 2 and body["page_size"] == 2
    second = http.get(f"/api/admin/users?q=find_{tag}&page_size=2&page=2", headers=admin.headers).json()
    assert [u["username"] for u in second["items"]] == [f"find_{tag}_2"]
    pros = http.get(f"/api/admin/users?q=find_{tag}&role=pro", headers=admin.headers).json()
    assert pros["total"] == 2 and all(u["role"] == "pro" for u in pros["items"])
    item = body["items"][0]
    assert {"tasks", "pages", "storage_bytes", "active_sessions", "last_login_at", "is_active"} <= set(item)
    # LIKE wildcards in the search are literal
    assert http.get("/api/admin/users?q=%25", headers=admin.headers).json()["total"] == 0


def test_create_user_failures(http: httpx.Client, admin: Account, user: Account) -> None:
    taken = http.post("/api/admin/users", headers=admin.headers,
                      json={"username": user.username, "password": "long enough 1"})
    assert taken.status_code == 409 and taken.json()["code"] == "username_taken"
    weak = http.post("/api/admin/users", headers=admin.headers, json={"username": "weakling", "password": "short"})
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    role = http.post("/api/admin/users", headers=admin.headers,
                     json={"username": "rolething", "password": "long enough 1", "role": "god"})
    assert role.status_code == 422 and role.json()["code"] == "validation_error"
    bad = http.post("/api/admin/users", headers=admin.headers, json={"username": "a b", "password": "long enough 1"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_username"


def test_detail_shows_usage_and_sessions(http: httpx.Client, admin: Account, user: Account) -> None:
    task_id = start_generation(http, user, 2)
    wait_status(http, user, task_id, "done")
    detail = http.get(f"/api/admin/users/{_id(http, user)}", headers=admin.headers).json()
    assert detail["tasks"] == 1 and detail["pages"] == 2 and detail["storage_bytes"] > 10_000
    assert detail["active_sessions"] == 1 and len(detail["sessions"]) == 1
    assert detail["recent_tasks"][0]["task_id"] == task_id and detail["last_login_at"]
    missing = http.get("/api/admin/users/99999", headers=admin.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "user_not_found"
    assert http.get("/api/admin/users/abc", headers=admin.headers).status_code == 422


def test_role_change_applies_at_once(http: httpx.Client, admin: Account, user: Account) -> None:
    uid = _id(http, user)
    r = http.put(f"/api/admin/users/{uid}", headers=admin.headers, json={"role": "admin"})
    assert r.status_code == 200 and r.json()["role"] == "admin"
    deadline = time.monotonic() + REVOCATION_DEADLINE
    while http.get("/api/admin/users", headers=user.headers).status_code != 200:
        assert time.monotonic() < deadline, "the new admin was not let in within 5 s"
        time.sleep(0.1)
    assert http.put(f"/api/admin/users/{uid}", headers=admin.headers, json={"role": "user"}).status_code == 200
    deadline = time.monotonic() + REVOCATION_DEADLINE
    while http.get("/api/admin/users", headers=user.headers).status_code != 403:
        assert time.monotonic() < deadline, "the demoted admin kept admin access"
        time.sleep(0.1)
    assert http.get("/api/auth/me", headers=user.headers).status_code == 200  # demotion ends no session
    unknown = http.put(f"/api/admin/users/{uid}", headers=admin.headers, json={"colour": "red"})
    assert unknown.status_code == 422


def test_disable_refuses_tokens_and_login_and_enable_lets_back_in(
    http: httpx.Client, admin: Account, user: Account
) -> None:
    uid = _id(http, user)
    r = http.patch(f"/api/admin/users/{uid}/status", headers=admin.headers, json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    refused_within(http, user, 403, "account_disabled")
    again = http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert again.status_code == 403 and again.json()["code"] == "account_disabled"
    login_r = http.post("/api/auth/login", json={"username": user.username, "password": user.password})
    assert login_r.status_code == 403 and login_r.json()["code"] == "account_disabled"
    listed = http.get("/api/admin/users?status=disabled", headers=admin.headers).json()
    assert uid in [u["id"] for u in listed["items"]]
    assert http.patch(f"/api/admin/users/{uid}/status", headers=admin.headers,
                      json={"is_active": True}).status_code == 200
    login(http, user)
    assert http.get("/api/auth/me", headers=user.headers).status_code == 200


def test_password_reset_ends_sessions(http: httpx.Client, admin: Account, user: Account) -> None:
    uid = _id(http, user)
    r = http.put(f"/api/admin/users/{uid}", headers=admin.headers, json={"password": "a brand new one"})
    assert r.status_code == 200
    refused_within(http, user, 401, "session_revoked")
    old = http.post("/api/auth/login", json={"username": user.username, "password": user.password})
    assert old.status_code == 401
    user.password = "a brand new one"
    login(http, user)
    weak = http.put(f"/api/admin/users/{uid}", headers=admin.headers, json={"password": "x"})
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"


def test_revoke_sessions(http: httpx.Client, admin: Account, user: Account) -> None:
    uid = _id(http, user)
    assert http.post(f"/api/admin/users/{uid}/revoke-sessions", headers=admin.headers).status_code == 204
    refused_within(http, user, 401, "session_revoked")
    r = http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token})
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    login(http, user)  # the account itself is fine
    assert http.post("/api/admin/users/99999/revoke-sessions", headers=admin.headers).status_code == 404


def test_an_admin_cannot_demote_disable_or_delete_themself(http: httpx.Client, admin: Account) -> None:
    me = _id(http, admin)
    for call in (lambda: http.put(f"/api/admin/users/{me}", headers=admin.headers, json={"role": "user"}),
                 lambda: http.patch(f"/api/admin/users/{me}/status", headers=admin.headers, json={"is_active": False}),
                 lambda: http.delete(f"/api/admin/users/{me}", headers=admin.headers)):
        r = call()
        assert r.status_code == 409 and r.json()["code"] == "cannot_change_self", r.text
    assert http.put(f"/api/admin/users/{me}", headers=admin.headers, json={"role": "admin"}).status_code == 200


def test_delete_removes_tasks_and_files(http: httpx.Client, admin: Account) -> None:
    victim = new_account(http)
    task_id = start_generation(http, victim, 2)
    body = wait_status(http, victim, task_id, "done")
    image_url = body["images"][0]["image_url"]
    assert http.get(image_url).status_code == 200
    uid = _id(http, victim)
    assert http.delete(f"/api/admin/users/{uid}", headers=admin.headers).status_code == 204
    assert http.get(image_url).status_code == 404
    refused_within(http, victim, 401, "session_revoked")
    assert http.get(f"/api/admin/users/{uid}", headers=admin.headers).status_code == 404
    records = http.get(f"/api/admin/records?user_id={uid}", headers=admin.headers).json()
    assert records["total"] == 0
    assert http.delete(f"/api/admin/users/{uid}", headers=admin.headers).status_code == 404
