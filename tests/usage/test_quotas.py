"""Daily page quotas per role: at the limit, past it (429 quota_exceeded + Retry-After), pages in flight counted,
the daily reset, an admin's per-user override, admins unlimited — in both modes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import module_server
from tests.support.client import Account, login, new_account, start_generation, wait_status
from tests.support.db_access import run_sql
from tests.support.server import LiveServer

ADMIN = Account("quota_admin", "admin password 123")


@pytest.fixture(scope="module")
def server(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from module_server(mode, tmp_path_factory, "quota", max_running_tasks_per_user=50,
                             daily_page_quota=json.dumps({"user": 5, "pro": 12}), admin_username=ADMIN.username,
                             admin_password=ADMIN.password)


@pytest.fixture
def admin(http: httpx.Client) -> Account:
    account = Account(ADMIN.username, ADMIN.password)
    login(http, account)
    return account


def usage(http: httpx.Client, account: Account) -> dict:
    r = http.get("/api/usage/me", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()


def refused(r: httpx.Response, remaining: int) -> None:
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "quota_exceeded" and r.json()["remaining"] == remaining
    assert 0 < int(r.headers["Retry-After"]) <= 86_400


def generate(http: httpx.Client, account: Account, n: int) -> httpx.Response:
    from tests.support.client import pages

    return http.post("/api/generate", json={"pages": pages(n), "user_topic": "秋天的第一杯奶茶"},
                     headers=account.headers)


def test_at_the_limit_past_it_and_in_flight(http: httpx.Client, account: Account) -> None:
    assert usage(http, account)["remaining"] == 5 and usage(http, account)["quota"] == 5
    first = start_generation(http, account, 3)
    refused(generate(http, account, 3), remaining=2)  # 3 in flight or done: 2 left, whichever it is now
    second = start_generation(http, account, 2)  # exactly at the limit
    for task_id in (first, second):
        wait_status(http, account, task_id, "done")
    status = usage(http, account)
    assert status["used_today"] == 5 and status["remaining"] == 0 and status["in_flight"] == 0
    refused(generate(http, account, 1), remaining=0)
    regen = http.post(f"/api/generate/{first}/regenerate", json={"index": 0}, headers=account.headers)
    refused(regen, remaining=0)
    outline = http.post("/api/outline", json={"topic": "周末露营"}, headers=account.headers)
    assert outline.status_code == 202  # outlines are not pages


def test_the_quota_resets_the_next_day(http: httpx.Client, account: Account, server: LiveServer) -> None:
    task_id = start_generation(http, account, 5)
    wait_status(http, account, task_id, "done")
    refused(generate(http, account, 1), remaining=0)
    run_sql(server, "UPDATE usage_events SET created_at = datetime(created_at, '-1 day')",
            "UPDATE usage_events SET created_at = created_at - interval '1 day'")
    assert usage(http, account)["remaining"] == 5
    assert generate(http, account, 5).status_code == 202


def test_an_admin_override_and_roles(http: httpx.Client, account: Account, admin: Account) -> None:
    uid = http.get("/api/auth/me", headers=account.headers).json()["id"]
    task_id = start_generation(http, account, 5)
    wait_status(http, account, task_id, "done")
    r = http.put(f"/api/admin/users/{uid}", headers=admin.headers, json={"daily_page_quota": 8})
    assert r.status_code == 200 and r.json()["daily_page_quota"] == 8
    assert usage(http, account)["remaining"] == 3
    refused(generate(http, account, 4), remaining=3)
    assert generate(http, account, 3).status_code == 202
    assert http.put(f"/api/admin/users/{uid}", headers=admin.headers,
                    json={"daily_page_quota": None}).json()["daily_page_quota"] is None
    assert usage(http, account)["quota"] == 5
    bad = http.put(f"/api/admin/users/{uid}", headers=admin.headers, json={"daily_page_quota": -1})
    assert bad.status_code == 422

    pro = Account(f"pro_{uuid.uuid4().hex[:8]}", "long enough 1")
    http.post("/api/admin/users", headers=admin.headers,
              json={"username": pro.username, "password": pro.password, "role": "pro"})
    login(http, pro)
    assert usage(http, pro)["quota"] == 12
    assert usage(http, admin)["quota"] is None  # admins: unlimited unless set
    assert generate(http, admin, 7).status_code == 202


def test_usage_needs_a_login(http: httpx.Client) -> None:
    assert http.get("/api/usage/me").status_code == 401
    other = new_account(http)
    assert usage(http, other)["used_today"] == 0


def test_the_cli_shows_what_is_left(http: httpx.Client, account: Account, server: LiveServer,
                                    tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess
    import sys

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INKSTREAM_")},
           "INKSTREAM_SERVER": server.url, "INKSTREAM_CONFIG_DIR": str(tmp_path / "cfg"), "COLUMNS": "120"}

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "inkstream", *args], env=env, input=stdin, text=True,
                              capture_output=True, timeout=120)

    assert cli("login", "-u", account.username, "--password-stdin", stdin=account.password).returncode == 0
    task_id = start_generation(http, account, 2)
    wait_status(http, account, task_id, "done")
    shown = cli("quota")
    assert shown.returncode == 0 and "今日剩余 3 页" in shown.stdout and "3 of 5 pages left today" in shown.stdout
    start_generation(http, account, 3)
    refused_run = cli("generate", "周末露营清单", "--pages", "3", "--out", str(tmp_path / "post"))
    assert refused_run.returncode == 1, refused_run.stderr
    assert "quota_exceeded" in refused_run.stderr and "inkstream quota" in refused_run.stderr
