"""Connect rate: open a stream (with the target's auth) → first event → close, in loops, for `duration`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.load.pool import Pool
from bench.report import load, ms, pct
from bench.targets.base import Target, cpu_seconds


def run(make: Callable[[], Target], pool: Pool, duration: float, concurrency: int) -> list[dict[str, Any]]:
    target = make()
    target.start()
    try:
        channel = target.channel()
        if target.name in ("nchan",):
            target.fill(channel, 1)  # nchan's /replay/ location hands this message to each new subscriber
        path, headers = target.stream(channel, replay=True)
        procs = target.processes()
        cpu0 = cpu_seconds(procs)
        res = pool.call_all("connect_loop", host=target.host, port=target.port, path=path, headers=headers,
                            duration=duration, concurrency=max(1, concurrency // pool.size))
        cpu1 = cpu_seconds(procs)
    finally:
        target.stop()
    lat = [x for r in res for x in r["latencies"]]
    seconds = max(r["seconds"] for r in res)
    errors: dict[str, int] = {}
    for r in res:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    row = {"target": target.name, "concurrency": concurrency, "connects_per_s": round(len(lat) / seconds, 1),
           "p50_ms": ms(pct(lat, 50)), "p99_ms": ms(pct(lat, 99)), "completed": len(lat), "errors": errors,
           "server_cpu_pct": round(100 * (cpu1 - cpu0) / seconds, 1), "loadavg": load(), **target.extra()}
    print(f"  connect {target.name:<14} {row['connects_per_s']}/s  open→first event p50={row['p50_ms']}ms "
          f"p99={row['p99_ms']}ms errors={errors}", flush=True)
    return [row]
