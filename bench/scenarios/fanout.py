"""Fan-out: many subscribers on one stream, events published at rising rates. Each event carries its publish
time (`ts`, wall clock, same machine) so receivers measure publish→receive latency; 1 subscriber in
`record_every` records latencies, every subscriber counts events."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench.load.pool import Pool, split
from bench.report import load, ms, pct
from bench.targets.base import Target, cpu_seconds


def run(make: Callable[[], Target], pool: Pool, publisher: Pool, subscribers: int, rates: list[float],
        step: float, record_every: int = 10) -> list[dict[str, Any]]:
    rows = []
    target = make()
    target.start()
    try:
        channel = target.channel()
        path, headers = target.stream(channel)
        pool.call_all("open", [{"n": k} for k in split(subscribers, pool.size)], host=target.host, port=target.port,
                      path=path, headers=headers, rate=2000 / pool.size, record_every=record_every)
        time.sleep(1.0)
        procs = target.processes()
        for rate in rates:
            pool.call_all("stats", reset=True, latencies=False)
            cpu0, t0 = cpu_seconds(procs), time.time()
            pub = publisher.call(0, "publish", rate=rate, duration=step, **target.publisher(channel))
            # drain: wait until deliveries stop (or 10 s), so late events count with their latency
            total, deadline = -1, time.monotonic() + 10
            while time.monotonic() < deadline:
                time.sleep(0.25)
                now = sum(s["events"] for s in pool.call_all("stats", latencies=False))
                if now == total:
                    break
                total = now
            cpu1 = cpu_seconds(procs)
            stats = pool.call_all("stats")
            lat = [x for s in stats for x in s["latencies"]]
            events = sum(s["events"] for s in stats)
            last = max(s["last_event_at"] for s in stats)
            expected = pub["published"] * subscribers
            span = max(last - t0, step) if events else step
            row = {
                "target": target.name, "subscribers": subscribers, "rate": rate,
                "published_per_s": round(pub["rate_achieved"], 1), "delivered_per_s": round(events / span),
                "expected_per_s": round(expected / pub["seconds"]),
                "delivered_pct": round(100 * events / max(expected, 1), 1),
                "p50_ms": ms(pct(lat, 50)), "p99_ms": ms(pct(lat, 99)), "max_ms": ms(max(lat) if lat else None),
                "server_cpu_pct": round(100 * (cpu1 - cpu0) / (time.time() - t0), 1),
                "alive": sum(s["alive"] for s in stats), "publish_errors": pub["errors"], "loadavg": load(),
                **target.extra(),
            }
            rows.append(row)
            print(f"  fanout {target.name:<14} rate={rate:<6} delivered/s={row['delivered_per_s']:<8} "
                  f"({row['delivered_pct']}%) p50={row['p50_ms']}ms p99={row['p99_ms']}ms cpu={row['server_cpu_pct']}%",
                  flush=True)
            if row["p99_ms"] is None or row["p99_ms"] > 5000 or row["delivered_pct"] < 50:
                break  # saturated: higher rates only pile up a backlog
    finally:
        pool.call_all("close")
        target.stop()
    return rows
