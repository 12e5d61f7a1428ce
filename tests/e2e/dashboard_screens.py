"""The admin dashboard with real data: the scripted scenario of tests/usage/test_dashboard_scenario.py (known
numbers: 5 stream sessions through the SDK, 3 cuts, 2 missing tasks, 4 refreshes of which 1 refused) against a
fresh server, then the dashboard in Chromium — zh and en, desktop and phone — into docs/screenshots/.

    .venv/bin/python -m tests.e2e.dashboard_screens
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path

import httpx

from tests.e2e.browser import DESKTOP, PHONE, App, launch
from tests.support.client import Account, login
from tests.support.server import LiveServer
from tests.usage.test_dashboard_scenario import ADMIN, run_script

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def open_dashboard(browser: object, live: LiveServer, admin: Account, lang: str, viewport: dict[str, int]) -> App:
    app = App(browser, live, account=admin, lang=lang, viewport=viewport)  # type: ignore[arg-type]
    app.goto("#/admin/dashboard")
    app.page.wait_for_selector("[data-test=dash-server] .dash-figure-value")
    app.page.wait_for_timeout(300)
    return app


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="inkstream-dash-"))
    live = LiveServer(data, admin_username=ADMIN.username, admin_password=ADMIN.password, offline_delay=0.3,
                      page_concurrency=1, max_running_tasks_per_user=20, heartbeat_interval=1).start()
    try:
        asyncio.run(run_script(live))
        with httpx.Client(base_url=live.url, timeout=30) as http, launch() as browser:
            admin = Account(ADMIN.username, ADMIN.password)
            login(http, admin)
            for _ in range(40):  # the nodes write their counts every 5 s
                body = http.get("/api/admin/dashboard/stats?period=1h", headers=admin.headers).json()
                if body["client"]["streams"]["sessions"] == 5 and body["server"]["refresh"]["attempts"] == 4:
                    break
                time.sleep(0.5)
            print("server:", body["server"]["streams"], body["server"]["refresh"])
            print("client:", body["client"]["streams"], body["client"]["refresh"])
            for lang in ("zh", "en"):
                for device, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    app = open_dashboard(browser, live, admin, lang, viewport)
                    path = OUT / f"admin-dashboard-{lang}-{device}.png"
                    app.page.screenshot(path=str(path), full_page=True)
                    print("wrote", path)
                    app.close()
    finally:
        live.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
