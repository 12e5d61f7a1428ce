"""Screenshots of every page, zh and en, desktop (1280×800) and phone (390×844), into docs/screenshots/.

Not a test (pytest does not collect it); run it when the UI changes:  .venv/bin/python -m tests.e2e.make_screenshots
(`… make_screenshots admin` shoots only the admin pages, the sessions page and the revocation flash).
PNGs over 300 KB are re-encoded with a 256-colour palette.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.e2e import admin_screens
from tests.e2e.browser import DESKTOP, PHONE, App, launch
from tests.support.client import Account, login, new_account
from tests.support.server import LiveServer

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MAX_BYTES = 300 * 1024
TOPICS = {"zh": "秋天的第一杯奶茶", "en": "Autumn's first milk tea"}
# Posts made along the way (they fill the history page); the generation pages come from their outlines.
POSTS = [
    "秋天的第一杯奶茶",
    "周末露营装备清单",
    "新手养猫避坑指南",
    "一人食快手晚餐",
    "通勤穿搭一周不重样",
    "租房改造小预算",
    "考研上岸时间表",
    "城市漫步路线推荐",
]


def wait_images(page: Page) -> None:
    page.wait_for_function("[...document.images].every(i => i.complete)", timeout=20_000)
    page.wait_for_timeout(300)  # transitions


def save(page: Page, name: str) -> None:
    raw = page.screenshot()
    if len(raw) > MAX_BYTES:
        img = Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        buf = io.BytesIO()
        img.save(buf, "PNG", optimize=True)
        raw = buf.getvalue()
    (OUT / f"{name}.png").write_bytes(raw)
    print(f"{name}.png {len(raw) // 1024} KB")


def generation(http: httpx.Client, account: Account, topic: str) -> str:
    task = outline(http, account, topic)
    outline_pages = http.get(f"/api/outline/{task}", headers=account.headers).json()["pages"]
    r = http.post("/api/generate", json={"pages": outline_pages, "user_topic": topic}, headers=account.headers)
    r.raise_for_status()
    return str(r.json()["task_id"])


def outline(http: httpx.Client, account: Account, topic: str) -> str:
    login(http, account)
    r = http.post("/api/outline", json={"topic": topic}, headers=account.headers)
    r.raise_for_status()
    task = r.json()["task_id"]
    deadline = time.monotonic() + 30
    while http.get(f"/api/outline/{task}", headers=account.headers).json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return str(task)


def shoot(browser: Browser, live: LiveServer, http: httpx.Client, account: Account, lang: str, device: str) -> None:
    viewport = DESKTOP if device == "desktop" else PHONE
    tag = f"{lang}-{device}"
    guest = App(browser, live, lang=lang, viewport=viewport)
    guest.goto("#/login").wait_for_selector("input[name=username]")
    save(guest.page, f"login-{tag}")
    guest.close()

    login(http, account)
    app = App(browser, live, account=account, lang=lang, viewport=viewport, config={"heartbeatInterval": 1, "sse": {}})
    page = app.goto("#/")
    page.fill("[data-test=topic]", TOPICS[lang])
    save(page, f"home-{tag}")

    app.goto(f"#/outline/{outline(http, account, TOPICS['zh'])}").wait_for_selector("[data-test=outline-list] li")
    save(page, f"outline-{tag}")

    running = generation(http, account, POSTS.pop())
    app.goto(f"#/task/{running}")
    app.wait_done_cards(3)
    wait_images(page)
    save(page, f"generating-{tag}")

    done = generation(http, account, POSTS.pop())
    app.goto(f"#/task/{done}")
    app.wait_finished()
    wait_images(page)
    save(page, f"result-{tag}")

    app.goto("#/history").wait_for_selector("article.history-item")
    wait_images(page)
    save(page, f"history-{tag}")
    app.close()


def main() -> int:
    only_admin = sys.argv[1:] == ["admin"]
    OUT.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="inkstream-shots-"))
    live = LiveServer(
        data,
        heartbeat_interval=1,
        offline_delay=0.5,
        page_concurrency=1,
        max_running_tasks_per_user=50,
        admin_username=admin_screens.ADMIN.username,
        admin_password=admin_screens.ADMIN.password,
    ).start()
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http, launch() as browser:
            account = new_account(http, prefix="lily")
            ids = admin_screens.seed(http)
            for lang in ("zh", "en"):
                for device in ("desktop", "phone"):
                    if not only_admin:
                        shoot(browser, live, http, account, lang, device)
                    admin_screens.shoot(browser, live, http, ids, lang, device, save)
    finally:
        live.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
