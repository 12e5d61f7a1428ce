"""Drives the web UI in Chromium: launching, seeding a session, and watching console and network."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, sync_playwright

from tests.support.client import Account
from tests.support.server import LiveServer

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts it cannot reach (docs: RECIPES.md).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Short backoff so failure paths finish in seconds; the heartbeat matches the server's (watchdog 2.5 s).
TEST_CONFIG: dict[str, Any] = {"heartbeatInterval": 1, "sse": {"maxAttempts": 4, "baseDelay": 200, "maxDelay": 800}}
# For the tests that kill and restart the server: the UI's own reconnect schedule (5 attempts over about 30 s), as
# a user has it. A short one gave up before a restart finished on a loaded 2-core machine.
RESTART_CONFIG: dict[str, Any] = {"sse": {"maxAttempts": 5, "baseDelay": 1000, "maxDelay": 15000}}


@contextmanager
def launch() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def mint_access_token(server: LiveServer, user_id: int, lifetime: float) -> str:
    """A genuine access token (signed with the server's key) with a chosen lifetime; negative = expired."""
    key = (server.data_dir / "secret_key").read_text().strip()
    now = int(time.time())
    claims = {"sub": str(user_id), "typ": "access", "iat": now, "exp": int(now + lifetime), "jti": f"t{now}"}
    return jwt.encode(claims, key, algorithm="HS256")


def user_id(http: httpx.Client, account: Account) -> int:
    r = http.get("/api/auth/me", headers=account.headers)
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


@dataclass
class Seen:
    """What one browser context did: console lines, requests, and the responses worth reading afterwards."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[tuple[float, str, str]] = field(default_factory=list)  # (time, method, url)
    responses: list[Response] = field(default_factory=list)

    def count(self, pattern: str, method: str | None = None) -> int:
        rx = re.compile(pattern)
        return sum(1 for _, m, url in self.requests if rx.search(url) and (method is None or m == method))

    def urls(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        return [url for _, _, url in self.requests if rx.search(url)]

    def secrets(self) -> set[str]:
        """Every token and ticket the server handed this context."""
        found: set[str] = set()
        for response in self.responses:
            try:
                body = response.json()
            except Exception:  # noqa: BLE001 - a body that is gone or not JSON holds no token
                continue
            for key in ("access_token", "refresh_token", "ticket"):
                if isinstance(body, dict) and body.get(key):
                    found.add(body[key])
        return found


class App:
    """One browser context on the app, logged in as `account` the way the UI logs in (refresh token in the HttpOnly
    cookie, the user record in localStorage), or logged out."""

    def __init__(
        self,
        browser: Browser,
        server: LiveServer,
        *,
        account: Account | None = None,
        config: dict[str, Any] | None = None,
        lang: str = "zh",
        viewport: dict[str, int] | None = None,
        before: Callable[[BrowserContext], None] | None = None,
    ):
        self.server = server
        self.seen = Seen()
        self.context = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True)
        cfg = {**TEST_CONFIG, **(config or {})}
        seed: dict[str, str] = {"inkstream.lang": lang}
        if account is not None:
            # The context's request client shares the browser's cookie jar: this login leaves the HttpOnly refresh
            # cookie exactly where the login form would. The page starts without an access token and asks the
            # cookie for one, as after a reload.
            r = self.context.request.post(
                f"{server.url}/api/auth/login", headers={"Origin": server.url},
                data={"username": account.username, "password": account.password, "cookie": True},
            )
            assert r.status == 200, r.text()
            seed["inkstream.user"] = json.dumps({"username": account.username})
        # Runs before the app on every load; seeds storage once per context so a reload keeps what the app wrote.
        self.context.add_init_script(
            f"window.INKSTREAM_CONFIG = {json.dumps(cfg)};"
            f"if (!localStorage.getItem('e2e.seeded')) {{"
            f"  for (const [k, v] of Object.entries({json.dumps(seed)})) localStorage.setItem(k, v);"
            f"  localStorage.setItem('e2e.seeded', '1');"
            f"}}"
        )
        if before is not None:
            before(self.context)
        self.page = self.new_page()

    def new_page(self) -> Page:
        page = self.context.new_page()
        page.on("console", lambda m: self.seen.console.append(m.text))
        page.on("pageerror", lambda e: self.seen.errors.append(str(e)))
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        return page

    def _on_request(self, request: Request) -> None:
        self.seen.requests.append((time.monotonic(), request.method, request.url))

    def _on_response(self, response: Response) -> None:
        if re.search(r"/api/auth/(login|refresh)$|/stream-ticket$", response.url):
            self.seen.responses.append(response)

    def goto(self, hash_: str, page: Page | None = None) -> Page:
        page = page or self.page
        page.goto(f"{self.server.url}/{hash_}")
        return page

    def manager(self, page: Page | None = None) -> dict[str, Any]:
        return (page or self.page).evaluate("window.__inkstream.sse ? window.__inkstream.sse.snapshot() : null")

    def wait_state(self, state: str, timeout: float = 30, page: Page | None = None) -> dict[str, Any]:
        (page or self.page).wait_for_function(
            "s => window.__inkstream.sse && window.__inkstream.sse.state === s", arg=state, timeout=timeout * 1000
        )
        return self.manager(page)

    def wait_finished(self, timeout: float = 60, page: Page | None = None) -> None:
        (page or self.page).wait_for_selector("[data-test=summary]:not([hidden])", timeout=timeout * 1000)

    def wait_done_cards(self, n: int, timeout: float = 30, page: Page | None = None) -> None:
        (page or self.page).wait_for_function(
            "n => document.querySelectorAll('figure.page-card[data-status=done]').length >= n",
            arg=n,
            timeout=timeout * 1000,
        )

    def storage(self, key: str, page: Page | None = None) -> str | None:
        return (page or self.page).evaluate("k => localStorage.getItem(k)", key)

    def access_token(self, page: Page | None = None) -> str | None:
        """The tab's access token (it lives in the page's memory only)."""
        return (page or self.page).evaluate("() => window.__inkstream.auth.currentToken()")

    def use_access_token(self, token: str, page: Page | None = None) -> None:
        """Put a chosen access token (say, one about to expire) in the loaded tab's memory."""
        (page or self.page).evaluate("t => { window.__inkstream.auth._access = t; }", token)

    def refresh_cookie(self) -> str | None:
        """The refresh cookie as the browser holds it (page script cannot read it: see test_browser_session)."""
        found = [c for c in self.context.cookies() if c["name"] == "inkstream_refresh"]
        return found[0]["value"] if found else None

    def close(self) -> None:
        self.context.close()


def dom_pages(page: Page) -> list[dict[str, Any]]:
    """Each page card as the user sees it: its index, status and image source."""
    return page.evaluate("""() => [...document.querySelectorAll('figure.page-card')].map(f => ({
        index: Number(f.dataset.index), status: f.dataset.status,
        imgs: [...f.querySelectorAll('img')].map(i => i.getAttribute('src'))}))""")


def assert_every_page_once(app: App, total: int) -> None:
    """The user sees each page exactly once, and the manager got each event exactly once, in order."""
    cards = dom_pages(app.page)
    assert sorted(c["index"] for c in cards) == list(range(total))
    assert all(c["status"] == "done" and len(c["imgs"]) == 1 for c in cards), cards
    assert len({c["imgs"][0].split("?")[0] for c in cards}) == total
    counts = app.page.evaluate("window.__inkstream.task.completeCounts")
    assert counts == {str(i): 1 for i in range(total)}, counts
    snap = app.manager()
    ids = snap["receivedIds"]
    assert ids == sorted(set(ids)), f"event ids repeated or out of order: {ids}"
    assert ids[0] == 1 and ids == list(range(1, ids[-1] + 1)), f"events missing: {ids}"
    assert snap["state"] == "done"
