"""Screenshots of every page, zh and en, desktop (1280×800) and phone (390×844), into docs/screenshots/.

Besides each page: a draft offered back (home-draft), the outline typed live (outline-writing), the post's copy
(result-copy, full page), a page opened offline (offline), images retrying after a blip (images-retrying), and the
dark theme (dark-result, dark-history). The copy and the live outline are drawn from the issue-13 wire contract
put on the wire by Playwright routes, until the server side of copy and outline_delta is merged.

Not a test (pytest does not collect it); run it when the UI changes:  .venv/bin/python -m tests.e2e.make_screenshots
(`… make_screenshots admin` shoots only the admin pages, the sessions page and the revocation flash).
PNGs over 300 KB are re-encoded with a 256-colour palette.
"""

from __future__ import annotations

import io
import json
import re
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


COPY = {
    "zh": {"titles": ["秋天第一杯奶茶这样选🍂", "奶茶党必看｜秋季限定", "喝了十家总结出的奶茶攻略"],
           "body": "秋天到了，第一杯奶茶你想好怎么选了吗？🧋\n\n☕ 底茶：乌龙、红茶最配秋天，香气更足\n"
                   "🍯 甜度：三分糖刚刚好，喝完不腻\n🌰 小料：栗子、桂花、芋泥，一口就是秋天\n\n"
                   "最后提醒：热饮更暖胃，记得少冰～你的第一杯是什么？评论区告诉我👇",
           "tags": ["秋天的第一杯奶茶", "奶茶推荐", "秋季限定", "奶茶测评", "生活碎片"]},
    "en": {"titles": ["Autumn's first milk tea, sorted 🍂", "Milk tea lovers, read this", "10 shops, one guide"],
           "body": "Autumn is here — have you picked your first milk tea yet? 🧋\n\n☕ Base: oolong or black tea, "
                   "richer in the cold\n🍯 Sweetness: 30% is just right\n🌰 Toppings: chestnut, osmanthus, taro\n\n"
                   "Go hot, go light on ice. What is your first cup? Tell me below 👇",
           "tags": ["autumn", "milktea", "cafe", "seasonal", "dailylife"]},
}
WRITING = ["[封面]\n标题：秋天的第一杯奶茶🍂\n副标题：新手也能选对\n<page>\n[内容]\n",
           "第一步：选底茶\n- 乌龙：焙火香，最配秋天\n- 红茶：醇厚，", "加奶不抢味\n<page>\n[内容]\n第二步：甜度怎么选"]


def with_copy(lang: str):  # type: ignore[no-untyped-def]
    def handler(route) -> None:  # type: ignore[no-untyped-def]
        response = route.fetch()
        route.fulfill(response=response, json={**response.json(), "copy": COPY[lang]})
    return handler


def shoot_extras(browser: Browser, live: LiveServer, http: httpx.Client, account: Account, lang: str,
                 viewport: dict[str, int], tag: str) -> None:
    app = App(browser, live, account=account, lang=lang, viewport=viewport, config={"heartbeatInterval": 1, "sse": {}})
    page = app.goto("#/")
    page.fill("[data-test=topic]", TOPICS[lang])
    page.wait_for_timeout(600)  # the draft is saved 300 ms after the last keystroke
    page.reload()
    page.wait_for_selector("[data-test=draft-offer]")
    save(page, f"home-draft-{tag}")
    page.click("[data-test=draft-discard]")

    # The outline as it is written: outline_delta events as the server will send them.
    task = outline(http, account, TOPICS["zh"])
    running = {"status": "running", "topic": TOPICS["zh"], "pages": [], "outline": "", "task_id": task,
               "last_event_id": len(WRITING), "error": None, "stream_url": f"/api/generate/stream/{task}"}
    events = "retry: 5000\n\n" + "".join(f"id: {i}\nevent: outline_delta\ndata: {json.dumps({'text': text})}\n\n"
                                          for i, text in enumerate(WRITING, start=1))
    app.context.route(re.compile(rf"/api/(outline|generate)/{task}$"), lambda r: r.fulfill(json=running))
    app.context.route(re.compile(rf"/api/generate/stream/{task}"),
                      lambda r: r.fulfill(status=200, headers={"Content-Type": "text/event-stream"}, body=events))
    app.goto(f"#/outline/{task}").wait_for_selector("[data-test=outline-writing] li >> nth=2")
    save(page, f"outline-writing-{tag}")
    app.context.unroute_all()

    done = generation(http, account, TOPICS["zh"])
    app.context.route(re.compile(rf"/api/generate/{done}$"), with_copy(lang))
    app.goto(f"#/task/{done}")
    app.wait_finished()
    page.wait_for_selector("[data-test=copy-panel]:not([hidden])")
    wait_images(page)
    page.screenshot(path=str(OUT / f"result-copy-{tag}.png"), full_page=True)
    save_file(OUT / f"result-copy-{tag}.png")

    page.emulate_media(color_scheme="dark")
    page.reload()
    app.wait_finished()
    wait_images(page)
    save(page, f"dark-result-{tag}")
    app.goto("#/history").wait_for_selector("article.history-item")
    page.fill("[data-test=history-search]", "奶茶")  # the posts' topics are Chinese in both languages
    page.wait_for_timeout(700)
    wait_images(page)
    save(page, f"dark-history-{tag}")
    page.emulate_media(color_scheme="light")
    app.context.unroute_all()

    # Opened while offline: the banner, no dead end.
    app.context.set_offline(True)
    page.evaluate("h => { location.hash = h; }", f"#/task/{done}")
    page.wait_for_selector("[data-test=net-banner]:not([hidden])")
    page.wait_for_timeout(1200)
    save(page, f"offline-{tag}")
    app.context.set_offline(False)
    app.wait_finished()

    # Images cut off while loading: each card retries on its own and the summary does not say "all done".
    app.context.route("**/api/images/**", lambda r: r.abort("internetdisconnected"))
    page.reload()
    app.wait_finished()
    page.wait_for_function("() => document.querySelectorAll('img[data-img=retrying]').length >= 3")
    save(page, f"images-retrying-{tag}")
    app.context.unroute_all()
    app.close()


def save_file(path: Path) -> None:
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        img = Image.open(io.BytesIO(raw)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        buf = io.BytesIO()
        img.save(buf, "PNG", optimize=True)
        path.write_bytes(buf.getvalue())
    print(f"{path.name} {path.stat().st_size // 1024} KB")


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
    shoot_extras(browser, live, http, account, lang, viewport, tag)


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
