"""Every admin route: anonymous → 401, a signed-in non-admin → 403 forbidden, an admin → not 401/403."""

from __future__ import annotations

import httpx
import pytest

from tests.support.client import Account

TASK = "0" * 32
ROUTES = [
    ("GET", "/api/admin/users", None),
    ("POST", "/api/admin/users", {"username": "someone_new", "password": "long enough 1", "role": "user"}),
    ("GET", "/api/admin/users/1", None),
    ("PUT", "/api/admin/users/999999", {"role": "pro"}),
    ("PATCH", "/api/admin/users/999999/status", {"is_active": True}),
    ("POST", "/api/admin/users/999999/revoke-sessions", None),
    ("DELETE", "/api/admin/users/999999", None),
    ("GET", "/api/admin/records", None),
    ("POST", f"/api/admin/records/{TASK}/cancel", None),
    ("DELETE", f"/api/admin/records/{TASK}", None),
    ("GET", "/api/admin/images", None),
    ("GET", "/api/admin/images/stats", None),
    ("GET", "/api/admin/config/image-providers", None),
    ("PUT", "/api/admin/config/image-providers", {"config": {}}),
    ("GET", "/api/admin/config/image-providers/history", None),
    ("POST", "/api/admin/config/image-providers/rollback/1", None),
    ("POST", "/api/admin/config/image-providers/test", {"section": "image", "provider": "offline"}),
    ("GET", "/api/admin/registration", None),
    ("PUT", "/api/admin/registration", {"enabled": True, "invite_required": False, "default_role": "user"}),
    ("GET", "/api/admin/registration/history", None),
    ("GET", "/api/admin/registration/invites", None),
    ("POST", "/api/admin/registration/invites", {"max_uses": 1, "expires_in": 3600}),
    ("DELETE", "/api/admin/registration/invites/nosuchcode", None),
    ("GET", "/api/admin/audit-logs", None),
    ("GET", "/api/admin/audit-logs/export.csv", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_admin_routes_refuse_anonymous_and_non_admins(
    http: httpx.Client, user: Account, admin: Account, method: str, path: str, body: object
) -> None:
    anonymous = http.request(method, path, json=body)
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["code"] == "token_missing"
    forbidden = http.request(method, path, json=body, headers=user.headers)
    assert forbidden.status_code == 403, forbidden.text
    assert forbidden.json()["code"] == "forbidden"
    allowed = http.request(method, path, json=body, headers=admin.headers)
    assert allowed.status_code not in (401, 403, 500), allowed.text


def test_the_first_admin_comes_from_the_environment(http: httpx.Client, admin: Account) -> None:
    me = http.get("/api/auth/me", headers=admin.headers).json()
    assert me["role"] == "admin" and me["is_admin"] is True and me["session_id"]
