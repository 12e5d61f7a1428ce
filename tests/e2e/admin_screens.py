"""Screenshots of the admin pages, the sessions page and the revocation flash (zh and en, desktop and phone).

Called by make_screenshots.py (`python -m tests.e2e.make_screenshots admin` shoots only these). The data shown is
made through the real API: users with roles, tasks with images, invites, registration and provider versions,
sessions from several devices, and a refresh-token reuse so the theft alarm shows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
from playwright.sync_api import Browser, Page

from tests.e2e.browser import DESKTOP, PHONE, App
from tests.support.client import Account, login, start_generation, wait_status
from tests.support.server import LiveServer

ADMIN = Account("admin", "admin password 1")
PEOPLE = [("lily", "pro"), ("mei_chen", "user"), ("zhou.k", "user"), ("olivia", "admin"), ("test_bot", "user")]
DEVICES = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
]
# Text stays offline (the shots generate pages); the remote providers are there to be shown, tested and masked.
PROVIDERS = {
    "text_generation": {
        "active_provider": "offline",
        "providers": {
            "offline": {"type": "offline"},
            "deepseek": {
                "type": "openai_compatible",
                "base_url": "https://api.deepseek.com/v1",
                "model": "deepseek-chat",
                "api_key": "sk-demo-00000000000007f3",
            },
        },
    },
    "image_generation": {
        "active_provider": "offline",
        "providers": {
            "offline": {"type": "offline"},
            "openai": {
                "type": "openai_compatible",
                "base_url": "https://api.openai.com/v1",
                "model": "gpt-image-1",
                "api_key": "sk-demo-0000000000004821",
            },
        },
    },
    "role_mapping": {"pro": {"image": "openai"}},
}


def _ok(r: httpx.Response) -> httpx.Response:
    assert r.status_code < 300, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r


def seed(http: httpx.Client) -> dict[str, str]:
    """Fills a fresh server with what the admin pages show; returns ids the shots need."""
    login(http, ADMIN)
    h = ADMIN.headers
    ids: dict[str, str] = {}
    accounts: dict[str, Account] = {}
    for name, role in PEOPLE:
        account = Account(name, "correct horse battery")
        r = _ok(
            http.post(
                "/api/admin/users", json={"username": name, "password": account.password, "role": role}, headers=h
            )
        )
        ids[name] = str(r.json()["id"])
        accounts[name] = account
    for name, topics in (("lily", ["秋天的第一杯奶茶", "周末露营装备清单"]), ("mei_chen", ["新手养猫避坑指南"])):
        login(http, accounts[name])
        for topic in topics:
            task = start_generation(http, accounts[name], 4, user_topic=topic)
            wait_status(http, accounts[name], task, "done", "partial", timeout=60)
    login(http, accounts["zhou.k"])
    running = start_generation(http, accounts["zhou.k"], 12, user_topic="通勤穿搭一周不重样")
    ids["running"] = running
    for ua in DEVICES:  # the admin's other devices
        _ok(
            http.post(
                "/api/auth/login",
                json={"username": ADMIN.username, "password": ADMIN.password},
                headers={"User-Agent": ua},
            )
        )
    # A refresh token presented again after its successor was used: the theft alarm.
    victim = accounts["mei_chen"]
    login(http, victim)
    spent = victim.refresh_token
    for _ in range(2):
        r = _ok(http.post("/api/auth/refresh", json={"refresh_token": victim.refresh_token}))
        victim.refresh_token = r.json()["refresh_token"]
    assert http.post("/api/auth/refresh", json={"refresh_token": spent}).status_code == 401
    _ok(http.patch(f"/api/admin/users/{ids['test_bot']}/status", json={"is_active": False}, headers=h))
    http.post("/api/auth/login", json={"username": "lily", "password": "wrong password"})
    _ok(
        http.put(
            "/api/admin/registration",
            json={"enabled": True, "invite_required": True, "default_role": "user"},
            headers=h,
        )
    )
    for uses, expires in ((5, 7 * 86400), (1, 86400), (20, 30 * 86400)):
        _ok(http.post("/api/admin/registration/invites", json={"max_uses": uses, "expires_in": expires}, headers=h))
    code = _ok(http.get("/api/admin/registration/invites", headers=h)).json()["items"][-1]["code"]
    _ok(http.delete(f"/api/admin/registration/invites/{code}", headers=h))
    first = json.loads(json.dumps(PROVIDERS))
    del first["role_mapping"]
    _ok(
        http.put(
            "/api/admin/config/image-providers", json={"config": first, "comment": "加入 DeepSeek 与 OpenAI"}, headers=h
        )
    )
    _ok(
        http.put(
            "/api/admin/config/image-providers",
            json={"config": PROVIDERS, "comment": "Pro 用户用 gpt-image-1"},
            headers=h,
        )
    )
    _ok(http.post(f"/api/admin/records/{running}/cancel", headers=h))
    return ids


def _settle(page: Page) -> None:
    # Lazy images below the fold are not fetched, so only those on screen must have loaded.
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete || i.getBoundingClientRect().top > innerHeight)",
        timeout=20_000,
    )
    page.wait_for_timeout(300)


def shoot(
    browser: Browser,
    live: LiveServer,
    http: httpx.Client,
    ids: dict[str, str],
    lang: str,
    device: str,
    save: Callable[[Page, str], None],
) -> None:
    viewport = DESKTOP if device == "desktop" else PHONE
    tag = f"{lang}-{device}"
    login(http, ADMIN)
    app = App(browser, live, account=ADMIN, lang=lang, viewport=viewport)
    page = app.page

    def shot(hash_: str, ready: str, name: str, then: Callable[[], None] | None = None) -> None:
        app.goto(hash_)
        page.wait_for_selector(ready)
        if then:
            then()
        _settle(page)
        save(page, f"{name}-{tag}")

    shot("#/admin/users", "[data-test=users-list] table", "admin-users")
    shot(f"#/admin/users/{ids['lily']}", "[data-test=user-detail] .stats", "admin-user")
    shot("#/admin/registration", "[data-test=invites] table", "admin-registration")

    def top() -> None:
        page.wait_for_selector("[data-test=provider-versions] table")
        page.evaluate("window.scrollTo(0, 0)")

    def open_diff() -> None:
        page.wait_for_selector("[data-test=provider-versions] table")
        page.locator("[data-test=show-diff]").first.click()
        page.locator("[data-test=provider-versions]").scroll_into_view_if_needed()

    shot("#/admin/providers", "[data-test=providers-json]", "admin-providers", top)
    shot("#/admin/providers", "[data-test=providers-json]", "admin-providers-versions", open_diff)

    def bad_key() -> None:
        page.wait_for_selector("[data-test=provider-versions] table")
        config = json.loads(page.input_value("[data-test=providers-json]"))
        config["image_generation"]["active_provider"] = "midjourney"
        page.fill("[data-test=providers-json]", json.dumps(config, indent=2, ensure_ascii=False))
        page.click("[data-test=save-providers]")
        page.wait_for_selector("[data-test=providers-error]:not([hidden])")
        page.locator("[data-test=providers-error]").scroll_into_view_if_needed()

    shot("#/admin/providers", "[data-test=providers-json]", "admin-providers-error", bad_key)
    shot("#/admin/tasks", "[data-test=records] table", "admin-tasks")

    def images() -> None:
        page.click("[data-test=pane-images]")
        page.wait_for_selector(".image-wall img")

    shot("#/admin/tasks", "[data-test=records] table", "admin-images", images)
    shot(
        "#/admin/audit",
        "[data-test=audit-list] table",
        "admin-audit",
        lambda: page.wait_for_selector("[data-test=alarm] .alarm"),
    )
    shot("#/sessions", "[data-test=sessions] table", "sessions")
    app.close()

    guest = App(browser, live, lang=lang, viewport=viewport)
    guest.goto("#/login").wait_for_selector("input[name=username]")
    guest.page.click("[data-test=tab-register]")
    guest.page.wait_for_selector("[data-test=invite-field]:not([hidden])")
    time.sleep(0.3)
    save(guest.page, f"register-invite-{tag}")
    guest.close()

    # The real thing: a user follows a running task, an admin disables the account, the page says why.
    demo = Account(f"demo_{lang}_{device}", "correct horse battery")
    r = _ok(
        http.post(
            "/api/admin/users",
            json={"username": demo.username, "password": demo.password, "role": "user"},
            headers=ADMIN.headers,
        )
    )
    login(http, demo)
    task = start_generation(http, demo, 12, user_topic="秋天的第一杯奶茶")
    user = App(browser, live, account=demo, lang=lang, viewport=viewport)
    user.goto(f"#/task/{task}")
    try:
        user.wait_state("open")
    except Exception:
        print(user.manager(), user.seen.console[-20:], user.seen.errors, user.page.url, user.page.inner_text("main"))
        print(http.get(f"/api/generate/{task}", headers=demo.headers).text[:300])
        print(live.logs()[-2500:])
        raise
    _ok(http.patch(f"/api/admin/users/{r.json()['id']}/status", json={"is_active": False}, headers=ADMIN.headers))
    user.page.wait_for_selector("[data-test=login-message].notice", timeout=15_000)
    time.sleep(0.3)
    save(user.page, f"revoked-{tag}")
    user.close()
