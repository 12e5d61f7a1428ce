"""End to end on the offline renderer: submit a 9-page task, open its stream, read to `finish`. Measures
submit→first event (and →the first event reporting work, after `queued`), submit→finish, and pages rendered
per second with `concurrent` tasks in flight."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.load.pool import Pool
from bench.report import load, ms, pct
from bench.targets.base import Target


def run(make: Callable[[], Target], pool: Pool, tasks: int, concurrent: list[int],
        pages: int = 9) -> list[dict[str, Any]]:
    rows = []
    target = make()
    target.start()
    try:
        for c in concurrent:
            started = time.perf_counter()
            n = tasks if c > 1 else max(3, tasks // 3)
            res = pool.call(0, "e2e", base_url=target.url, token=target.token, tasks=n, concurrency=c, pages=pages)
            wall = time.perf_counter() - started
            ttfe = res["first_event"]
            row = {"target": target.name, "concurrent_tasks": c, "tasks": res["tasks"], "pages_done": res["pages_done"],
                   "pages_per_s": round(res["pages_done"] / res["seconds"], 2),
                   "ttfe_p50_ms": ms(pct(ttfe, 50)), "ttfe_p99_ms": ms(pct(ttfe, 99)),
                   # submit → first event that reports work (the first after `queued`, where there is one)
                   "work_p50_ms": ms(pct(res.get("first_work", ttfe), 50)),
                   "submit_ms_p50": ms(pct(res["submit"], 50)),
                   "task_s_p50": round(pct(res["total"], 50) or 0, 2), "wall_s": round(wall, 1),
                   "errors": res["errors"], "loadavg": load(), **target.extra()}
            rows.append(row)
            print(f"  e2e {target.name} concurrent={c}: {row['pages_per_s']} pages/s, submit→first event "
                  f"p50={row['ttfe_p50_ms']}ms p99={row['ttfe_p99_ms']}ms, first work event "
                  f"p50={row['work_p50_ms']}ms, task {row['task_s_p50']} s", flush=True)
    finally:
        target.stop()
    return rows
