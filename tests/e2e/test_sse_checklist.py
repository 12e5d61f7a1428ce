"""The seed's SSE test checklist (SSE_CONNECTION_FIX.zh.md, 测试清单), one test per item, in a real browser
against a real server — plus a 20-page task outliving many 3-second access tokens."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, Route, expect

from tests.e2e.browser import RESTART_CONFIG, App, assert_every_page_once, dom_pages, mint_access_token, user_id
from tests.support.client import Account, new_account, start_generation
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e

STREAM = r"/api/generate/stream/"
TICKET = r"/stream-ticket$"
REFRESH = r"/api/auth/refresh$"


def _loaded_with_token(browser: Browser, live: LiveServer, account: Account, token: str) -> App:
    """The app loaded (its start-up refresh from the cookie done), then holding `token` in memory, with the record
    of requests cleared: what follows is what a tab with that token does."""
    app = App(browser, live, account=account)
    app.goto("#/history")
    app.page.wait_for_selector("[data-test=history]")
    app.page.wait_for_function("() => window.__inkstream.auth.refreshCount >= 1 && !window.__inkstream.auth._inflight")
    app.page.wait_for_load_state("networkidle")
    app.use_access_token(token)
    app.seen.requests.clear()
    return app


def test_valid_token_connects_on_first_attempt_with_a_ticket(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 1: a token that is valid for an hour connects at once: no refresh, one ticket, one stream."""
    account = new_account(http)
    token = mint_access_token(live, user_id(http, account), lifetime=3600)
    task = start_generation(http, account, 4)
    app = _loaded_with_token(browser, live, account, token)
    app.goto(f"#/task/{task}")
    app.wait_finished()
    assert_every_page_once(app, 4)
    assert app.seen.count(REFRESH) == 0
    assert app.seen.count(TICKET, "POST") == 1
    streams = app.seen.urls(STREAM)
    assert len(streams) == 1
    assert "ticket=" in streams[0] and "last_event_id=0" in streams[0]
    assert "access_token" not in streams[0] and token not in streams[0]
    assert app.manager()["history"] == []
    app.close()


def test_token_expiring_soon_is_refreshed_before_connecting(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 2: two minutes left (< 5 min) → refresh first, then connect — no failed attempt on the way."""
    account = new_account(http)
    token = mint_access_token(live, user_id(http, account), lifetime=120)
    task = start_generation(http, account, 3)
    app = _loaded_with_token(browser, live, account, token)
    app.goto(f"#/task/{task}")
    app.wait_finished()
    order = [url for _, method, url in app.seen.requests if re.search(f"{REFRESH}|{TICKET}|{STREAM}", url)]
    assert re.search(REFRESH, order[0]), order  # the refresh came before the ticket and the stream
    assert app.access_token() != token
    snap = app.manager()
    assert snap["connections"] == 1 and snap["history"] == []
    assert any("expires in" in line and "refreshing first" in line for line in app.seen.console)
    app.close()


def test_expired_token_rejected_on_connect_is_refreshed_and_reconnects(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 3: the token expires while the connect request is in flight (held on a slow network until past its exp):
    the server answers 401 token_expired → the manager refreshes and reconnects, and nothing is lost."""
    account = new_account(http)
    task = start_generation(http, account, 5)
    held: list[str] = []
    statuses: list[tuple[int, str]] = []

    def slow_first_ticket(route: Route) -> None:
        if not held:
            held.append(route.request.url)
            token = route.request.headers["authorization"].removeprefix("Bearer ")
            exp = jwt.decode(token, options={"verify_signature": False})["exp"]
            time.sleep(max(0.0, exp + 1.2 - time.time()))  # until the server must call it expired
        route.continue_()

    app = App(browser, live, account=account, before=lambda ctx: ctx.route(re.compile(TICKET), slow_first_ticket))
    app.page.on("response", lambda r: statuses.append((r.status, r.url)) if re.search(TICKET, r.url) else None)
    app.goto(f"#/task/{task}")
    app.wait_finished()
    assert [s for s, _ in statuses][:2] == [401, 200], (statuses, held)
    history = app.manager()["history"]
    assert [(h["reason"], h["outcome"]) for h in history] == [
        ("token_rejected", "retrying"),
        ("token_rejected", "connected"),
    ]
    assert any("[Auth] the server rejected the access token" in line for line in app.seen.console)
    assert_every_page_once(app, 5)
    app.close()


def test_refresh_failure_shows_a_friendly_message_and_the_login_page(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 4: the session was ended elsewhere (refresh token revoked): the user lands on the login page with a
    message saying what happened and what to do — not a stack of errors — and no stream is attempted."""
    account = new_account(http)
    task = start_generation(http, account, 2)
    app = App(browser, live, account=account)
    # Logged out everywhere from another device: the browser's session (its refresh cookie) is revoked too.
    assert http.post("/api/auth/logout-all", headers=account.headers).status_code == 204
    app.goto(f"#/task/{task}")
    app.page.wait_for_url(re.compile(r"#/login$"))
    message = app.page.locator("[data-test=login-message]")
    # Logged out elsewhere: the refresh is refused as session_revoked, and the page says so.
    expect(message).to_contain_text("登录已在别处退出（会话已被撤销），请重新登录")
    assert app.storage("inkstream.user") is None and app.access_token() is None
    assert app.seen.count(STREAM) == 0
    assert any("[Auth] token refresh refused" in line for line in app.seen.console)
    # Logging in again takes the user back to the task.
    app.page.fill("input[name=username]", account.username)
    app.page.fill("input[name=password]", account.password)
    app.page.click("button[type=submit]")
    app.page.wait_for_url(re.compile(f"#/task/{task}$"))
    app.wait_finished()
    app.close()


def test_retry_limit_stops_with_a_message_and_manual_reconnect_resumes(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 5: the server is gone: bounded reconnects with backoff, then a stop with a reason and a button;
    nothing more is sent until the user presses it, and then the task resumes where it left off."""
    account = new_account(http)
    task = start_generation(http, account, 8)
    app = App(browser, live, account=account)
    app.goto(f"#/task/{task}")
    app.wait_done_cards(1)
    live.kill()
    try:
        snap = app.wait_state("failed", timeout=20)
        assert snap["reason"] == "retry_limit"
        outcomes = [h["outcome"] for h in snap["history"]]
        assert outcomes == ["retrying"] * 4 + ["gave_up"], snap["history"]
        banner = app.page.locator("[data-test=banner]")
        expect(banner).to_contain_text("已重试 4 次")
        expect(banner.locator("[data-test=banner-action]")).to_have_text("重新连接")
        quiet_from = len(app.seen.requests)
        app.page.wait_for_timeout(2000)
        assert len(app.seen.requests) == quiet_from, "it kept trying after giving up"
    finally:
        live.start()
    app.page.click("[data-test=banner-action]")
    app.wait_finished()
    assert_every_page_once(app, 8)
    app.close()


def test_network_drop_resumes_from_the_last_event_without_loss_or_duplicates(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 6: the connection drops (server killed and restarted on the same port) → reconnect with
    ?last_event_id= → every page exactly once."""
    account = new_account(http)
    task = start_generation(http, account, 8)
    app = App(browser, live, account=account, config=RESTART_CONFIG)
    app.goto(f"#/task/{task}")
    app.wait_done_cards(2)
    before = app.manager()["lastEventId"]
    live.kill()
    live.start()
    app.wait_finished()
    assert_every_page_once(app, 8)
    cursors = [int(re.sub(r".*last_event_id=(\d+).*", r"\1", u)) for u in app.seen.urls(STREAM)]
    assert any(c >= before > 0 for c in cursors), cursors  # the reconnect asked for what came after
    snap = app.manager()
    assert snap["connections"] >= 2
    assert snap["history"][-1]["outcome"] == "connected", snap["history"]
    app.close()


def test_unknown_task_is_not_reconnected(browser: Browser, live: LiveServer, http: httpx.Client) -> None:
    """清单 7: 404 → stop and say so, no loop: count the requests, in the page and in the bare manager."""
    account = new_account(http)
    missing = uuid.uuid4().hex
    app = App(browser, live, account=account)
    app.goto(f"#/task/{missing}")
    expect(app.page.locator("[data-test=not-found]")).to_contain_text("找不到这个任务")
    app.page.wait_for_timeout(3000)  # longer than the watchdog and the backoff
    assert app.seen.count(missing) == 1  # the one GET that found nothing
    assert app.seen.count(STREAM) == 0
    # The manager on its own (as if the task vanished between page load and connect).
    result = app.page.evaluate(
        """async (id) => {
        const { SSEConnectionManager } = await import('/js/sse-manager.js');
        let calls = 0;
        const counted = (...a) => { calls += 1; return fetch(...a); };
        const m = new SSEConnectionManager({ taskId: id, auth: window.__inkstream.auth, fetch: counted,
            EventSource, heartbeatInterval: 1, maxAttempts: 4, baseDelay: 100 });
        m.start();
        await new Promise(r => setTimeout(r, 3000));
        return { calls, state: m.state, reason: m.reason, connections: m.connections };
    }""",
        missing,
    )
    assert result == {"calls": 1, "state": "failed", "reason": "task_not_found", "connections": 0}
    app.close()


def test_finished_task_closes_cleanly_without_reconnecting(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 8: only `finish` ends the stream; after it nothing reconnects. Resuming from `finish` (204) is also
    a clean end, not an error to retry."""
    account = new_account(http)
    task = start_generation(http, account, 3)
    app = App(browser, live, account=account)
    app.goto(f"#/task/{task}")
    app.wait_finished()
    app.page.wait_for_timeout(3000)  # > the 2.5 s watchdog: a stray timer would reconnect now
    assert app.seen.count(STREAM) == 1 and app.seen.count(TICKET) == 1
    snap = app.manager()
    assert snap["state"] == "done" and snap["history"] == []
    last = snap["lastEventId"]
    result = app.page.evaluate(
        """async ([id, last]) => {
        const { SSEConnectionManager } = await import('/js/sse-manager.js');
        const m = new SSEConnectionManager({ taskId: id, auth: window.__inkstream.auth, fetch: fetch.bind(window),
            EventSource, heartbeatInterval: 1, maxAttempts: 4, baseDelay: 100, startAfter: last });
        m.start();
        await new Promise(r => setTimeout(r, 3000));
        return { state: m.state, connections: m.connections, history: m.history, received: m.receivedIds };
    }""",
        [task, last],
    )
    assert result == {"state": "done", "connections": 1, "history": [], "received": []}
    app.close()


def test_console_logs_tell_the_story_and_never_show_a_token(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 9: [Auth]/[SSE] lines for every step of a run with refreshes and a reconnect, and not one token,
    refresh token or ticket in any console line."""
    account = new_account(http)
    task = start_generation(http, account, 6)
    app = App(browser, live, account=account, config=RESTART_CONFIG)
    app.goto(f"#/task/{task}")
    app.wait_done_cards(1)
    live.kill()
    live.start()
    app.wait_finished()
    console = "\n".join(app.seen.console)
    for step in (
        "[Auth] access token",
        "[Auth] refreshing the access token",
        "[Auth] token refreshed",
        "[SSE] connecting: /api/generate/stream/",
        "&ticket=***",
        "[SSE] connected",
        "[SSE] connection error",
        "[SSE] reconnecting in",
        "[SSE] resumed after event #",
        "[SSE] task finished",
    ):
        assert step in console, f"missing log step {step!r}:\n{console}"
    secrets = app.seen.secrets() | {account.access_token, account.refresh_token, app.refresh_cookie() or "-"}
    assert len(secrets) >= 4
    for secret in secrets:
        assert secret not in console
    assert "eyJ" not in console  # no JWT of any kind
    assert not app.seen.errors
    app.close()


def test_failure_messages_say_what_happened_and_what_to_do(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """清单 10: each failure names its cause and offers the action that fixes it (English UI this time)."""
    account = new_account(http)
    task = start_generation(http, account, 3)
    app = App(browser, live, account=account, lang="en")
    # The network refuses every ticket request: the retry budget runs out.
    app.context.route(re.compile(TICKET), lambda route: route.abort("internetdisconnected"))
    app.goto(f"#/task/{task}")
    app.wait_state("failed", timeout=15)
    banner = app.page.locator("[data-test=banner]")
    expect(banner).to_contain_text("Could not reach the server after 4 tries")
    expect(banner).to_contain_text("Check your network")
    expect(banner).to_contain_text("no progress is lost")
    app.context.unroute(re.compile(TICKET))
    banner.locator("[data-test=banner-action]", has_text="Reconnect").click()
    app.wait_finished()
    expect(app.page.locator("[data-test=summary]")).to_contain_text("All done")
    # Unknown task: says so and offers the way back.
    app.goto(f"#/task/{uuid.uuid4().hex}")
    page = app.page.locator("[data-test=not-found]")
    expect(page).to_contain_text("This task does not exist")
    page.get_by_role("link", name="Back to start").click()
    app.page.wait_for_selector("[data-test=topic]")
    app.close()


def test_twenty_pages_with_three_second_tokens_show_every_page_exactly_once(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    """A long task outlives many access tokens; a drop mid-way (after several tokens expired) reconnects with a
    refreshed token and resumes; the user sees all 20 pages, each exactly once."""
    account = new_account(http)
    task = start_generation(http, account, 20)
    app = App(browser, live, account=account, config=RESTART_CONFIG)
    started = time.monotonic()
    app.goto(f"#/task/{task}")
    app.wait_done_cards(4)
    app.page.wait_for_timeout(max(0.0, 3.5 - (time.monotonic() - started)) * 1000)  # the first token is dead
    assert len([c for c in dom_pages(app.page) if c["status"] == "done"]) < 20
    live.kill()
    live.start()
    app.wait_finished(timeout=90)
    assert_every_page_once(app, 20)
    assert len(dom_pages(app.page)) == 20
    assert app.seen.count(REFRESH) >= 2
    app.close()
