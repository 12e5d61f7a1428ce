"""How fast the creator's pages recover after a network outage, in headless Chromium against a real server.

  .venv/bin/python -m bench.web_recovery [--runs 5] [--outage 3]

Three scenarios, each `--runs` times with an outage of `--outage` seconds:
- `offline-open`: a task page opened while the browser is offline (context.set_offline); time from the network
  coming back to every page card shown. The `online` event retries at once; without it the backoff would decide.
- `image-route-blip`: every image request aborted (a proxy or Wi-Fi dropping only those) while a finished task's
  page loads; time from the images being reachable again to "all done" with every image loaded. No `online`
  event fires here, so this is the image keeper's backoff (0.5 s doubling to 8 s, with jitter) at work. Also
  counts the image requests and task re-fetches made during the outage (what the retries cost the server).
- `image-offline-blip`: the same with the whole browser offline: the `online` event retries every image at once.

Writes bench/results/web-recovery.json (config, machine load, every run) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.browser import App, launch
from tests.support.client import Account, login, new_account, read_stream, start_generation
from tests.support.server import LiveServer

RESULTS = Path(__file__).resolve().parent / "results" / "web-recovery.json"
PAGES = 6
ALL_LOADED = """() => { const s = document.querySelector('[data-test=summary]');
  const imgs = [...document.querySelectorAll('figure.page-card img')];
  return s && !s.hidden && s.dataset.state === 'done' && imgs.length === PAGES
    && imgs.every((i) => i.complete && i.naturalWidth > 0); }""".replace("PAGES", str(PAGES))


def finished_task(http: httpx.Client, account: Account) -> str:
    login(http, account)
    task = start_generation(http, account, PAGES)
    read_stream(http, task, account)
    return task


def offline_open(browser: Any, live: LiveServer, account: Account, task: str, outage: float) -> dict[str, Any]:
    app = App(browser, live, account=account, config={"sse": {}})
    page = app.goto("#/history")
    page.wait_for_selector("article.history-item")
    app.context.set_offline(True)
    page.evaluate("h => { location.hash = h; }", f"#/task/{task}")
    page.wait_for_selector("[data-test=net-banner]:not([hidden])")
    page.wait_for_timeout(outage * 1000)
    t0 = time.perf_counter()
    app.context.set_offline(False)
    page.wait_for_function(ALL_LOADED, timeout=60_000)
    took = time.perf_counter() - t0
    gets = app.seen.count(rf"/api/generate/{task}$", "GET")
    app.close()
    return {"recovery_ms": round(took * 1000), "task_gets": gets}


def image_blip(browser: Any, live: LiveServer, account: Account, task: str, outage: float,
               offline: bool) -> dict[str, Any]:
    app = App(browser, live, account=account, config={"sse": {}})
    page = app.goto("#/history")
    page.wait_for_selector("article.history-item")
    app.context.route("**/api/images/**", lambda route: route.abort("internetdisconnected"))
    page.evaluate("h => { location.hash = h; }", f"#/task/{task}")
    page.wait_for_function("n => document.querySelectorAll('img[data-img=retrying]').length === n", arg=PAGES)
    if offline:
        app.context.set_offline(True)
    page.wait_for_timeout(outage * 1000)
    during = app.seen.count(r"/api/images/")
    gets = app.seen.count(rf"/api/generate/{task}$", "GET")
    t0 = time.perf_counter()
    app.context.unroute("**/api/images/**")
    if offline:
        app.context.set_offline(False)
    page.wait_for_function(ALL_LOADED, timeout=60_000)
    took = time.perf_counter() - t0
    app.close()
    return {"recovery_ms": round(took * 1000), "image_requests_during_outage": during,
            "task_gets_during_outage": gets - 1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--outage", type=float, default=3.0)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="inkstream-bench-web-"))
    live = LiveServer(data, heartbeat_interval=1, max_running_tasks_per_user=50).start()
    rows: list[dict[str, Any]] = []
    try:
        with httpx.Client(base_url=live.url, timeout=30) as http, launch() as browser:
            account = new_account(http, prefix="bench")
            task = finished_task(http, account)
            login(http, account)
            for run in range(args.runs):
                for name, fn in [
                    ("offline-open", lambda: offline_open(browser, live, account, task, args.outage)),
                    ("image-route-blip", lambda: image_blip(browser, live, account, task, args.outage, False)),
                    ("image-offline-blip", lambda: image_blip(browser, live, account, task, args.outage, True)),
                ]:
                    login(http, account)
                    row = {"scenario": name, "run": run, "loadavg": os.getloadavg()[0], **fn()}
                    rows.append(row)
                    print(json.dumps(row, ensure_ascii=False))
    finally:
        live.stop()
    summary = {}
    for name in ("offline-open", "image-route-blip", "image-offline-blip"):
        ms = [r["recovery_ms"] for r in rows if r["scenario"] == name]
        summary[name] = {"median_ms": statistics.median(ms), "max_ms": max(ms), "runs": len(ms)}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"config": {"runs": args.runs, "outage_s": args.outage, "pages": PAGES},
                                   "machine": {"cpus": os.cpu_count()}, "summary": summary, "rows": rows},
                                  indent=2, ensure_ascii=False) + "\n")
    print("\n| scenario | median ms | max ms |\n| --- | --- | --- |")
    for name, s in summary.items():
        print(f"| {name} | {s['median_ms']} | {s['max_ms']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
