"""The admin dashboard in Chromium: the figures the API computes are the figures the page shows, a failure
burst is marked, and a non-admin is refused."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import PHONE, App
from tests.support.client import Account, login, new_account
from tests.support.server import LiveServer

ADMIN = Account("dash_ui_admin", "admin password 123")
REPORT = {"client": "web", "reconnects": 1, "reasons": {"network": 1}, "refreshes": {"attempts": 1, "ok": 1}}


@pytest.fixture(scope="module")
def dash_server() -> Iterator[LiveServer]:
    data = Path(tempfile.mkdtemp(prefix="inkstream-dash-ui-"))
    server = LiveServer(data, admin_username=ADMIN.username, admin_password=ADMIN.password).start()
    yield server
    server.stop()
    shutil.rmtree(data, ignore_errors=True)


def test_the_dashboard_shows_the_figures(browser: Browser, dash_server: LiveServer) -> None:
    with httpx.Client(base_url=dash_server.url, timeout=30) as http:
        user = new_account(http)
        for outcome in ("finished", "finished", "finished", "failed"):  # client side: 1 of 4 failed
            body = {**REPORT, "outcome": outcome, **({"failure_code": "retry_limit"} if outcome == "failed" else {})}
            assert http.post("/api/telemetry/stream", json=body, headers=user.headers).status_code == 204
        admin = Account(ADMIN.username, ADMIN.password)
        login(http, admin)
        deadline = time.monotonic() + 20
        while True:  # each node writes its counts every 5 s
            stats = http.get("/api/admin/dashboard/stats?period=1h", headers=admin.headers).json()
            if stats["client"]["streams"]["sessions"] == 4:
                break
            assert time.monotonic() < deadline, stats["client"]
            time.sleep(0.3)
        app = App(browser, dash_server, account=admin, lang="en")
        app.goto("#/admin/dashboard")
        page = app.page
        expect(page.locator("[data-test=client-failure] .dash-figure-value")).to_have_text("25%")
        expect(page.locator("[data-test=client-failure]")).to_have_class("dash-figure bad")  # over the 5 % line
        expect(page.locator("[data-test=client-failure]")).to_contain_text("1 of 4 failed")
        expect(page.locator("[data-test=client-reconnects] .dash-figure-value")).to_have_text("1")
        expect(page.locator("[data-test=client-refresh] .dash-figure-value")).to_have_text("100%")
        assert page.locator("svg.chart circle.dot").count() >= 1  # the burst is a visible point on the charts
        page.click("[data-test=period-7d]")
        expect(page.locator("[data-test=period-7d]")).to_have_attribute("aria-selected", "true")
        expect(page.locator("[data-test=client-failure] .dash-figure-value")).to_have_text("25%")
        assert not app.seen.errors
        app.close()

        phone = App(browser, dash_server, account=user, viewport=PHONE)  # a non-admin
        phone.goto("#/admin/dashboard")
        expect(phone.page.locator("[data-test=admin-forbidden]")).to_be_visible()
        phone.close()
