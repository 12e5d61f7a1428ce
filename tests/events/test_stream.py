"""The SSE stream: framing, resume from any id, 204 after finish, heartbeats and typed failures."""

from __future__ import annotations

import time

import httpx
import pytest

from inkstream.events.log import StoredEvent
from inkstream.events.stream import FrameCache
from tests.support.client import Account, new_account, read_stream, refresh, start_generation
from tests.support.server import Process


@pytest.fixture(scope="module")
def finished_task(server) -> tuple[Account, str, list[tuple[int, str, dict]]]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        account = new_account(http, "owner")
        task_id = start_generation(http, account, 4)
        status, got = read_stream(http, task_id, account)
        assert status == 200 and got.finished
        return account, task_id, got.events


def test_stream_sends_retry_first_and_ids_in_order(http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 3)
    with http.stream("GET", f"/api/generate/stream/{task_id}", headers=account.headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        first = next(r.iter_text())
        assert first.startswith(": inkstream") and "retry: 3000" in first
    status, got = read_stream(http, task_id, account)
    assert got.ids == list(range(1, len(got.ids) + 1))
    names = [e[1] for e in got.events]
    assert names.count("progress") == 3 and names.count("complete") == 3 and names[-1] == "finish"
    finish = got.events[-1][2]
    assert finish["success"] is True and finish["total"] == 3 and finish["completed"] == 3 and finish["failed"] == 0
    assert len(finish["images"]) == 3
    for _, name, data in got.events:
        if name == "progress":
            assert set(data) >= {"index", "status", "current", "total"} and data["status"] == "generating"
        if name == "complete":
            assert data["status"] == "done" and data["image_url"].startswith(f"/api/images/{task_id}/")


def test_resume_from_every_event_id_gives_exactly_the_rest(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, events = finished_task
    last = events[-1][0]
    for after in range(0, last):
        status, got = read_stream(http, task_id, account, after=after)
        assert status == 200
        assert got.ids == [e[0] for e in events if e[0] > after], f"resume after {after}"
        assert [e[1] for e in got.events] == [e[1] for e in events if e[0] > after]


def test_resume_with_query_parameter(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, events = finished_task
    r = http.get(f"/api/generate/stream/{task_id}?last_event_id=2", headers=account.headers)
    assert r.status_code == 200
    ids = [int(line[4:]) for line in r.text.splitlines() if line.startswith("id: ")]
    assert ids == [e[0] for e in events if e[0] > 2]


def test_resume_after_finish_returns_204(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, events = finished_task
    status, got = read_stream(http, task_id, account, after=events[-1][0])
    assert status == 204 and got.events == []


def test_last_event_id_ahead_or_malformed_is_422(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, events = finished_task
    for bad in ("abc", "-1", "1.5", str(10**30)):
        r = http.get(f"/api/generate/stream/{task_id}", headers={**account.headers, "Last-Event-ID": bad})
        assert (r.status_code, r.json()["code"]) == (422, "invalid_last_event_id"), bad


def test_malformed_task_id_is_422(http: httpx.Client, account: Account) -> None:
    for bad in ("xyz", "../../etc/passwd", "A" * 32):
        r = http.get(f"/api/generate/stream/{bad}", headers=account.headers)
        assert r.status_code in (404, 422), bad
        assert r.json()["code"] in ("validation_error", "not_found")
    r = http.get("/api/generate/stream/" + "g" * 32, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


def test_unknown_task_and_other_users_task_are_both_404(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    _, task_id, _ = finished_task
    stranger = new_account(http, "stranger")
    for tid in (task_id, "0" * 32):
        r = http.get(f"/api/generate/stream/{tid}", headers=stranger.headers)
        assert (r.status_code, r.json()["code"]) == (404, "task_not_found")
        r = http.post(f"/api/generate/{tid}/stream-ticket", headers=stranger.headers)
        assert (r.status_code, r.json()["code"]) == (404, "task_not_found")


def test_stream_auth_failures_are_typed_401(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, _ = finished_task
    url = f"/api/generate/stream/{task_id}"
    r = http.get(url)
    assert (r.status_code, r.json()["code"]) == (401, "token_missing")
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = http.get(url, headers={"Authorization": "Bearer garbage"})
    assert (r.status_code, r.json()["code"]) == (401, "token_invalid")
    r = http.get(url, params={"ticket": "garbage"})
    assert (r.status_code, r.json()["code"]) == (401, "ticket_invalid")


def test_stream_ticket_opens_only_its_task(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, events = finished_task
    r = http.post(f"/api/generate/{task_id}/stream-ticket", headers=account.headers)
    assert r.status_code == 200 and 0 < r.json()["expires_in"] <= 60
    ticket = r.json()["ticket"]
    r = http.get(f"/api/generate/stream/{task_id}", params={"ticket": ticket, "last_event_id": 1})
    assert r.status_code == 200
    assert "event: finish" in r.text
    other = start_generation(http, account, 1)
    r = http.get(f"/api/generate/stream/{other}", params={"ticket": ticket})
    assert (r.status_code, r.json()["code"]) == (401, "ticket_invalid")
    # The ticket is not an access token.
    r = http.get("/api/auth/me", headers={"Authorization": f"Bearer {ticket}"})
    assert (r.status_code, r.json()["code"]) == (401, "token_invalid")


def test_legacy_access_token_query_parameter_is_accepted(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, _ = finished_task
    r = http.get(f"/api/generate/stream/{task_id}", params={"access_token": account.access_token})
    assert r.status_code == 200 and "event: finish" in r.text


def test_unusual_opens_get_the_declared_routes_answers(finished_task, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    """Ordinary opens are answered before FastAPI routes them (api/stream_opens.py); every other shape goes down the
    full stack and gets the answer the declared route and its middleware give."""
    account, task_id, events = finished_task
    url = f"/api/generate/stream/{task_id}"
    for params, headers in (({"last_event_id": "1" * 33}, {}), ({}, {"Last-Event-ID": "1" * 33}),
                            ({"ticket": "t" * 2049}, {})):
        r = http.get(url, params=params, headers={**account.headers, **headers})
        assert (r.status_code, r.json()["code"]) == (422, "validation_error"), (params, headers)
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
    r = http.get(url + "?last_event_id=1%00", headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, "validation_error") and "NUL" in r.json()["message"]
    r = http.head(url, headers=account.headers)
    assert r.status_code == 405
    # A repeated parameter: the route takes the last one, as it always did.
    r = http.get(url + f"?last_event_id=abc&last_event_id={events[-2][0]}", headers=account.headers)
    assert r.status_code == 200 and r.text.count("id: ") == 1 and "event: finish" in r.text
    # The ordinary shape, for contrast: the same refusals, typed, with the same headers.
    r = http.get(url, params={"last_event_id": "abc"}, headers=account.headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_last_event_id")
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    r = http.get(url, headers={**account.headers, "Last-Event-ID": str(events[-2][0])})
    assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-type"].startswith("text/event-stream") and r.text.count("id: ") == 1


def test_a_new_task_streams_queued_first_even_before_any_worker_takes_it(make_server, mode: str) -> None:  # type: ignore[no-untyped-def]
    """`queued` is appended when the task is accepted: a stream opened at once has an event, however busy (here, in
    the distributed mode, absent) the workers are; the task then runs once a worker comes."""
    live = make_server(workers=0, heartbeat_interval=1).start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 2)
        status, got = read_stream(http, task_id, account, max_events=1, timeout=10)
        assert status == 200
        assert got.events == [(1, "queued", {"task_id": task_id, "kind": "generate", "total": 2, "round": 1})]
        if mode == "distributed":  # no worker yet: the stream stays open on heartbeats, the task in line
            names = []
            with http.stream("GET", f"/api/generate/stream/{task_id}",
                             headers={**account.headers, "Last-Event-ID": "1"}) as response:
                assert response.status_code == 200
                until = time.monotonic() + 3
                for line in response.iter_lines():  # heartbeats every second end each wait
                    if line.startswith("event:"):
                        names.append(line.removeprefix("event:").strip())
                    if time.monotonic() > until:
                        break
            assert names and set(names) == {"heartbeat"}
            assert http.get(f"/api/generate/{task_id}", headers=account.headers).json()["status"] == "queued"
            worker = Process(["worker"], live.env(), live.data_dir / "late-worker.log")
            live.workers.append(worker)  # stopped with the server
            worker.start()
        status, got = read_stream(http, task_id, account, after=1, received=got)
        assert got.finished and got.ids == list(range(1, got.last_id + 1))


def test_idle_stream_sends_heartbeats_without_ids(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(heartbeat_interval=0.3, offline_delay=3).start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 1)
        with http.stream("GET", f"/api/generate/stream/{task_id}", headers=account.headers) as r:
            text = ""
            for chunk in r.iter_text():
                text += chunk
                if "event: finish" in text:
                    break
        blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if "event: heartbeat" in b]
        assert len(blocks) >= 2, text
        assert all("id:" not in b and '"ts":' in b for b in blocks)


def test_stream_survives_token_expiry_and_resumes_exactly_once(make_server) -> None:  # type: ignore[no-untyped-def]
    """A 20-page task outlives a 2 s access token: the open stream keeps going; each reconnect refreshes first;
    every event arrives exactly once, in order."""
    live = make_server(access_token_ttl=2, offline_delay=0.25, page_concurrency=2, worker_concurrency=2).start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 20)
        # One long-lived connection outlives the token...
        status, got = read_stream(http, task_id, account, max_events=12)
        assert status == 200
        time.sleep(2.2)
        # ...and a reconnect with the expired token is told so, precisely.
        status, _ = read_stream(http, task_id, account, after=got.last_id)
        assert status == 401
        while not got.finished:
            refresh(http, account)
            status, got = read_stream(http, task_id, account, after=got.last_id, max_events=7, received=got)
            assert status == 200
            time.sleep(0.8)
        assert got.ids == list(range(1, got.last_id + 1))
        completes = sorted(e[2]["index"] for e in got.events if e[1] == "complete")
        assert completes == list(range(20))
        assert got.events[-1][2]["completed"] == 20


def test_open_stream_outlives_its_token(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(access_token_ttl=1, offline_delay=0.5, page_concurrency=1, worker_concurrency=1).start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 5)
        started = time.monotonic()
        status, got = read_stream(http, task_id, account)
        assert status == 200 and got.finished
        assert time.monotonic() - started > 2  # the token died mid-stream; the stream did not
        assert http.get("/api/auth/me", headers=account.headers).status_code == 401


def test_frame_cache_encodes_each_event_once_per_viewer_and_again_once_old() -> None:
    presented: list[tuple[int, int]] = []

    def present_for(viewer: int):  # type: ignore[no-untyped-def]
        def present(stored: StoredEvent) -> dict:  # type: ignore[type-arg]
            presented.append((stored.id, viewer))
            return {"n": stored.id, "for": viewer}
        return present

    cache = FrameCache(max_frames=8, max_age=0.3)
    event = StoredEvent(7, "progress", {})
    first = cache.frame("t", 1, event, present_for(1))
    assert cache.frame("t", 1, event, present_for(1)) is first and presented == [(7, 1)]
    assert first.replace(b"\r\n", b"\n") == b'id: 7\nevent: progress\ndata: {"n":7,"for":1}\n\n'
    assert b'"for":2' in cache.frame("t", 2, event, present_for(2))  # another viewer: its own view
    time.sleep(0.35)
    cache.frame("t", 1, event, present_for(1))
    assert presented == [(7, 1), (7, 2), (7, 1)]
