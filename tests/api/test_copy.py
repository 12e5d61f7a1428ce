"""The post copy of a generation task over HTTP: written beside the pages, streamed, regenerated, edited."""

from __future__ import annotations

import httpx
import pytest

from inkstream.generators.copy_format import validate_copy
from tests.support.client import Account, new_account, read_stream, start_generation, wait_status

EDIT = {
    "titles": ["我的周末露营记", "露营新手看这篇", "第一次露营就爱上"],
    "body": "这是我自己改过的正文。" * 25,
    "tags": ["露营", "周末", "户外", "新手", "治愈"],
}


def test_generation_streams_and_stores_the_copy(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 3)
    status, got = read_stream(http, task_id, account)
    assert status == 200 and got.finished
    names = [e[1] for e in got.events]
    assert "copy_delta" in names and names.index("copy") < names.index("finish")
    streamed = "".join(e[2]["text"] for e in got.events if e[1] == "copy_delta")
    (copy_event,) = [e[2] for e in got.events if e[1] == "copy"]
    assert copy_event["body"] in streamed and all(t in streamed for t in copy_event["titles"])
    validate_copy(copy_event, require_emoji=True)
    assert got.events[-1][2]["copy"] == "done"
    view = wait_status(http, account, task_id, "done")
    assert view["copy_status"] == "done" and view["copy_edited"] is False
    assert view["copy"] == {k: copy_event[k] for k in ("titles", "body", "tags")}
    assert "奶茶" in view["copy"]["body"]  # the offline writer used the topic's keyword


def test_regenerate_copy_runs_a_copy_only_round(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 2)
    _, first = read_stream(http, task_id, account)
    wait_status(http, account, task_id, "done")
    r = http.post(f"/api/generate/{task_id}/copy/regenerate", headers=account.headers)
    assert r.status_code == 202, r.text
    status, more = read_stream(http, task_id, account, after=first.last_id)
    assert status == 200 and more.finished
    names = [e[1] for e in more.events]
    assert names[0] == "retry" and more.events[0][2]["copy"] is True and more.events[0][2]["indexes"] == []
    assert "copy" in names and not {"progress", "complete"} & set(names)  # no page was drawn again
    view = wait_status(http, account, task_id, "done")
    assert view["copy_status"] == "done" and view["completed"] == 2


def test_regenerate_copy_of_a_running_task_is_a_conflict(make_server, http: httpx.Client) -> None:  # noqa: ANN001
    slow = make_server(offline_delay=1.5).start()
    with httpx.Client(base_url=slow.url, timeout=30) as client:
        account = new_account(client)
        task_id = start_generation(client, account, 2)
        r = client.post(f"/api/generate/{task_id}/copy/regenerate", headers=account.headers)
        assert (r.status_code, r.json()["code"]) == (409, "task_conflict")
        r = client.put(f"/api/generate/{task_id}/copy", json=EDIT, headers=account.headers)
        assert (r.status_code, r.json()["code"]) == (409, "task_conflict")  # the copy is still being written


def test_edit_copy_is_validated_and_saved(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 1)
    read_stream(http, task_id, account)
    wait_status(http, account, task_id, "done")
    r = http.put(f"/api/generate/{task_id}/copy", json={**EDIT, "tags": ["#露营", *EDIT["tags"][1:]]},
                 headers=account.headers)
    assert r.status_code == 200, r.text
    assert r.json()["copy"]["tags"][0] == "露营" and r.json()["copy_edited"] is True
    view = http.get(f"/api/generate/{task_id}", headers=account.headers).json()
    assert view["copy"]["titles"] == EDIT["titles"] and view["copy_edited"] is True


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"titles": ["一", "二"]}, "copy_titles_invalid"),
        ({"titles": ["一", "二", "这是一个明显超过二十个字的标题，小红书不允许"]}, "copy_title_too_long"),
        ({"body": "太短"}, "copy_body_length"),
        ({"body": "长" * 801}, "copy_body_length"),
        ({"body": "**加粗**" + "正文" * 120}, "copy_body_markdown"),
        ({"tags": ["一", "二"]}, "copy_tags_invalid"),
        ({"tags": ["有 空格", "b", "c", "d", "e"]}, "copy_tags_invalid"),
        ({"titles": "not a list"}, "validation_error"),
        ({"body": None}, "validation_error"),
    ],
)
def test_edit_copy_rejects_broken_rules(http: httpx.Client, account: Account, change: dict, code: str) -> None:
    task_id = start_generation(http, account, 1)
    read_stream(http, task_id, account)
    r = http.put(f"/api/generate/{task_id}/copy", json={**EDIT, **change}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, code), r.text
    assert r.json()["message"]


def test_copy_of_another_users_task_is_not_found(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 1)
    other = new_account(http)
    for method, path, body in (("POST", "copy/regenerate", None), ("PUT", "copy", EDIT)):
        r = http.request(method, f"/api/generate/{task_id}/{path}", json=body, headers=other.headers)
        assert (r.status_code, r.json()["code"]) == (404, "task_not_found")
    r = http.put("/api/generate/nothex/copy", json=EDIT, headers=account.headers)
    assert r.status_code == 422
    r = http.put(f"/api/generate/{task_id}/copy", json=EDIT)
    assert (r.status_code, r.json()["code"]) == (401, "token_missing")


def test_a_cancelled_tasks_unwritten_copy_can_be_written_by_hand(make_server) -> None:  # noqa: ANN001
    slow = make_server(offline_delay=2).start()
    with httpx.Client(base_url=slow.url, timeout=30) as client:
        account = new_account(client)
        task_id = start_generation(client, account, 2)
        assert client.post(f"/api/generate/{task_id}/cancel", headers=account.headers).status_code == 200
        view = wait_status(client, account, task_id, "cancelled")
        assert view["copy_status"] == "pending" and view["copy"] is None
        r = client.put(f"/api/generate/{task_id}/copy", json=EDIT, headers=account.headers)
        assert r.status_code == 200 and r.json()["copy_status"] == "done"
