"""The web UI's stream reports in Chromium: the report a real session sends when a task finishes across a server
restart (a real reconnect), which the service accepts. (Its Node unit tests run in test_node_units.py.)"""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.sync_api import Browser

from tests.e2e.browser import RESTART_CONFIG, App
from tests.support.client import new_account, start_generation
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e


def test_a_finished_session_reports_its_reconnects(browser: Browser, live: LiveServer, http: httpx.Client) -> None:
    account = new_account(http)
    task = start_generation(http, account, 6)
    app = App(browser, live, account=account, config=RESTART_CONFIG)
    reports: list[tuple[dict, int]] = []
    app.page.on("requestfinished", lambda r: reports.append((json.loads(r.post_data or "{}"), r.response().status))
                if r.url.endswith("/api/telemetry/stream") else None)
    app.goto(f"#/task/{task}")
    app.wait_done_cards(1)
    live.kill()
    live.start()
    app.wait_finished()
    deadline = 50  # the keepalive POST goes out as `finish` is handled
    while not reports and deadline:
        app.page.wait_for_timeout(100)
        deadline -= 1
    assert len(reports) == 1, reports
    body, status = reports[0]
    assert status == 204
    history = app.manager()["history"]
    reconnects = sum(1 for h in history if h["outcome"] in ("retrying", "requested"))
    assert body["outcome"] == "finished" and body["client"] == "web"
    assert body["reconnects"] == reconnects >= 1
    assert sum(body["reasons"].values()) == reconnects
    assert body["connected_ms"] > 0
    dumped = json.dumps(body)
    assert account.access_token not in dumped and account.refresh_token not in dumped and task not in dumped
    app.close()
