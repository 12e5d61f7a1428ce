"""Small helpers the tests use to talk to a live server: accounts, tasks and reading the SSE stream."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import connect_sse


@dataclass
class Account:
    username: str
    password: str
    access_token: str = ""
    refresh_token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def new_account(http: httpx.Client, prefix: str = "user") -> Account:
    account = Account(f"{prefix}_{uuid.uuid4().hex[:8]}", "correct horse battery")
    r = http.post("/api/auth/register", json={"username": account.username, "password": account.password})
    assert r.status_code == 201, r.text
    login(http, account)
    return account


def login(http: httpx.Client, account: Account) -> None:
    r = http.post("/api/auth/login", json={"username": account.username, "password": account.password})
    assert r.status_code == 200, r.text
    account.access_token, account.refresh_token = r.json()["access_token"], r.json()["refresh_token"]


def refresh(http: httpx.Client, account: Account) -> None:
    r = http.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert r.status_code == 200, r.text
    account.access_token, account.refresh_token = r.json()["access_token"], r.json()["refresh_token"]


def pages(n: int) -> list[dict[str, Any]]:
    kinds = ["cover"] + ["content"] * max(0, n - 2) + (["summary"] if n > 1 else [])
    return [{"index": i, "type": kinds[i], "content": f"第{i + 1}页：秋天的第一杯奶茶 ✨ page {i}"} for i in range(n)]


def start_generation(http: httpx.Client, account: Account, n: int, **extra: Any) -> str:
    r = http.post("/api/generate", json={"pages": pages(n), "user_topic": "秋天的第一杯奶茶", **extra},
                  headers=account.headers)
    assert r.status_code == 202, r.text
    return str(r.json()["task_id"])


def wait_status(http: httpx.Client, account: Account, task_id: str, *statuses: str, timeout: float = 30) -> dict:
    """Poll the task until its status is one of `statuses` (the status may trail the `finish` event briefly)."""
    deadline = time.monotonic() + timeout
    while True:
        body = http.get(f"/api/generate/{task_id}", headers=account.headers).json()
        if body["status"] in statuses:
            return body
        assert time.monotonic() < deadline, f"task stayed {body['status']}"
        time.sleep(0.05)


@dataclass
class Received:
    events: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    heartbeats: int = 0
    retry: int | None = None

    @property
    def ids(self) -> list[int]:
        return [e[0] for e in self.events]

    @property
    def last_id(self) -> int:
        return self.events[-1][0] if self.events else 0

    @property
    def finished(self) -> bool:
        return bool(self.events) and self.events[-1][1] == "finish"


def read_stream(http: httpx.Client, task_id: str, account: Account, *, after: int | None = None,
                max_events: int | None = None, until_finish: bool = True, timeout: float = 60.0,
                received: Received | None = None) -> tuple[int, Received]:
    """Read the stream (Bearer auth) until finish, `max_events` events, or the server closes it.
    Returns the HTTP status and what arrived (appended to `received` when given)."""
    received = received or Received()
    headers = dict(account.headers)
    if after is not None:
        headers["Last-Event-ID"] = str(after)
    deadline = time.monotonic() + timeout
    count = 0
    with connect_sse(http, "GET", f"/api/generate/stream/{task_id}", headers=headers, timeout=timeout) as source:
        status = source.response.status_code
        if status != 200:
            source.response.read()
            return status, received
        for sse in source.iter_sse():
            if sse.retry is not None:
                received.retry = sse.retry
            if sse.event == "heartbeat":
                received.heartbeats += 1
            elif sse.id:
                received.events.append((int(sse.id), sse.event, json.loads(sse.data)))
                count += 1
                if max_events is not None and count >= max_events:
                    break
                if sse.event == "finish" and until_finish:
                    break
            assert time.monotonic() < deadline, "stream took too long"
    return status, received


REVOCATION_DEADLINE = 5.0  # the promise: a revoked session is refused on every node within 5 s


def refused_within(http: httpx.Client, account: Account, status: int, code: str) -> float:
    """Seconds until the account's access token is refused with (status, code); fails past the deadline."""
    started = time.monotonic()
    while True:
        r = http.get("/api/auth/me", headers=account.headers)
        if r.status_code == status:
            assert r.json()["code"] == code, r.text
            return time.monotonic() - started
        assert r.status_code == 200, r.text
        assert time.monotonic() - started < REVOCATION_DEADLINE, "still accepted after 5 s"
        time.sleep(0.1)
