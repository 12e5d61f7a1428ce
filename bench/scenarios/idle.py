"""Idle streams held open with heartbeats: server RSS per stream, server CPU while idle, streams still alive."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.load.pool import Pool, split
from bench.report import load
from bench.targets.base import Target, cpu_seconds, rss


def run(make: Callable[[], Target], pool: Pool, counts: list[int], hold: float,
        open_rate: float) -> list[dict[str, Any]]:
    rows = []
    for n in counts:
        target = make()
        target.start()
        try:
            channel = target.channel()
            path, headers = target.stream(channel)
            procs = target.processes()
            time.sleep(0.5)
            rss0 = rss(procs)
            started = time.perf_counter()
            opened = pool.call_all("open", [{"n": k} for k in split(n, pool.size)], host=target.host,
                                   port=target.port, path=path, headers=headers, rate=open_rate / pool.size)
            open_seconds = time.perf_counter() - started
            time.sleep(1.0)
            pool.call_all("stats", reset=True, latencies=False)
            rss1, cpu1, t1 = rss(procs), cpu_seconds(procs), time.perf_counter()
            time.sleep(hold)
            rss2, cpu2, t2 = rss(procs), cpu_seconds(procs), time.perf_counter()
            stats = pool.call_all("stats", latencies=False)
            alive = sum(s["alive"] for s in stats)
            ok = sum(o["opened"] for o in opened)
            errors: dict[str, int] = {}
            for o in stats:
                for k, v in o["errors"].items():
                    errors[k] = errors.get(k, 0) + v
            row = {
                "target": target.name, "streams": n, "opened": ok, "alive_after_hold": alive,
                "open_s": round(open_seconds, 1),
                "rss_base_mb": round(rss0 / 2**20, 1), "rss_mb": round(max(rss1, rss2) / 2**20, 1),
                "kb_per_stream": round((max(rss1, rss2) - rss0) / max(ok, 1) / 1024, 2),
                "heartbeats_per_stream": round(sum(s["heartbeats"] for s in stats) / max(alive, 1), 2),
                "hold_s": hold, "server_cpu_pct": round(100 * (cpu2 - cpu1) / (t2 - t1), 1),
                "errors": errors, "loadavg": load(), **target.extra(),
            }
            rows.append(row)
            print(f"  idle {target.name:<14} n={n:<6} opened={ok:<6} alive={alive:<6} "
                  f"{row['kb_per_stream']:>7} KB/stream  cpu {row['server_cpu_pct']}%  errors={errors}", flush=True)
        finally:
            pool.call_all("close")
            target.stop()
    return rows
