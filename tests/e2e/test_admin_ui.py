"""Browser tests of the admin pages, the sessions page and revocation, in Chromium against a real server (both
modes). The first administrator comes from the environment, as in a container."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.conftest import _backend
from tests.e2e.browser import App
from tests.generators.fake_apis import FakeAPI, image_bytes, images_b64_reply
from tests.support.client import Account, login, start_generation, wait_status
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e
T = TypeVar("T")
FAKE_SIZE, OFFLINE_SIZE = (6, 8), (1080, 1440)

ADMIN = Account("root_admin", "admin password 123")
# Default token lifetimes (what a user gets), a 1 s heartbeat, and pages slow enough to watch a task run.
SETTINGS: dict[str, object] = {
    "heartbeat_interval": 1,
    "offline_delay": 0.3,
    "page_concurrency": 1,
    "max_running_tasks_per_user": 50,
    "admin_username": ADMIN.username,
    "admin_password": ADMIN.password,
}


def _in_thread(fn: Callable[[], T]) -> T:
    """Backend set-up calls asyncio.run(), which cannot run beside the sync Playwright loop of this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


@pytest.fixture(scope="module")
def live(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    backend = _in_thread(lambda: _backend(mode))
    server = LiveServer(tmp_path_factory.mktemp(f"admin-ui-{mode}"), backend=backend, **SETTINGS)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if backend:
            _in_thread(backend.drop)


@pytest.fixture
def admin(http: httpx.Client) -> Account:
    account = Account(ADMIN.username, ADMIN.password)
    login(http, account)
    return account


def make_user(http: httpx.Client, admin: Account, role: str = "user") -> tuple[Account, str]:
    """A user made by the admin (registration may be invite-only in some tests); returns it logged in and its id."""
    account = Account(f"u_{uuid.uuid4().hex[:8]}", "correct horse battery")
    r = http.post(
        "/api/admin/users",
        json={"username": account.username, "password": account.password, "role": role},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    login(http, account)
    return account, str(r.json()["id"])


def confirm(page: Page) -> None:
    page.click("[data-test=confirm] [data-test=dialog-ok]")


def test_disabling_a_user_who_follows_a_task_shows_them_the_login_page_within_5_s(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    user, user_id = make_user(http, admin)
    task = start_generation(http, user, 30)  # 9 s of pages: still running when the account is disabled
    follower = App(browser, live, account=user)
    follower.goto(f"#/task/{task}")
    follower.wait_state("open")
    follower.wait_done_cards(1)
    tickets_before = follower.seen.count(r"/stream-ticket$")

    boss = App(browser, live, account=admin)
    boss.goto(f"#/admin/users/{user_id}").wait_for_selector("[data-test=toggle-status]")
    boss.page.click("[data-test=toggle-status]")
    started = time.monotonic()
    confirm(boss.page)
    message = follower.page.locator("[data-test=login-message]")
    message.wait_for(state="visible", timeout=5_000)
    expect(message).to_contain_text("账号已被管理员停用", timeout=5_000 - 1000 * (time.monotonic() - started))
    delay = time.monotonic() - started
    print(
        f"\nrevocation delay ({live.mode}): disable clicked → follower on the login page with the reason: {delay:.2f} s"
    )
    assert delay < 5
    assert follower.page.url.endswith("#/login")
    assert follower.storage("inkstream.user") is None and follower.access_token() is None
    expect(boss.page.locator("[data-test=user-name]")).to_contain_text("已停用")
    # The stream manager stopped for good: no reconnect, no new ticket.
    snap = follower.page.evaluate("window.__inkstream.sse.snapshot()")
    assert snap["fatal"]["code"] == "account_disabled"
    follower.page.wait_for_timeout(2000)
    assert follower.seen.count(r"/stream-ticket$") == tickets_before
    assert follower.page.url.endswith("#/login")
    follower.close()
    boss.close()


def test_admin_creates_a_user_and_changes_the_role(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    app = App(browser, live, account=admin, lang="en")
    page = app.goto("#/admin/users")
    page.wait_for_selector("[data-test=users-list] table")
    expect(page.locator("[data-test=nav-admin]")).to_be_visible()
    name = f"made_{uuid.uuid4().hex[:6]}"
    page.click("button[data-test=create-user]")
    page.fill("[data-test=new-username]", ADMIN.username)
    page.fill("[data-test=new-password]", "long enough password")
    page.click("[data-test=create-user] [data-test=dialog-ok]")
    expect(page.locator("[data-test=dialog-error]")).to_contain_text("That username is taken")
    page.fill("[data-test=new-username]", name)
    page.click("[data-test=create-user] [data-test=dialog-ok]")
    expect(page.locator("[data-test=user-name]")).to_contain_text(name)
    page.select_option("[data-test=role]", "pro")
    page.click("[data-test=save-role]")
    expect(page.locator("#toast")).to_have_text("Saved")
    app.goto("#/admin/users")
    page.fill("[data-test=filter-q]", name)
    page.click("[data-test=filter-apply]")
    row = page.locator(f"tr[data-user='{name}']")
    expect(row).to_contain_text("Pro")
    listed = http.get(f"/api/admin/users?q={name}", headers=admin.headers).json()["items"]
    assert [(u["username"], u["role"]) for u in listed] == [(name, "pro")]
    app.close()


def test_user_page_resets_the_password_signs_out_and_deletes_after_typing_the_name(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    user, user_id = make_user(http, admin)
    victim = App(browser, live, account=user)
    victim.goto("#/history").wait_for_selector("[data-test=history]")
    app = App(browser, live, account=admin)
    page = app.goto(f"#/admin/users/{user_id}")
    expect(page.locator("[data-test=stat-sessions]")).to_have_text("2")  # the API client's and the browser's

    page.click("[data-test=reset-password]")
    page.fill("[data-test=reset-new-password]", "a brand new password")
    page.click("[data-test=reset-dialog] [data-test=dialog-ok]")
    expect(page.locator("[data-test=stat-sessions]")).to_have_text("0")
    old = http.post("/api/auth/login", json={"username": user.username, "password": user.password})
    assert old.status_code == 401
    user.password = "a brand new password"
    deadline = time.monotonic() + 10
    while not victim.page.url.endswith("#/login"):  # its next request is refused
        assert time.monotonic() < deadline, "the user's browser kept its session after the password reset"
        victim.page.reload()
        victim.page.wait_for_timeout(500)
    expect(victim.page.locator("[data-test=login-message]")).to_contain_text("登录已在别处退出")

    login(http, user)
    page.reload()
    expect(page.locator("[data-test=stat-sessions]")).to_have_text("1")
    page.click("[data-test=revoke-sessions]")
    confirm(page)
    expect(page.locator("[data-test=stat-sessions]")).to_have_text("0")
    assert http.post("/api/auth/refresh", json={"refresh_token": user.refresh_token}).status_code == 401

    page.click("[data-test=delete-user]")
    page.fill("[data-test=confirm-username]", "someone else")
    page.click("[data-test=delete-dialog] [data-test=dialog-ok]")
    expect(page.locator("[data-test=delete-dialog] [data-test=dialog-error]")).to_contain_text("用户名不一致")
    assert http.get(f"/api/admin/users/{user_id}", headers=admin.headers).status_code == 200
    page.fill("[data-test=confirm-username]", user.username)
    page.click("[data-test=delete-dialog] [data-test=dialog-ok]")
    page.wait_for_url(re.compile(r"#/admin/users$"))
    assert http.get(f"/api/admin/users/{user_id}", headers=admin.headers).status_code == 404
    expect(page.locator(f"tr[data-user='{user.username}']")).to_have_count(0)
    victim.close()
    app.close()


def test_invite_only_registration_made_in_the_ui_asks_a_guest_for_a_code(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    app = App(browser, live, account=admin)
    page = app.goto("#/admin/registration")
    try:
        page.wait_for_selector("[data-test=mode-invite]")
        page.check("[data-test=mode-invite]")
        page.click("[data-test=save-registration]")
        expect(page.locator("[data-test=registration-history] table")).to_contain_text("仅限邀请")
        assert http.get("/api/auth/registration/config").json() == {"enabled": True, "invite_required": True}

        page.click("button[data-test=create-invite]")
        page.fill("[data-test=invite-uses]", "2")
        page.click("[data-test=invite-dialog] [data-test=dialog-ok]")
        first = page.locator("[data-test=invites] tr[data-code]").first
        expect(first).to_contain_text("0 / 2")
        code = first.get_attribute("data-code")
        assert code

        guest = App(browser, live)
        g = guest.goto("#/login")
        g.click("[data-test=tab-register]")
        expect(g.locator("[data-test=invite-field]")).to_be_visible()
        g.fill("input[name=username]", f"guest_{uuid.uuid4().hex[:6]}")
        g.fill("input[name=password]", "long enough password")
        g.fill("[data-test=invite-code]", "not-a-real-code")
        g.click("button[type=submit]")
        expect(g.locator("[data-test=login-message]")).to_contain_text("邀请码无效")
        g.fill("[data-test=invite-code]", code)
        g.click("button[type=submit]")
        g.wait_for_url(re.compile(r"#/$"))
        guest.close()

        page.reload()
        expect(page.locator(f"tr[data-code='{code}']")).to_contain_text("1 / 2")
        page.locator(f"tr[data-code='{code}'] [data-test=revoke-invite]").click()
        confirm(page)
        expect(page.locator(f"tr[data-code='{code}']")).to_contain_text("已作废")
    finally:
        r = http.put(
            "/api/admin/registration",
            json={"enabled": True, "invite_required": False, "default_role": "user"},
            headers=admin.headers,
        )
        assert r.status_code == 200, r.text
        app.close()


def test_providers_bad_key_is_named_and_a_good_save_can_be_rolled_back(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    before = http.get("/api/admin/config/image-providers", headers=admin.headers).json()["version"]
    # "down" points at a closed port: its connection test must fail and say so.
    down = {"type": "openai_compatible", "base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": "sk-test-0000"}
    plain = {
        "image_generation": {"active_provider": "offline", "providers": {"offline": {"type": "offline"}, "down": down}}
    }
    mapped = {**plain, "role_mapping": {"pro": {"image": "offline"}}}
    app = App(browser, live, account=admin, lang="en")
    page = app.goto("#/admin/providers")
    editor = page.locator("[data-test=providers-json]")
    expect(editor).not_to_have_value("")
    problem = page.locator("[data-test=providers-error]")

    def save(config: object, comment: str = "") -> None:
        editor.fill(config if isinstance(config, str) else json.dumps(config, indent=2))
        page.fill("[data-test=providers-comment]", comment)
        page.click("[data-test=save-providers]")

    save({"image_generation": {**plain["image_generation"], "active_provider": "no_such_provider"}})
    expect(problem).to_contain_text("image_generation.active_provider")
    selected = page.evaluate(
        "() => { const e = document.querySelector('[data-test=providers-json]');"
        " return e.value.slice(e.selectionStart, e.selectionEnd); }"
    )
    assert '"active_provider": "no_such_provider"' in selected
    save("{ not json")
    expect(problem).to_contain_text("Not valid JSON")
    assert http.get("/api/admin/config/image-providers", headers=admin.headers).json()["version"] == before

    save(plain, "offline only")
    expect(page.locator("[data-test=providers-version]")).to_have_text(f"Version {before + 1}")
    expect(problem).to_be_hidden()
    assert '"sk-test-0000"' not in editor.input_value()  # the key comes back masked
    page.click("tr[data-provider='image:offline'] [data-test=test-provider]")
    expect(page.locator("tr[data-provider='image:offline'] [data-test=test-result]")).to_contain_text("Connected")
    page.click("tr[data-provider='image:down'] [data-test=test-provider]")
    expect(page.locator("tr[data-provider='image:down'] [data-test=test-result]")).to_contain_text(
        "Failed", timeout=20_000
    )
    save(mapped, "pro mapping")
    expect(page.locator("[data-test=providers-version]")).to_have_text(f"Version {before + 2}")
    row = page.locator(f"[data-test=provider-versions] tr[data-version='{before + 2}']")
    expect(row).to_contain_text("pro mapping")
    row.locator("[data-test=show-diff]").click()
    expect(row.locator("[data-test=diff] .d-add", has_text='"role_mapping"')).to_have_count(1)

    page.locator(f"tr[data-version='{before + 1}'] [data-test=rollback]").click()
    confirm(page)
    expect(page.locator("[data-test=providers-version]")).to_have_text(f"Version {before + 3}")
    now = http.get("/api/admin/config/image-providers", headers=admin.headers).json()
    assert now["version"] == before + 3 and not now["config"].get("role_mapping")
    assert json.loads(editor.input_value()) == now["config"]
    app.close()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAPI]:
    api = FakeAPI()
    api.start()
    api.script("/images/generations", images_b64_reply(image_bytes(size=FAKE_SIZE)))
    yield api
    api.stop()


def page_size(http: httpx.Client, account: Account) -> tuple[int, int]:
    """The size of the image of a new one-page task: which image provider made it."""
    task_id = start_generation(http, account, 1)
    body = wait_status(http, account, task_id, "done", "failed", timeout=60)
    assert body["status"] == "done", body
    return Image.open(io.BytesIO(http.get(body["images"][0]["image_url"]).content)).size


def wait_for_size(http: httpx.Client, account: Account, size: tuple[int, int], limit: float = 15) -> float:
    started = time.monotonic()
    while page_size(http, account) != size:
        assert time.monotonic() - started < limit, f"pages not {size} after {limit}s"
    return time.monotonic() - started


def test_rolling_providers_back_one_version_in_the_ui_gives_the_next_page_the_old_provider(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account, fake: FakeAPI
) -> None:
    user, _ = make_user(http, admin)
    remote = {"type": "openai_compatible", "base_url": fake.url, "model": "m", "api_key": "sk-fake", "max_attempts": 1}
    app = App(browser, live, account=admin, lang="en")
    page = app.goto("#/admin/providers")
    editor = page.locator("[data-test=providers-json]")
    expect(editor).not_to_have_value("")
    version = http.get("/api/admin/config/image-providers", headers=admin.headers).json()["version"]
    for active in ("offline", "fake"):
        config = {
            "image_generation": {
                "active_provider": active,
                "providers": {"offline": {"type": "offline"}, "fake": remote},
            }
        }
        editor.fill(json.dumps(config, indent=2))
        page.fill("[data-test=providers-comment]", f"{active} images")
        page.click("[data-test=save-providers]")
        version += 1
        expect(page.locator("[data-test=providers-version]")).to_have_text(f"Version {version}")
    wait_for_size(http, user, FAKE_SIZE)

    page.locator(f"tr[data-version='{version - 1}'] [data-test=rollback]").click()
    confirm(page)
    expect(page.locator("[data-test=providers-version]")).to_have_text(f"Version {version + 1}")
    took = wait_for_size(http, user, OFFLINE_SIZE)
    print(f"\nrollback in the UI reached the next page in {took:.1f} s ({live.mode})")
    app.close()


def test_tasks_page_cancels_a_running_task_and_shows_storage(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    user, _ = make_user(http, admin)
    task = start_generation(http, user, 30)
    app = App(browser, live, account=admin)
    page = app.goto("#/admin/tasks")
    row = page.locator(f"[data-test=records] tr[data-task='{task}']")
    row.locator("[data-test=cancel-task]").click()
    expect(row).to_contain_text("已取消", timeout=15_000)
    assert http.get(f"/api/generate/{task}", headers=user.headers).json()["status"] in ("cancelled", "partial")
    expect(page.locator("[data-test=total-images]")).to_have_text(re.compile(r"^\d+$"))
    page.click("[data-test=pane-images]")
    page.wait_for_selector("[data-test=images] .image-wall img, [data-test=images] [data-test=empty]")
    app.close()


def test_audit_log_shows_the_theft_alarm_filters_and_exports_csv(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    user, _ = make_user(http, admin)
    spent = user.refresh_token
    fresh = http.post("/api/auth/refresh", json={"refresh_token": spent}).json()["refresh_token"]
    assert http.post("/api/auth/refresh", json={"refresh_token": fresh}).status_code == 200
    assert http.post("/api/auth/refresh", json={"refresh_token": spent}).status_code == 401  # reuse
    app = App(browser, live, account=admin, lang="en")
    page = app.goto("#/admin/audit")
    alarm = page.locator("[data-test=alarm] .alarm")
    expect(alarm).to_contain_text("refresh-token reuse")
    page.click("[data-test=alarm-filter]")
    # The newest entry is the reuse anyway: wait for a list with nothing else in it.
    page.wait_for_function(
        "() => { const rs = [...document.querySelectorAll('[data-test=audit-list] tbody tr')];"
        " return rs.length > 0 && rs.every(r => r.dataset.action === 'token.reuse_detected'); }"
    )
    expect(page.locator("[data-test=filter-action]")).to_have_value("token.reuse_detected")
    with page.expect_download() as download:
        page.click("[data-test=export-csv]")
    text = open(download.value.path(), encoding="utf-8").read()  # noqa: SIM115 - a temp file Playwright owns
    assert text.splitlines()[0].startswith("id,") and "token.reuse_detected" in text
    app.close()


def test_log_out_everywhere_from_the_sessions_page_ends_the_other_browser_too(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    user, _ = make_user(http, admin)
    other = Account(user.username, user.password)
    login(http, other)
    here = App(browser, live, account=user)
    there = App(browser, live, account=other)
    there.goto("#/history").wait_for_selector("[data-test=history]")
    page = here.goto("#/sessions")
    # Four: two API clients (make_user's and login's) and the two browsers' own cookie logins.
    expect(page.locator("[data-test=sessions] tbody tr")).to_have_count(4)
    expect(page.locator("[data-test=sessions] tr.row-current")).to_contain_text("本机")
    page.click("[data-test=logout-all]")
    confirm(page)
    page.wait_for_url(re.compile(r"#/login$"))
    expect(page.locator("[data-test=login-message]")).to_contain_text("已在所有设备上退出登录")
    # The other browser finds out at its next request (access tokens are refused within 5 s on every node).
    deadline = time.monotonic() + 10
    while not there.page.url.endswith("#/login"):
        assert time.monotonic() < deadline, "the other browser was not logged out"
        there.page.reload()  # the history page asks the server again
        there.page.wait_for_timeout(500)
    expect(there.page.locator("[data-test=login-message]")).to_contain_text("登录已在别处退出")
    here.close()
    there.close()


def test_a_non_admin_sees_no_admin_link_and_no_admin_page(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    user, _ = make_user(http, admin)
    app = App(browser, live, account=user)
    page = app.goto("#/admin/users")
    # The seeded session has no role yet: the page learns it from /api/auth/me (slow on a loaded machine).
    expect(page.locator("[data-test=admin-forbidden]")).to_be_visible(timeout=15_000)
    expect(page.locator("[data-test=nav-admin]")).to_have_count(0)
    expect(page.locator("[data-test=nav-sessions]")).to_be_visible()
    assert http.get("/api/admin/users", headers=user.headers).status_code == 403
    app.close()


def test_every_admin_page_runs_under_the_strict_csp_with_zero_violations(
    browser: Browser, live: LiveServer, http: httpx.Client, admin: Account
) -> None:
    user, _ = make_user(http, admin)
    wait_status(http, user, start_generation(http, user, 2), "done")  # a usage bar and images on the tasks page
    listen = (
        "window.__csp = []; document.addEventListener('securitypolicyviolation', "
        "e => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"
    )
    app = App(browser, live, account=admin, before=lambda context: context.add_init_script(listen))
    page = app.page
    for hash_, ready in [
        ("#/admin/users", "[data-test=users-list] table"),
        ("#/admin/registration", "[data-test=registration] form"),
        ("#/admin/providers", "[data-test=provider-versions] > *"),
        ("#/admin/tasks", ".usage-bars li"),
        ("#/admin/audit", "[data-test=audit-list] table"),
        ("#/sessions", "[data-test=sessions] table"),
    ]:
        app.goto(hash_)
        page.wait_for_selector(ready)
        page.wait_for_timeout(200)
    app.goto("#/admin/tasks")
    bar = page.locator(".usage-bar > span").first
    expect(bar).to_be_visible()
    width = page.evaluate("getComputedStyle(document.querySelector('.usage-bar > span')).width")
    assert width != "0px"
    page.click("[data-test=pane-images]")
    page.wait_for_selector("[data-test=images] .image-wall img, [data-test=images] [data-test=empty]")
    violations = [*page.evaluate("window.__csp"), *[c for c in app.seen.console if "Content Security Policy" in c]]
    assert violations == []
    app.close()
