"""Tasks and images across users: lists with filters, cancel, delete, storage totals."""

from __future__ import annotations

import httpx

from tests.support.client import Account, new_account, start_generation, wait_status


def test_records_list_filter_cancel_delete(http: httpx.Client, admin: Account, user: Account) -> None:
    uid = http.get("/api/auth/me", headers=user.headers).json()["id"]
    done = start_generation(http, user, 1)
    wait_status(http, user, done, "done")
    slow = start_generation(http, user, 30)
    body = http.get(f"/api/admin/records?user_id={uid}", headers=admin.headers).json()
    assert body["total"] == 2 and {r["task_id"] for r in body["items"]} == {done, slow}
    assert all(r["username"] == user.username for r in body["items"])
    only_done = http.get(f"/api/admin/records?user_id={uid}&status=done", headers=admin.headers).json()
    assert [r["task_id"] for r in only_done["items"]] == [done] and only_done["items"][0]["completed"] == 1

    cancelled = http.post(f"/api/admin/records/{slow}/cancel", headers=admin.headers)
    if cancelled.status_code == 200:  # unless the 30 pages already finished
        assert cancelled.json()["status"] == "cancelled"
        assert http.get(f"/api/generate/{slow}", headers=user.headers).json()["status"] == "cancelled"
    again = http.post(f"/api/admin/records/{slow}/cancel", headers=admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "task_conflict"
    assert http.delete(f"/api/admin/records/{done}", headers=admin.headers).status_code == 204
    assert http.get(f"/api/generate/{done}", headers=user.headers).status_code == 404
    missing = http.delete(f"/api/admin/records/{done}", headers=admin.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "task_not_found"
    assert http.get("/api/admin/records?status=bogus", headers=admin.headers).status_code == 422
    assert http.post("/api/admin/records/not-hex/cancel", headers=admin.headers).status_code == 422


def test_images_and_storage_totals(http: httpx.Client, admin: Account) -> None:
    owner = new_account(http)
    uid = http.get("/api/auth/me", headers=owner.headers).json()["id"]
    task_id = start_generation(http, owner, 2)
    wait_status(http, owner, task_id, "done")
    images = http.get(f"/api/admin/images?user_id={uid}", headers=admin.headers).json()
    assert images["total"] == 2 and {i["index"] for i in images["items"]} == {0, 1}
    first = images["items"][0]
    loaded = http.get(first["image_url"])  # signed: loads in an <img> for the admin
    assert loaded.status_code == 200 and len(loaded.content) == first["bytes"]
    stats = http.get("/api/admin/images/stats", headers=admin.headers).json()
    mine = next(u for u in stats["users"] if u["user_id"] == uid)
    assert mine["images"] == 2 and mine["bytes"] == sum(i["bytes"] for i in images["items"])
    assert stats["images"] >= 2 and stats["bytes"] >= mine["bytes"]
    by_task = http.get(f"/api/admin/images?task_id={task_id}", headers=admin.headers).json()
    assert by_task["total"] == 2
    assert http.get("/api/admin/images?task_id=xyz", headers=admin.headers).status_code == 422
