"""The browser session after hardening: the refresh token sits in an HttpOnly, SameSite=Strict cookie scoped to
/api/auth, so no script on the page can read it — yet logging in, reloading, refreshing and logging out work,
and tokens an older version left in storage are wiped."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import App
from tests.support.client import new_account
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e

# Everything page script can reach: cookies, both storages, and every IndexedDB record.
READABLE = """async () => {
  const idb = [];
  for (const info of (await indexedDB.databases())) {
    const db = await new Promise((ok, no) => { const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result);
                                                r.onerror = () => no(r.error); });
    for (const store of db.objectStoreNames) {
      const values = await new Promise((ok) => { const r = db.transaction(store).objectStore(store).getAll();
                                                 r.onsuccess = () => ok(r.result); r.onerror = () => ok([]); });
      idb.push({ db: info.name, store, values });
    }
    db.close();
  }
  return { cookie: document.cookie, local: { ...localStorage }, session: { ...sessionStorage },
           idb: JSON.stringify(idb), databases: (await indexedDB.databases()).map((d) => d.name) };
}"""


def readable(page: Page) -> dict:
    return page.evaluate(READABLE)


def test_refresh_token_is_out_of_page_scripts_reach_yet_reload_refresh_and_logout_work(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    app = App(browser, live)
    page = app.goto("#/login")
    username = f"cookie_{uuid.uuid4().hex[:6]}"
    page.click("[data-test=tab-register]")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-test=topic]")

    cookies = [c for c in app.context.cookies() if c["name"] == "inkstream_refresh"]
    assert len(cookies) == 1
    cookie = cookies[0]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/api/auth"
    seen = readable(page)
    assert "inkstream_refresh" not in seen["cookie"] and cookie["value"] not in json.dumps(seen)
    assert "eyJ" not in json.dumps(seen)  # no JWT (access token) stored anywhere either
    assert json.loads(seen["local"]["inkstream.user"])["username"] == username
    assert app.access_token()  # the access token lives in the tab's memory

    page.reload()  # a reload keeps the session: the cookie is asked for a fresh access token
    page.wait_for_selector("[data-test=topic]")
    page.click("nav a[href='#/history']")
    page.wait_for_selector("[data-test=history]")
    assert app.seen.count(r"/api/auth/refresh$", "POST") >= 1
    rotated = app.refresh_cookie()
    assert rotated and rotated != cookie["value"]
    token = page.evaluate("() => window.__inkstream.auth.refresh()")
    assert http.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == username
    assert "eyJ" not in json.dumps(readable(page))

    last = app.refresh_cookie()
    page.click("[data-test=logout]")
    page.wait_for_url(re.compile(r"#/login$"))
    assert app.refresh_cookie() is None  # the logout response cleared it
    assert app.storage("inkstream.user") is None and app.access_token() is None
    with httpx.Client(base_url=live.url, headers={"Origin": live.url}) as replay:
        replay.cookies.set("inkstream_refresh", last or "", path="/api/auth")
        r = replay.post("/api/auth/refresh")
    assert (r.status_code, r.json()["code"]) == (401, "session_revoked")
    assert not app.seen.errors
    app.close()


def test_tokens_left_in_storage_by_an_older_version_are_wiped(
    browser: Browser, live: LiveServer, http: httpx.Client
) -> None:
    account = new_account(http)

    def legacy(context) -> None:  # type: ignore[no-untyped-def]
        context.add_init_script(
            "if (!localStorage.getItem('legacy.seeded')) {"
            f"  localStorage.setItem('inkstream.refresh_token', {json.dumps(account.refresh_token)});"
            f"  localStorage.setItem('inkstream.access_token', {json.dumps(account.access_token)});"
            "  localStorage.setItem('legacy.seeded', '1');"
            "  const r = indexedDB.open('inkstream', 1);"
            "  r.onupgradeneeded = () => r.result.createObjectStore('session');"
            f"  r.onsuccess = () => {{ r.result.transaction('session', 'readwrite').objectStore('session')"
            f"    .put({{refresh_token: {json.dumps(account.refresh_token)}}}, 'tokens'); r.result.close(); }};"
            "}"
        )

    app = App(browser, live, account=account, before=legacy)
    page = app.goto("#/history")
    page.wait_for_selector("[data-test=history]")
    expect(page.locator("[data-test=history]")).to_be_visible()
    page.wait_for_function("async () => !(await indexedDB.databases()).some((d) => d.name === 'inkstream')")
    seen = readable(page)
    assert account.refresh_token not in json.dumps(seen) and account.access_token not in json.dumps(seen)
    app.close()
