"""Two tabs, one session: refresh tokens rotate and a reused one revokes the login, so tabs must take turns."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.browser import App
from tests.support.client import new_account, start_generation
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e


def test_two_tabs_refreshing_at_once_take_turns_and_both_end_with_a_valid_token(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """Both tabs send the one refresh cookie; without the lock the second would present a spent token and end the
    login. Under the lock the second either takes the first's token (handed over the BroadcastChannel) or sends the
    cookie the first one's response set — never the spent one."""
    account = new_account(http)
    app = App(browser, live, account=account)
    one = app.goto("#/history")
    two = app.goto("#/history", app.new_page())
    for tab in (one, two):
        tab.wait_for_selector("[data-test=history]")
    refused: list[int] = []
    app.context.on(
        "response",
        lambda r: refused.append(r.status) if r.url.endswith("/api/auth/refresh") and r.status != 200 else None,
    )
    already = app.seen.count(r"/api/auth/refresh$")
    at = time.time() * 1000 + 400  # both tabs start refreshing in the same millisecond
    for tab in (one, two):
        tab.evaluate(
            "at => { window.__r = new Promise(r => setTimeout(r, at - Date.now()))"
            ".then(() => window.__inkstream.auth.refresh()); }",
            at,
        )
    tokens = [tab.evaluate("() => window.__r") for tab in (one, two)]
    assert all(tokens) and refused == []
    assert 1 <= app.seen.count(r"/api/auth/refresh$") - already <= 2
    for tab in (one, two):  # each holds a working token: its own, or the other tab's newer one from the broadcast
        held = app.access_token(tab)
        assert held in tokens
        assert http.get("/api/auth/me", headers={"Authorization": f"Bearer {held}"}).status_code == 200
    # The family is intact: the cookie both tabs share still rotates.
    assert one.evaluate("() => window.__inkstream.auth.refresh()")
    assert refused == []
    app.close()


def test_two_tabs_following_tasks_with_short_tokens_never_reuse_a_refresh_token(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    account = new_account(http)
    tasks = [start_generation(http, account, 6) for _ in range(2)]
    app = App(browser, live, account=account)
    refused: list[int] = []
    app.context.on(
        "response",
        lambda r: refused.append(r.status) if r.url.endswith("/api/auth/refresh") and r.status != 200 else None,
    )
    tabs = [app.goto(f"#/task/{tasks[0]}"), app.goto(f"#/task/{tasks[1]}", app.new_page())]
    for tab in tabs:
        app.wait_finished(page=tab)
        assert tab.evaluate("window.__inkstream.sse.state") == "done"
    assert refused == []
    assert app.seen.count(r"/api/auth/refresh$") >= 2


def test_logging_out_in_one_tab_logs_out_the_other(browser: Browser, live: LiveServer, http: httpx.Client) -> None:
    account = new_account(http)
    app = App(browser, live, account=account)
    one = app.goto("#/history")
    two = app.goto("#/", app.new_page())
    two.wait_for_selector("[data-test=topic]")
    one.click("[data-test=logout]")
    two.wait_for_url(re.compile(r"#/login$"))
    expect(two.locator("[data-test=login-message]")).to_contain_text("你已在其他标签页退出登录")
    app.close()
