"""Resume replay: a client reconnects `behind` events behind (Last-Event-ID) and reads until caught up."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from bench.load.pool import Pool
from bench.report import load
from bench.targets.base import Target


def run(make: Callable[[], Target], pool: Pool, behind: int, repeats: int) -> list[dict[str, Any]]:
    target = make()
    target.start()
    try:
        channel = target.channel()
        after = target.fill(channel, behind)
        path, headers = target.stream(channel, replay=True, after=after)
        runs = [pool.call(0, "resume", host=target.host, port=target.port, path=path, headers=headers,
                          expect=behind) for _ in range(repeats)]
    finally:
        target.stop()
    secs = [r["seconds"] for r in runs]
    row = {"target": target.name, "behind": behind, "caught_up_s": round(statistics.median(secs), 3),
           "best_s": round(min(secs), 3),
           "first_event_ms": round(1000 * statistics.median(r["first_event"] for r in runs), 1),
           "events_per_s": round(behind / statistics.median(secs)), "events": [r["events"] for r in runs],
           "status": runs[0]["status"], "loadavg": load(), **target.extra()}
    print(f"  resume {target.name:<14} {behind} behind: caught up in {row['caught_up_s']} s "
          f"(first event {row['first_event_ms']} ms)", flush=True)
    return [row]
