"""Run the SSE benchmark: every scenario against Inkstream and the baselines, in one invocation.

    .venv/bin/python -m bench.run --quick            # < 3 minutes, small numbers, a smoke test of the numbers
    .venv/bin/python -m bench.run                    # full: 1k/5k/10k idle streams, 1k-subscriber fan-out, …
    .venv/bin/python -m bench.run --scenarios fanout --targets inkstream,bare

Results: bench/results/<scenario>.json (every row with the machine load at the time) and bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load.pool import Pool
from bench.report import RESULTS, load, machine, ratio, save, table
from bench.scenarios import connect, e2e, fanout, idle, resume
from bench.targets.base import Target
from bench.targets.baselines import BareSSE, FlaskRedis, Nchan, PrivateRedis
from bench.targets.inkstream import Inkstream

ALL_SCENARIOS = ["idle", "fanout", "resume", "connect", "e2e"]
ALL_TARGETS = ["inkstream", "inkstream-dist", "bare", "nchan", "flask-redis"]

QUICK: dict[str, Any] = {
    "heartbeat": 2.0, "idle_counts": [1000], "idle_hold": 4.0, "open_rate": 1000,
    "fanout_subscribers": 200, "fanout_rates": [20, 100], "fanout_step": 3.0,
    "resume_behind": 10_000, "resume_repeats": 1,
    "connect_duration": 3.0, "connect_concurrency": 16,
    "e2e_tasks": 3, "e2e_concurrent": [1],
    "targets": ["inkstream", "bare", "nchan", "flask-redis"],
}
FULL: dict[str, Any] = {
    "heartbeat": 5.0, "idle_counts": [1000, 5000, 10000], "idle_hold": 20.0, "open_rate": 500,
    "fanout_subscribers": 1000, "fanout_rates": [10, 25, 50, 100], "fanout_step": 8.0,
    "resume_behind": 10_000, "resume_repeats": 3,
    "connect_duration": 10.0, "connect_concurrency": 32,
    "e2e_tasks": 12, "e2e_concurrent": [1, 4],
    "targets": ALL_TARGETS,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small numbers, < 3 minutes")
    parser.add_argument("--scenarios", default=",".join(ALL_SCENARIOS))
    parser.add_argument("--targets", default="", help=f"comma list of {ALL_TARGETS} (default: the mode's)")
    parser.add_argument("--load-procs", type=int, default=2, help="load-generator processes")
    parser.add_argument("--tag", default="", help="suffix of the result file names")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="override a mode setting, e.g. idle_counts=[10000]")
    parser.add_argument("--patched", default="", metavar="DIR",
                        help="a directory holding a patched `inkstream` package: adds targets inkstream-patched "
                             "(and inkstream-dist-patched when inkstream-dist runs), side by side with the repo's")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    import json

    for item in args.set:
        k, _, v = item.partition("=")
        cfg[k] = json.loads(v)
    scenarios = [s for s in args.scenarios.split(",") if s]
    targets = [t for t in (args.targets.split(",") if args.targets else cfg["targets"]) if t]
    if args.patched and not any("-patched" in t for t in targets):  # no explicit choice: A/B every inkstream
        targets = [x for t in targets for x in ([t, t + "-patched"] if t.startswith("inkstream") else [t])
                   if not x.endswith("-patched-patched")]
    # quick runs never overwrite the committed full results
    suffix = ("-quick" if args.quick else "") + (f"-{args.tag}" if args.tag else "")
    workdir = Path(tempfile.mkdtemp(prefix="inkstream-bench-"))
    meta = {"command": " ".join([Path(sys.executable).name, "-m", "bench.run", *(argv or sys.argv[1:])]),
            "mode": "quick" if args.quick else "full", "config": cfg, "machine": machine(),
            "load_procs": args.load_procs}
    print(f"bench: {meta['mode']} {scenarios} × {targets}; machine {meta['machine']}", flush=True)
    private_redis = any(t.split("@")[0] in ("flask-redis", "inkstream-dist") for t in targets)
    redis = PrivateRedis(workdir).start() if private_redis else None
    hb = cfg["heartbeat"]

    def factory(label: str, **kw: Any) -> Callable[[], Target]:
        # "inkstream@page_concurrency=2": an Inkstream setting (INKSTREAM_PAGE_CONCURRENCY) for this target only
        name, _, setting = label.partition("@")
        if setting:
            key, _, value = setting.partition("=")
            kw = {**kw, key: value}
        if name.endswith("-patched"):
            name, kw = name.removesuffix("-patched"), {**kw, "patched_src": str(Path(args.patched).resolve())}

        def make() -> Target:
            target = _make()
            if setting:
                target.name = label
            return target

        def _make() -> Target:
            if name == "inkstream":
                return Inkstream(workdir, hb, **kw)
            if name == "inkstream-dist":
                assert redis is not None
                return Inkstream(workdir, hb, distributed=True, redis_url=redis.url, **kw)
            if name == "bare":
                return BareSSE(workdir, hb)
            if name == "nchan":
                return Nchan(workdir, hb)
            if name == "flask-redis":
                assert redis is not None
                return FlaskRedis(workdir, hb, redis_url=redis.url)
            raise ValueError(name)
        return make

    def supports(name: str, scenario: str) -> bool:
        return scenario in factory(name)().scenarios

    outputs: dict[str, list[dict[str, Any]]] = {}
    started = time.monotonic()
    try:
        with Pool(args.load_procs) as pool, Pool(1) as publisher:
            for scenario in scenarios:
                print(f"\n# {scenario}", flush=True)
                rows: list[dict[str, Any]] = []
                for name in targets:
                    if not supports(name, scenario):
                        continue
                    try:
                        rows += _run(scenario, factory(name), pool, publisher, cfg)
                    except Exception as exc:  # noqa: BLE001 - one target failing must not lose the others' rows
                        print(f"  {name}: FAILED {type(exc).__name__}: {exc}", flush=True)
                        rows.append({"target": name, "failed": f"{type(exc).__name__}: {exc}"[:500], "loadavg": load()})
                _ratios(scenario, rows)
                outputs[scenario] = rows
                save(scenario + suffix, {**meta, "scenario": scenario, "rows": rows})
    finally:
        if redis is not None:
            redis.stop()
    meta["seconds"] = round(time.monotonic() - started, 1)
    meta["machine_after"] = machine()
    md = _markdown(meta, outputs)
    print("\n" + md)
    (RESULTS / f"latest{suffix}.md").write_text(md + "\n")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _run(scenario: str, make: Callable[[], Target], pool: Pool, publisher: Pool,
         cfg: dict[str, Any]) -> list[dict[str, Any]]:
    if scenario == "idle":
        return idle.run(make, pool, cfg["idle_counts"], cfg["idle_hold"], cfg["open_rate"])
    if scenario == "fanout":
        return fanout.run(make, pool, publisher, cfg["fanout_subscribers"], cfg["fanout_rates"], cfg["fanout_step"])
    if scenario == "resume":
        return resume.run(make, pool, cfg["resume_behind"], cfg["resume_repeats"])
    if scenario == "connect":
        return connect.run(make, pool, cfg["connect_duration"], cfg["connect_concurrency"])
    if scenario == "e2e":
        if "e2e" not in make().scenarios:
            return []
        return e2e.run(lambda: make_e2e(make), pool, cfg["e2e_tasks"], cfg["e2e_concurrent"])
    raise ValueError(scenario)


def make_e2e(make: Callable[[], Target]) -> Target:
    target = make()
    assert isinstance(target, Inkstream)
    target.offline_delay = 0.0  # the real offline renderer, no artificial delay
    return target


# --- ratios against the bare baseline (and nchan for resume), as the issue asks ---
KEYS = {"idle": ("streams", ["kb_per_stream", "server_cpu_pct"]),
        "fanout": ("rate", ["p50_ms", "p99_ms", "delivered_per_s"]),
        "connect": (None, ["connects_per_s", "p50_ms", "p99_ms"]), "resume": (None, ["caught_up_s"]),
        "e2e": ("concurrent_tasks", ["pages_per_s", "ttfe_p50_ms"])}


def _ratios(scenario: str, rows: list[dict[str, Any]]) -> None:
    if scenario not in KEYS:
        return
    key, metrics = KEYS[scenario]
    base_name = {"resume": "nchan", "e2e": "-"}.get(scenario, "bare")
    base = {r.get(key): r for r in rows if r.get("target") == base_name and "failed" not in r}
    for r in rows:
        b = base.get(r.get(key))
        if b is None or r.get("target") == base_name:
            continue
        for m in metrics:
            r[f"{m}_vs_{base_name}"] = ratio(r.get(m), b.get(m))
    # a patched service against the same service unpatched, same invocation
    for r in rows:
        name = str(r.get("target", ""))
        if name.endswith("-patched"):
            u = next((x for x in rows if x.get("target") == name.removesuffix("-patched") and x.get(key) == r.get(key)
                      and "failed" not in x), None)
            if u is not None:
                for m in metrics:
                    r[f"{m}_vs_unpatched"] = ratio(r.get(m), u.get(m))


COLUMNS = {
    "idle": ["target", "streams", "opened", "alive_after_hold", "kb_per_stream", "kb_per_stream_vs_bare",
             "server_cpu_pct", "heartbeats_per_stream", "open_s", "errors", "loadavg"],
    "fanout": ["target", "subscribers", "rate", "published_per_s", "delivered_per_s", "delivered_pct", "p50_ms",
               "p99_ms", "p99_ms_vs_bare", "server_cpu_pct", "loadavg"],
    "resume": ["target", "behind", "caught_up_s", "best_s", "first_event_ms", "events_per_s",
               "caught_up_s_vs_nchan", "loadavg"],
    "connect": ["target", "concurrency", "connects_per_s", "connects_per_s_vs_bare", "p50_ms", "p99_ms",
                "server_cpu_pct", "errors", "loadavg"],
    "e2e": ["target", "concurrent_tasks", "tasks", "pages_per_s", "ttfe_p50_ms", "ttfe_p99_ms", "work_p50_ms",
            "submit_ms_p50", "task_s_p50", "errors", "loadavg"],
}


def _markdown(meta: dict[str, Any], outputs: dict[str, list[dict[str, Any]]]) -> str:
    m = meta["machine"]
    parts = [f"# Inkstream SSE bench — {meta['mode']}",
             f"`{meta['command']}` · {m['time']} · {m['cpus']} CPUs, {m['ram_gb']} GB, Python {m['python']}, "
             f"kernel {m['kernel']} · loadavg before {m['loadavg']}, after {meta['machine_after']['loadavg']} · "
             f"{meta['load_procs']} load processes · {meta['seconds']} s"]
    for scenario, rows in outputs.items():
        cols = COLUMNS[scenario]
        failed = [r for r in rows if "failed" in r]
        parts.append(table(scenario, [r for r in rows if "failed" not in r], cols))
        parts += [f"- {r['target']} failed: {r['failed']}" for r in failed]
    return "\n\n".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
