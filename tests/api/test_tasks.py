"""Outline and generation tasks over HTTP: creation, limits, ownership, cancel, retry, history."""

from __future__ import annotations

import base64
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from PIL import Image

from tests.support.client import Account, new_account, pages, read_stream, start_generation, wait_status
from tests.support.db_access import run_sql
from tests.support.server import LiveServer


def _image_b64(fmt: str = "PNG", size: tuple[int, int] = (8, 8)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 80, 90)).save(buf, fmt)
    return base64.b64encode(buf.getvalue()).decode()


def test_outline_task_produces_pages(http: httpx.Client, account: Account) -> None:
    r = http.post("/api/outline", json={"topic": "秋天的第一杯奶茶怎么选", "images": [_image_b64()]},
                  headers=account.headers)
    assert r.status_code == 202
    task_id = r.json()["task_id"]
    status, got = read_stream(http, task_id, account)
    assert status == 200 and got.finished and got.events[-1][2]["success"] is True
    deadline = time.monotonic() + 10
    while (outline := http.get(f"/api/outline/{task_id}", headers=account.headers).json())["status"] != "done":
        assert time.monotonic() < deadline, "the status trails `finish` briefly, not for long"
        time.sleep(0.05)
    assert 6 <= len(outline["pages"]) <= 9
    assert outline["pages"][0]["type"] == "cover"
    assert outline["outline"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"topic": ""}, 422, "topic_required"),
        ({"topic": "   "}, 422, "topic_required"),
        ({"topic": "长" * 501}, 422, "topic_too_long"),
        ({}, 422, "validation_error"),
        ({"topic": 5}, 422, "validation_error"),
        ({"topic": "ok", "images": ["not base64!!"]}, 422, "invalid_image"),
        ({"topic": "ok", "images": [base64.b64encode(b"plain text, not an image").decode()]}, 422, "invalid_image"),
        ({"topic": "ok", "images": ["GIF"]}, 422, "unsupported_image_type"),
        ({"topic": "ok", "images": ["PNG"] * 6}, 422, "too_many_images"),
    ],
)
def test_outline_rejects_bad_input(http: httpx.Client, account: Account, body: dict, status: int, code: str) -> None:
    images = body.get("images")
    if images:
        body = {**body, "images": [_image_b64(x) if x in ("PNG", "GIF") else x for x in images]}
    r = http.post("/api/outline", json=body, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.json()["message"]


def test_truncated_png_is_refused(http: httpx.Client, account: Account) -> None:
    raw = base64.b64decode(_image_b64(size=(64, 64)))
    r = http.post("/api/outline", json={"topic": "x", "images": [base64.b64encode(raw[: len(raw) // 2]).decode()]},
                  headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_image")


def test_oversized_body_is_413(http: httpx.Client, account: Account) -> None:
    big = "A" * (26 * 1024 * 1024)
    r = http.post("/api/outline", content=b'{"topic": "' + big.encode() + b'"}',
                  headers={**account.headers, "content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")


def test_oversized_reference_image_is_413(http: httpx.Client, account: Account) -> None:
    huge = base64.b64encode(b"\x89PNG" + b"\0" * (5 * 1024 * 1024 + 10)).decode()
    r = http.post("/api/outline", json={"topic": "x", "images": [huge]}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (413, "image_too_large")


@pytest.mark.parametrize(
    ("page_list", "code"),
    [
        ([], "pages_required"),
        (pages(31), "too_many_pages"),
        ([{"index": 0, "type": "cover", "content": "a"}, {"index": 2, "type": "content", "content": "b"}],
         "invalid_page_index"),
        ([{"index": 0, "type": "poster", "content": "a"}], "invalid_page_type"),
        ([{"index": 0, "type": "cover", "content": "  "}], "invalid_page_content"),
        ([{"index": -1, "type": "cover", "content": "a"}], "validation_error"),
        ([{"type": "cover", "content": "a"}], "validation_error"),
    ],
)
def test_generate_rejects_bad_pages(http: httpx.Client, account: Account, page_list: list, code: str) -> None:
    r = http.post("/api/generate", json={"pages": page_list}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, code), r.text


def test_generate_requires_auth(http: httpx.Client) -> None:
    r = http.post("/api/generate", json={"pages": pages(1)})
    assert (r.status_code, r.json()["code"]) == (401, "token_missing")
    # The query-string token is for GET streams only: a POST must not accept it.
    r = http.post("/api/generate?access_token=x", json={"pages": pages(1)})
    assert (r.status_code, r.json()["code"]) == (401, "token_missing")


def test_idempotency_key_returns_the_same_task(http: httpx.Client, account: Account) -> None:
    headers = {**account.headers, "Idempotency-Key": "retry-me-123"}
    first = http.post("/api/generate", json={"pages": pages(2)}, headers=headers)
    second = http.post("/api/generate", json={"pages": pages(2)}, headers=headers)
    assert first.status_code == 202 and second.status_code == 200
    assert first.json()["task_id"] == second.json()["task_id"]
    bad = http.post("/api/generate", json={"pages": pages(2)},
                    headers={**account.headers, "Idempotency-Key": "has space"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_idempotency_key")


def test_concurrent_requests_with_one_idempotency_key_make_one_task(http: httpx.Client, account: Account) -> None:
    headers = {**account.headers, "Idempotency-Key": "double-click-42"}

    clients = [httpx.Client(base_url=str(http.base_url), timeout=30) for _ in range(12)]
    for c in clients:  # connected beforehand, so the requests leave together
        c.get("/api/health")
    start = threading.Barrier(len(clients))

    def submit(c: httpx.Client) -> httpx.Response:
        start.wait()
        return c.post("/api/generate", json={"pages": pages(2)}, headers=headers)

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(submit, clients))
    for c in clients:
        c.close()
    assert sorted(r.status_code for r in answers) == [200] * (len(clients) - 1) + [202]
    assert len({r.json()["task_id"] for r in answers}) == 1
    history = http.get("/api/history", headers=account.headers).json()
    assert history["total"] == 1


def test_status_shows_pages_and_signed_urls(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 3)
    read_stream(http, task_id, account)
    body = wait_status(http, account, task_id, "done")
    assert body["completed"] == 3 and body["failed"] == 0
    assert [p["index"] for p in body["images"]] == [0, 1, 2]
    for page in body["images"]:
        r = http.get(page["image_url"])
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(r.content)).size[1] > Image.open(io.BytesIO(r.content)).size[0]


def test_tasks_of_other_users_are_404_everywhere(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 1)
    read_stream(http, task_id, account)
    stranger = new_account(http, "stranger")
    for method, path in [("GET", f"/api/generate/{task_id}"), ("GET", f"/api/outline/{task_id}"),
                         ("POST", f"/api/generate/{task_id}/cancel"), ("POST", f"/api/generate/{task_id}/retry"),
                         ("DELETE", f"/api/history/{task_id}")]:
        r = http.request(method, path, headers=stranger.headers)
        assert (r.status_code, r.json()["code"]) == (404, "task_not_found"), path
    assert http.get("/api/history", headers=stranger.headers).json()["total"] == 0


def test_outline_endpoint_does_not_show_generation_tasks(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 1)
    r = http.get(f"/api/outline/{task_id}", headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (404, "task_not_found")


def test_cancel_running_task_then_conflict(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(offline_delay=0.5, page_concurrency=1, worker_concurrency=1).start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 10)
        r = http.post(f"/api/generate/{task_id}/cancel", headers=account.headers)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        status, got = read_stream(http, task_id, account)
        assert got.finished and got.events[-1][2]["cancelled"] is True
        r = http.post(f"/api/generate/{task_id}/cancel", headers=account.headers)
        assert (r.status_code, r.json()["code"]) == (409, "task_conflict")
        assert http.get(f"/api/generate/{task_id}", headers=account.headers).json()["completed"] < 10


def test_running_task_limit_per_user(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(offline_delay=2, max_running_tasks_per_user=2).start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        start_generation(http, account, 1)
        start_generation(http, account, 1)
        r = http.post("/api/generate", json={"pages": pages(1)}, headers=account.headers)
        assert (r.status_code, r.json()["code"]) == (429, "too_many_tasks")
        assert r.headers["Retry-After"]
        other = new_account(http)  # the limit is per user
        assert http.post("/api/generate", json={"pages": pages(1)}, headers=other.headers).status_code == 202


def test_regenerate_and_retry(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 2)
    _, got = read_stream(http, task_id, account)
    wait_status(http, account, task_id, "done")
    r = http.post(f"/api/generate/{task_id}/retry", headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (409, "task_conflict")  # nothing failed
    r = http.post(f"/api/generate/{task_id}/regenerate", json={"index": 5}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_page_index")
    r = http.post(f"/api/generate/{task_id}/regenerate", json={"index": 1}, headers=account.headers)
    assert r.status_code == 202
    _, more = read_stream(http, task_id, account, after=got.last_id)
    assert more.ids[0] == got.last_id + 1
    assert [e[1] for e in more.events] == ["retry", "progress", "complete", "finish"]
    assert more.events[0][2]["indexes"] == [1] and more.events[2][2]["index"] == 1


def test_a_client_acting_on_finish_at_once_is_not_told_the_task_runs(
    server: LiveServer, http: httpx.Client, account: Account
) -> None:
    """`finish` is logged before the status changes; a client that regenerates the moment it reads `finish` lands
    in between (seen once in CI). Hold the task in that window — finish logged, status still running — and act."""
    task_id = start_generation(http, account, 2)
    read_stream(http, task_id, account)
    wait_status(http, account, task_id, "done")
    run_sql(server, f"UPDATE tasks SET status = 'running' WHERE id = '{task_id}'",
            f"UPDATE tasks SET status = 'running' WHERE id = '{task_id}'")
    assert http.get(f"/api/generate/{task_id}", headers=account.headers).json()["status"] == "done"
    run_sql(server, f"UPDATE tasks SET status = 'running' WHERE id = '{task_id}'",
            f"UPDATE tasks SET status = 'running' WHERE id = '{task_id}'")
    r = http.post(f"/api/generate/{task_id}/regenerate", json={"index": 0}, headers=account.headers)
    assert r.status_code == 202, r.text
    wait_status(http, account, task_id, "done")
    run_sql(server, f"UPDATE tasks SET status = 'running' WHERE id = '{task_id}'",
            f"UPDATE tasks SET status = 'running' WHERE id = '{task_id}'")
    r = http.post(f"/api/generate/{task_id}/copy/regenerate", headers=account.headers)
    assert r.status_code == 202, r.text


def test_history_lists_own_tasks_newest_first_and_delete(http: httpx.Client) -> None:
    account = new_account(http, "historian")
    ids = [start_generation(http, account, 1) for _ in range(3)]
    for task_id in ids:
        read_stream(http, task_id, account)
    r = http.get("/api/history", params={"page_size": 2}, headers=account.headers).json()
    assert r["total"] == 3 and [i["task_id"] for i in r["items"]] == ids[::-1][:2]
    assert r["items"][0]["cover_url"]
    r = http.get("/api/history", params={"page": 2, "page_size": 2}, headers=account.headers).json()
    assert [i["task_id"] for i in r["items"]] == [ids[0]]
    for bad in ({"page": 0}, {"page_size": 1000}, {"page": "x"}):
        r = http.get("/api/history", params=bad, headers=account.headers)
        assert (r.status_code, r.json()["code"]) == (422, "validation_error")
    assert http.delete(f"/api/history/{ids[0]}", headers=account.headers).status_code == 204
    assert http.get(f"/api/generate/{ids[0]}", headers=account.headers).status_code == 404
    assert http.get("/api/history", headers=account.headers).json()["total"] == 2
