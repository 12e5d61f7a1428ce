"""Every user's sessions: list, revoke one, log out everywhere, change password — and revocation that reaches
open streams: a final typed `error` event within 5 s, then the stream ends."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from httpx_sse import connect_sse

from tests.support.client import REVOCATION_DEADLINE, Account, login, refused_within, start_generation


def second_session(http: httpx.Client, account: Account) -> Account:
    other = Account(account.username, account.password)
    login(http, other)
    return other


def test_list_and_revoke_one_session(http: httpx.Client, account: Account) -> None:
    other = second_session(http, account)
    listed = http.get("/api/auth/sessions", headers=account.headers).json()["items"]
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    assert all(s["ip"] == "127.0.0.1" and s["user_agent"].startswith("python-httpx") for s in listed)
    theirs = next(s["id"] for s in listed if not s["current"])
    assert http.delete(f"/api/auth/sessions/{theirs}", headers=account.headers).status_code == 204
    refused_within(http, other, 401, "session_revoked")
    r = http.post("/api/auth/refresh", json={"refresh_token": other.refresh_token})
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"
    assert http.get("/api/auth/me", headers=account.headers).status_code == 200
    again = http.delete(f"/api/auth/sessions/{theirs}", headers=account.headers)
    assert again.status_code == 404 and again.json()["code"] == "session_not_found"
    assert http.delete("/api/auth/sessions/nothex", headers=account.headers).status_code == 422
    assert http.get("/api/auth/sessions").status_code == 401


def test_another_users_session_cannot_be_revoked(http: httpx.Client, account: Account) -> None:
    from tests.support.client import new_account

    stranger = new_account(http)
    theirs = http.get("/api/auth/sessions", headers=stranger.headers).json()["items"][0]["id"]
    r = http.delete(f"/api/auth/sessions/{theirs}", headers=account.headers)
    assert r.status_code == 404
    assert http.get("/api/auth/me", headers=stranger.headers).status_code == 200


def test_logout_everywhere(http: httpx.Client, account: Account) -> None:
    other = second_session(http, account)
    assert http.post("/api/auth/logout-all", headers=account.headers).status_code == 204
    refused_within(http, account, 401, "session_revoked")
    refused_within(http, other, 401, "session_revoked")
    assert http.post("/api/auth/logout-all").status_code == 401
    login(http, account)
    assert len(http.get("/api/auth/sessions", headers=account.headers).json()["items"]) == 1


def test_change_password_ends_the_other_sessions(http: httpx.Client, account: Account) -> None:
    other = second_session(http, account)
    wrong = http.post("/api/auth/password", headers=account.headers,
                      json={"current_password": "not it at all", "new_password": "new password 1"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    weak = http.post("/api/auth/password", headers=account.headers,
                     json={"current_password": account.password, "new_password": "short"})
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    ok = http.post("/api/auth/password", headers=account.headers,
                   json={"current_password": account.password, "new_password": "new password 1"})
    assert ok.status_code == 204
    refused_within(http, other, 401, "session_revoked")
    assert http.get("/api/auth/me", headers=account.headers).status_code == 200  # this session goes on
    account.password = "new password 1"
    login(http, account)


class StreamReader(threading.Thread):
    """Reads a task's stream in the background, recording events with their arrival times."""

    def __init__(self, base_url: str, task_id: str, account: Account) -> None:
        super().__init__(daemon=True)
        self.url = f"{base_url}/api/generate/stream/{task_id}"
        self.headers = dict(account.headers)
        self.events: list[tuple[float, str, dict[str, Any] | None]] = []
        self.ended_at: float | None = None

    def run(self) -> None:
        with httpx.Client(timeout=60) as client, connect_sse(client, "GET", self.url, headers=self.headers) as src:
            for sse in src.iter_sse():
                data = json.loads(sse.data) if sse.data else None
                self.events.append((time.monotonic(), sse.event, data))
        self.ended_at = time.monotonic()


def test_logout_all_cuts_open_streams_with_a_typed_event(make_server: Any) -> None:
    # Default heartbeat (15 s): the cut must not wait for one. 2 s per page: the task is still running.
    server = make_server(offline_delay=2).start()
    http = httpx.Client(base_url=server.url, timeout=30)
    from tests.support.client import new_account

    account = new_account(http)
    task_id = start_generation(http, account, 12)
    reader = StreamReader(server.url, task_id, account)
    reader.start()
    deadline = time.monotonic() + 10
    while not reader.events:
        assert time.monotonic() < deadline, "stream never delivered anything"
        time.sleep(0.05)
    revoked_at = time.monotonic()
    assert http.post("/api/auth/logout-all", headers=account.headers).status_code == 204
    reader.join(REVOCATION_DEADLINE + 5)
    assert reader.ended_at is not None, "the stream stayed open"
    last = reader.events[-1]
    assert last[1] == "error" and last[2] is not None
    assert last[2]["code"] == "session_revoked" and last[2]["fatal"] is True and "index" not in last[2]
    delay = last[0] - revoked_at
    print(f"stream cut {delay:.2f}s after logout-all")
    assert delay < REVOCATION_DEADLINE
    again = http.get(f"/api/generate/stream/{task_id}", headers=account.headers)
    assert again.status_code == 401 and again.json()["code"] == "session_revoked"


def test_revocation_reaches_every_api_node(server: Any, account: Account, tmp_path: Any) -> None:
    """Two API nodes on one database: a session revoked through one is refused by the other within 5 s."""
    from tests.support.server import LiveServer

    if server.backend is None:
        pytest.skip("one embedded process is one node; the distributed parametrisation runs this test")
    # Same data dir: the nodes share the secret key file, as nodes of one deployment share INKSTREAM_SECRET_KEY.
    other_node = LiveServer(server.data_dir, backend=server.backend, workers=0, heartbeat_interval=1).start()
    try:
        with httpx.Client(base_url=other_node.url, timeout=30) as node_b, \
                httpx.Client(base_url=server.url, timeout=30) as node_a:
            assert node_b.get("/api/auth/me", headers=account.headers).status_code == 200
            assert node_a.post("/api/auth/logout-all", headers=account.headers).status_code == 204
            took = refused_within(node_b, account, 401, "session_revoked")
            print(f"node B refused the revoked session after {took:.2f}s")
    finally:
        other_node.stop()

