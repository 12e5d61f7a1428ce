"""Registration open / closed / invite-only, invite codes (uses, revoke, expiry), default role, history."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support.client import Account


def _register(http: httpx.Client, invite: str | None = None) -> httpx.Response:
    body: dict[str, object] = {"username": f"new_{uuid.uuid4().hex[:8]}", "password": "long enough 1"}
    if invite is not None:
        body["invite_code"] = invite
    return http.post("/api/auth/register", json=body)


def _set(http: httpx.Client, admin: Account, **values: object) -> dict:
    body = {"enabled": True, "invite_required": False, "default_role": "user", **values}
    r = http.put("/api/admin/registration", headers=admin.headers, json=body)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(autouse=True)
def _open_again(http: httpx.Client, admin: Account):  # type: ignore[no-untyped-def]
    yield
    _set(http, admin)


def test_closed_registration(http: httpx.Client, admin: Account) -> None:
    _set(http, admin, enabled=False)
    assert http.get("/api/auth/registration/config").json() == {"enabled": False, "invite_required": False}
    r = _register(http)
    assert r.status_code == 403 and r.json()["code"] == "registration_closed"


def test_invite_only_registration(http: httpx.Client, admin: Account) -> None:
    _set(http, admin, invite_required=True, default_role="pro")
    assert http.get("/api/auth/registration/config").json() == {"enabled": True, "invite_required": True}
    missing = _register(http)
    assert missing.status_code == 403 and missing.json()["code"] == "invite_required"
    wrong = _register(http, "not-a-real-code")
    assert wrong.status_code == 403 and wrong.json()["code"] == "invite_invalid"

    invite = http.post("/api/admin/registration/invites", headers=admin.headers,
                       json={"max_uses": 2, "expires_in": 3600}).json()
    assert invite["uses_left"] == 2 and invite["status"] == "active"
    first = _register(http, invite["code"])
    assert first.status_code == 201 and first.json()["role"] == "pro"
    listed = http.get("/api/admin/registration/invites?status=active", headers=admin.headers).json()
    mine = next(i for i in listed["items"] if i["code"] == invite["code"])
    assert mine["uses"] == 1 and mine["uses_left"] == 1
    assert _register(http, invite["code"]).status_code == 201
    used_up = _register(http, invite["code"])
    assert used_up.status_code == 403 and used_up.json()["code"] == "invite_invalid"
    used = http.get("/api/admin/registration/invites?status=used", headers=admin.headers).json()
    assert invite["code"] in [i["code"] for i in used["items"]]

    other = http.post("/api/admin/registration/invites", headers=admin.headers,
                      json={"max_uses": 5, "expires_in": 3600}).json()
    assert http.delete(f"/api/admin/registration/invites/{other['code']}", headers=admin.headers).status_code == 204
    revoked = _register(http, other["code"])
    assert revoked.status_code == 403 and revoked.json()["code"] == "invite_invalid"
    gone = http.delete("/api/admin/registration/invites/nosuchcode", headers=admin.headers)
    assert gone.status_code == 404 and gone.json()["code"] == "invite_not_found"


def test_invite_validation(http: httpx.Client, admin: Account) -> None:
    for body in ({"max_uses": 0, "expires_in": 3600}, {"max_uses": 1, "expires_in": 5}, {"max_uses": "x"}):
        r = http.post("/api/admin/registration/invites", headers=admin.headers, json=body)
        assert r.status_code == 422, r.text
    r = http.put("/api/admin/registration", headers=admin.headers,
                 json={"enabled": True, "invite_required": False, "default_role": "root"})
    assert r.status_code == 422


def test_every_change_is_kept_in_history(http: httpx.Client, admin: Account) -> None:
    before = http.get("/api/admin/registration", headers=admin.headers).json()["version"]
    _set(http, admin, enabled=False)
    after = _set(http, admin, default_role="pro")
    assert after["version"] == before + 2 and after["updated_by"] == admin.username
    history = http.get("/api/admin/registration/history?page_size=2", headers=admin.headers).json()
    assert [h["default_role"] for h in history["items"]] == ["pro", "user"]
    assert history["items"][1]["enabled"] is False
