"""The history API: search by topic and title, status filter, stats, rename — and their failure cases."""

from __future__ import annotations

import httpx
import pytest

from tests.support.client import Account, new_account, pages, read_stream, wait_status


def generate(http: httpx.Client, account: Account, topic: str, n: int = 2, cover_title: str = "") -> str:
    body = [{**page, "content": f"{topic} 第{page['index'] + 1}页"} for page in pages(n)]
    body[0]["content"] = f"[封面]\n标题：{cover_title or topic}\n副标题：测试"
    r = http.post("/api/generate", json={"pages": body, "user_topic": topic}, headers=account.headers)
    assert r.status_code == 202, r.text
    task_id = r.json()["task_id"]
    read_stream(http, task_id, account)
    wait_status(http, account, task_id, "done")
    return str(task_id)


def search(http: httpx.Client, account: Account, **params: object) -> dict:
    r = http.get("/api/history", params=params, headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def posts(server) -> tuple[Account, dict[str, str]]:  # type: ignore[no-untyped-def]
    """One user's three posts, shared by the module's tests (each test leaves the others' expectations intact)."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        account = new_account(http, "historian")
        ids = {
            "tea": generate(http, account, "秋天的第一杯奶茶", cover_title="奶茶店隐藏菜单"),
            "camp": generate(http, account, "周末露营清单", n=3),
            "percent": generate(http, account, "100% 纯棉 T恤_怎么洗"),
        }
    return account, ids


def test_search_matches_topic_cover_title_and_rename(http: httpx.Client, posts) -> None:  # type: ignore[no-untyped-def]
    account, ids = posts
    assert [i["task_id"] for i in search(http, account, q="露营")["items"]] == [ids["camp"]]
    assert [i["task_id"] for i in search(http, account, q="隐藏菜单")["items"]] == [ids["tea"]]  # cover title
    assert search(http, account, q="  奶茶 ")["total"] == 1
    r = http.patch(f"/api/history/{ids['camp']}", json={"title": "山里的两天 Camping"}, headers=account.headers)
    assert r.status_code == 200 and r.json()["title"] == "山里的两天 Camping"
    found = search(http, account, q="camping")["items"]  # case-insensitive
    assert [i["task_id"] for i in found] == [ids["camp"]] and found[0]["title"] == "山里的两天 Camping"
    assert found[0]["renamed"] is True
    assert search(http, account, q="没有这个词")["items"] == []


def test_search_wildcards_are_literal(http: httpx.Client, posts) -> None:  # type: ignore[no-untyped-def]
    account, ids = posts
    assert [i["task_id"] for i in search(http, account, q="100%")["items"]] == [ids["percent"]]
    assert [i["task_id"] for i in search(http, account, q="T恤_")["items"]] == [ids["percent"]]
    assert search(http, account, q="%")["total"] == 1 and search(http, account, q="_")["total"] == 1


def test_the_title_is_the_copys_first_title_until_renamed(http: httpx.Client, posts) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    account, ids = posts
    item = next(i for i in search(http, account)["items"] if i["task_id"] == ids["tea"])
    copy = http.get(f"/api/generate/{ids['tea']}", headers=account.headers).json()["copy"]
    assert item["title"] == copy["titles"][0] and item["renamed"] is False
    http.patch(f"/api/history/{ids['tea']}", json={"title": "改个名"}, headers=account.headers)
    assert next(i for i in search(http, account)["items"] if i["task_id"] == ids["tea"])["title"] == "改个名"
    r = http.patch(f"/api/history/{ids['tea']}", json={"title": "   "}, headers=account.headers)
    assert r.status_code == 200 and r.json()["title"] is None  # blank: back to the automatic title
    assert next(i for i in search(http, account)["items"] if i["task_id"] == ids["tea"])["title"] == copy["titles"][0]


def test_status_filter_and_stats(http: httpx.Client, posts) -> None:  # type: ignore[no-untyped-def]
    account, ids = posts
    r = http.post("/api/outline", json={"topic": "只是一个大纲"}, headers=account.headers)
    read_stream(http, r.json()["task_id"], account)
    done = search(http, account, status="done")
    assert {i["task_id"] for i in done["items"]} >= set(ids.values())
    assert search(http, account, status="failed")["items"] == []
    assert done["stats"] == {"posts": 3, "pages": 7, "this_week": 3}  # outline tasks are not posts
    assert http.get("/api/history/stats", headers=account.headers).json() == done["stats"]
    combined = search(http, account, status="done", q="奶茶")
    assert [i["task_id"] for i in combined["items"]] == [ids["tea"]] and combined["total"] == 1


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "finished"}, "invalid_status"),
        ({"q": "长" * 101}, "query_too_long"),
        ({"q": "长" * 1001}, "validation_error"),
        ({"page": 0}, "validation_error"),
    ],
)
def test_bad_history_queries_are_422(http: httpx.Client, account: Account, params: dict, code: str) -> None:
    r = http.get("/api/history", params=params, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, code) and r.json()["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"title": "长" * 101}, "invalid_title"),
        ({"title": "两行\n标题"}, "invalid_title"),
        ({"title": 5}, "validation_error"),
        ({}, "validation_error"),
    ],
)
def test_bad_renames_are_422(http: httpx.Client, posts, body: dict, code: str) -> None:  # type: ignore[no-untyped-def]
    account, ids = posts
    r = http.patch(f"/api/history/{ids['tea']}", json=body, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, code), r.text


def test_rename_of_someone_elses_or_no_post_is_404(http: httpx.Client, posts) -> None:  # type: ignore[no-untyped-def]
    account, ids = posts
    stranger = new_account(http, "stranger")
    r = http.patch(f"/api/history/{ids['tea']}", json={"title": "mine now"}, headers=stranger.headers)
    assert (r.status_code, r.json()["code"]) == (404, "task_not_found")
    r = http.patch(f"/api/history/{'0' * 32}", json={"title": "x"}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (404, "task_not_found")
    assert search(http, stranger, q="奶茶")["total"] == 0  # search never crosses users
    r = http.patch(f"/api/history/{ids['tea']}", json={"title": "x"})
    assert (r.status_code, r.json()["code"]) == (401, "token_missing")
