"""History search (`?q=`), status filter (`?status=`) and renaming a post (`PATCH /api/history/{id}`)."""

from __future__ import annotations

import httpx

from tests.support.client import Account, new_account, read_stream, start_generation, wait_status


def _outline(http: httpx.Client, account: Account, topic: str) -> str:
    r = http.post("/api/outline", json={"topic": topic}, headers=account.headers)
    assert r.status_code == 202, r.text
    task_id = str(r.json()["task_id"])
    read_stream(http, task_id, account)
    return task_id


def _topics(http: httpx.Client, account: Account, **params: str) -> list[str]:
    r = http.get("/api/history", params=params, headers=account.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return [item["topic"] for item in body["items"]]


def test_search_matches_topic_substrings_case_insensitively(http: httpx.Client, account: Account) -> None:
    for topic in ["周末露营装备清单", "Camping with KIDS", "秋天的第一杯奶茶", "100%_纯棉 T 恤"]:
        _outline(http, account, topic)
    assert _topics(http, account, q="露营") == ["周末露营装备清单"]
    assert _topics(http, account, q="camping") == ["Camping with KIDS"]
    assert _topics(http, account, q="  奶茶 ") == ["秋天的第一杯奶茶"]
    # LIKE's wildcards are matched literally, not as patterns
    assert _topics(http, account, q="%_") == ["100%_纯棉 T 恤"]
    assert _topics(http, account, q="_") == ["100%_纯棉 T 恤"]
    assert _topics(http, account, q="火锅") == []
    assert len(_topics(http, account, q="")) == 4
    other = new_account(http, "other")
    assert _topics(http, other, q="露营") == []


def test_status_filter_and_bad_status(http: httpx.Client, account: Account) -> None:
    _outline(http, account, "只是大纲")
    task_id = start_generation(http, account, 2)
    read_stream(http, task_id, account)
    wait_status(http, account, task_id, "done")
    cancelled = start_generation(http, account, 30)
    r = http.post(f"/api/generate/{cancelled}/cancel", headers=account.headers)
    # 409 only if all 30 pages were drawn before the cancel arrived
    late = r.status_code == 409
    by_status = {s: len(_topics(http, account, status=s)) for s in ("done", "cancelled", "failed", "running")}
    assert by_status == {"done": 2 + late, "cancelled": 1 - late, "failed": 0, "running": 0}
    r = http.get("/api/history", params={"status": "bogus"}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_rename_changes_the_title_history_shows_and_searches(http: httpx.Client, account: Account) -> None:
    task_id = _outline(http, account, "旧的标题")
    r = http.patch(f"/api/history/{task_id}", json={"topic": "  新的标题：露营篇 "}, headers=account.headers)
    assert r.status_code == 200 and r.json() == {"task_id": task_id, "topic": "新的标题：露营篇"}
    assert _topics(http, account, q="露营篇") == ["新的标题：露营篇"]
    assert http.get(f"/api/outline/{task_id}", headers=account.headers).json()["topic"] == "新的标题：露营篇"
    r = http.patch(f"/api/history/{task_id}", json={"topic": "   "}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, "topic_required")
    r = http.patch(f"/api/history/{task_id}", json={}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    stranger = new_account(http, "stranger")
    r = http.patch(f"/api/history/{task_id}", json={"topic": "抢过来"}, headers=stranger.headers)
    assert (r.status_code, r.json()["code"]) == (404, "task_not_found")
    r = http.patch("/api/history/not-a-task", json={"topic": "x"}, headers=account.headers)
    assert r.status_code == 422
