"""Soak (issue 15): a real Inkstream server for many minutes under thousands of checked, cut and resumed streams.

    .venv/bin/python -m bench.soak --minutes 20 --streams 2000                      # the full run (embedded)
    .venv/bin/python -m bench.soak --minutes 20 --streams 2000 --mode distributed   # PostgreSQL + private Redis
    .venv/bin/python -m bench.soak --minutes 2 --streams 200                        # a smoke run

The server runs with 30 s access tokens and the offline generators slowed per page, so tasks are always running.
Users' sessions (in `--load-procs` processes, bench/load/soak_client.py) keep a task each in flight, follow it
with their streams, rotate their refresh token before the access token expires, and cut streams at random.
Every ~10 s: server RSS and open files (psutil, all its processes), open streams (clients and the server's
gauge), events/s, publish→receive latency (an event's `created_at` in the log vs its arrival, same clock).
Invariants, checked at the end (non-zero exit if one fails): RSS and open files grow < 5 % from the first minute
after warm-up to the last, no event lost or repeated, every followed task reached `finish`, no refresh failed,
p99 of the last minute within `--p99-ratio` of the first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.load.pool import Pool, split
from bench.report import RESULTS, load, machine, ms, pct
from bench.soak_report import markdown, summarise
from bench.targets.base import spawn, stop
from bench.targets.baselines import PrivateRedis
from bench.targets.inkstream import Inkstream

PASSWORD = "correct horse battery staple"


class EventTimes:
    """When each event was appended (`task_events.created_at`), read from the server's own database."""

    def __init__(self, target: Inkstream) -> None:
        self.target = target
        self.sqlite = Path(target.env["INKSTREAM_DATA_DIR"]) / "inkstream.db"

    def of(self, task_ids: set[str]) -> dict[tuple[str, int], float]:
        if not task_ids:
            return {}
        if self.target.distributed:
            return asyncio.run(self._postgres(sorted(task_ids)))
        con = sqlite3.connect(f"file:{self.sqlite}?mode=ro", uri=True, timeout=10)
        try:
            marks = ",".join("?" * len(task_ids))
            rows = con.execute(f"SELECT task_id, id, created_at FROM task_events WHERE task_id IN ({marks})",  # noqa: S608
                               sorted(task_ids)).fetchall()
        finally:
            con.close()
        return {(t, int(i)): _epoch(c) for t, i, c in rows}

    async def _postgres(self, task_ids: list[str]) -> dict[tuple[str, int], float]:
        import asyncpg

        con = await asyncpg.connect(self.target.backend.database_url)
        try:
            rows = await con.fetch("SELECT task_id, id, created_at FROM task_events WHERE task_id = ANY($1)", task_ids)
        finally:
            await con.close()
        return {(r["task_id"], int(r["id"])): _epoch(r["created_at"]) for r in rows}


def _epoch(value: Any) -> float:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


class Server:
    """The Inkstream target (bench/targets/inkstream.py), plus `inkstream worker` processes in distributed mode."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.redis = PrivateRedis(workdir).start() if args.mode == "distributed" else None
        self.target = Inkstream(
            workdir, args.heartbeat, distributed=self.redis is not None,
            redis_url=self.redis.url if self.redis else "", offline_delay=args.offline_delay,
            access_token_ttl=args.token_ttl, page_concurrency=args.page_concurrency,
            worker_concurrency=args.page_concurrency, page_timeout=600)
        self.workers: list[Any] = []
        self.n_workers = args.workers if self.redis else 0

    def start(self) -> None:
        self.target.start()
        for n in range(self.n_workers):
            log = self.target.workdir / f"worker-{n}.log"
            self.workers.append(spawn([sys.executable, "-m", "inkstream", "worker"], log, self.target.env))

    def processes(self) -> list[psutil.Process]:
        procs = self.target.processes()
        for w in self.workers:
            try:
                root = psutil.Process(w.pid)
                procs += [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
        return procs

    def streams_open(self) -> float | None:
        """The server's own gauge of open SSE streams (GET /api/metrics, loopback)."""
        try:
            text = self.target.http.get("/api/metrics", timeout=10).text
        except httpx.HTTPError:
            return None
        for line in text.splitlines():
            if line.startswith("inkstream_sse_streams_open "):
                return float(line.split()[1])
        return None

    def stop(self) -> None:
        for w in self.workers:
            stop(w)
        self.target.stop()
        if self.redis is not None:
            self.redis.stop()


def usage(procs: list[psutil.Process]) -> tuple[int, int, int, float]:
    """(RSS, USS bytes, open file descriptors, CPU seconds) summed over the server's processes. RSS counts the
    pages the render pool's processes share once per process; USS (memory unique to each) does not."""
    rss = uss = fds = 0
    cpu = 0.0
    for p in procs:
        try:
            rss += p.memory_info().rss
            uss += p.memory_full_info().uss
            fds += p.num_fds()
            t = p.cpu_times()
            cpu += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return rss, uss, fds, cpu


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    tag = args.tag or (args.mode + ("-smoke" if args.minutes < 20 else ""))
    workdir = Path(tempfile.mkdtemp(prefix="inkstream-soak-"))
    meta: dict[str, Any] = {"command": " ".join([".venv/bin/python", "-m", "bench.soak", *(argv or sys.argv[1:])]),
                            "tag": tag, "config": vars(args), "machine": machine()}
    print(f"soak {tag}: {args.streams} streams, {args.users} users × {args.sessions_per_user} sessions, "
          f"{args.minutes} min; machine {meta['machine']}", flush=True)
    server = Server(args, workdir)
    server.start()
    try:
        with Pool(args.load_procs) as pool:
            windows, lats, final = drive(args, server, pool)
    finally:
        server.stop()
    meta["machine_after"] = machine()
    summary = summarise(args, windows, lats, final)
    out = {**meta, "summary": summary, "windows": windows, "problems": final["problems"]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"soak-{tag}.json").write_text(json.dumps(out, indent=2, ensure_ascii=False))
    md = markdown(out)
    (RESULTS / f"soak-{tag}.md").write_text(md + "\n")
    print("\n" + md, flush=True)
    if summary["passed"]:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"\nserver logs and data kept in {workdir}", flush=True)
    return 0 if summary["passed"] else 1


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.soak", description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=20)
    p.add_argument("--streams", type=int, default=2000, help="SSE streams held open (over all sessions)")
    p.add_argument("--mode", choices=["embedded", "distributed"], default="embedded")
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--sessions-per-user", type=int, default=1, help="each keeps one task running at a time")
    p.add_argument("--ramp", type=float, default=30.0, help="seconds over which the sessions start")
    p.add_argument("--pages", type=int, default=3, help="pages per task")
    p.add_argument("--offline-delay", type=float, default=4.0, help="seconds per page (INKSTREAM_OFFLINE_DELAY)")
    p.add_argument("--page-concurrency", type=int, default=4,
                   help="pages at once: with the delay, what the renderer costs (~0.3 s of CPU a page)")
    p.add_argument("--workers", type=int, default=1, help="`inkstream worker` processes (distributed)")
    p.add_argument("--token-ttl", type=int, default=30, help="INKSTREAM_ACCESS_TOKEN_TTL, seconds")
    p.add_argument("--heartbeat", type=float, default=5.0)
    p.add_argument("--cut-every", type=float, default=60.0, help="mean seconds between a stream's own cuts")
    p.add_argument("--ticket-share", type=float, default=0.5, help="share of sessions opening streams by ticket")
    p.add_argument("--sample-every", type=int, default=10, help="1 stream in N records latency")
    p.add_argument("--interval", type=float, default=10.0, help="seconds per sample window")
    p.add_argument("--warmup", type=float, default=None, help="seconds (default: a quarter of the run, ≤ 5 min)")
    p.add_argument("--drain", type=float, default=240.0, help="seconds for the tasks in flight to finish at the end")
    p.add_argument("--task-timeout", type=float, default=600.0)
    p.add_argument("--p99-ratio", type=float, default=2.0, help="last minute's p99 may be this × the first's")
    p.add_argument("--load-procs", type=int, default=2)
    p.add_argument("--tag", default="")
    args = p.parse_args(argv)
    if args.warmup is None:
        args.warmup = max(args.ramp + 15, min(300.0, args.minutes * 60 / 4))
    return args


def _first_task(target: Inkstream, timeout: float = 180) -> None:
    """Run one task before the clients come: the render pool's processes start and the offline writer loads its
    dictionary once per process — a one-off the soak should not count (nor time its first logins against)."""
    task_id = target.new_task(pages=1)
    deadline = time.monotonic() + timeout
    while True:
        r = target.http.get(f"/api/generate/{task_id}", headers=target.auth)
        if r.status_code == 401:  # the bench user's 30 s token
            r = target.http.post("/api/auth/login", json={"username": f"bench_{target.port}",
                                                          "password": "correct horse battery"})
            target.token = r.json()["access_token"]
            continue
        if r.json()["status"] in ("done", "partial", "failed", "cancelled"):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the first task did not finish in {timeout:.0f} s")
        time.sleep(0.5)


def drive(args: argparse.Namespace, server: Server, pool: Pool,
          ) -> tuple[list[dict[str, Any]], list[list[float]], dict[str, Any]]:
    target = server.target
    _first_task(target)
    users = [(f"soak{n:03d}_{target.port}", PASSWORD) for n in range(args.users)]
    for username, password in users:
        r = target.http.post("/api/auth/register", json={"username": username, "password": password})
        assert r.status_code == 201, r.text
    n_sessions = args.users * args.sessions_per_user
    streams = split(args.streams, n_sessions)
    user_split = split(args.users, pool.size)
    starts, u0 = [], 0
    for i, nu in enumerate(user_split):
        s0, s1 = u0 * args.sessions_per_user, (u0 + nu) * args.sessions_per_user
        starts.append({"users": users[u0:u0 + nu], "streams_per_session": streams[s0:s1], "first_index": s0})
        u0 += nu
        del i
    pool.call_all("soak", per_worker=starts, action="start", host=target.host, port=target.port,
                  sessions_per_user=args.sessions_per_user, pages=args.pages, cut_mean=args.cut_every,
                  sample_every=args.sample_every, ticket_share=args.ticket_share, task_timeout=args.task_timeout,
                  ramp=args.ramp)
    times = EventTimes(target)
    procs = server.processes()
    t0 = time.monotonic()
    end = t0 + max(1, round(args.minutes * 60 / args.interval)) * args.interval  # whole windows only
    prev = _totals([{}] * pool.size)
    *_, cpu_prev = usage(procs)
    windows: list[dict[str, Any]] = []
    lats: list[list[float]] = []
    w_start = t0
    while w_start < end - 1:
        time.sleep(max(0.0, w_start + args.interval - time.monotonic()))
        results = pool.call_all("soak", action="sample")
        procs = server.processes()  # a process may have been added (none should have been)
        rss, uss, fds, cpu = usage(procs)
        totals = _totals(results)
        elapsed = time.monotonic() - w_start
        w_start += elapsed
        lat = latencies(times, results)
        lats.append(lat)
        row = {"t": round(time.monotonic() - t0, 1), "rss_mb": round(rss / 2**20, 1),
               "uss_mb": round(uss / 2**20, 1), "fds": fds,
               "processes": len(procs), "streams_client": totals["open"], "streams_server": server.streams_open(),
               "events_per_s": round((totals["events"] - prev["events"]) / elapsed, 1),
               "p50_ms": ms(pct(lat, 50)), "p99_ms": ms(pct(lat, 99)), "latency_samples": len(lat),
               "cpu_pct": round(100 * (cpu - cpu_prev) / elapsed, 1), "loadavg": load(),
               **{k: totals[k] - prev[k] for k in DELTAS}}
        # an fd a leak would leave: one not explained by an open stream's socket (raw fds follow the stream count)
        row["fds_net"] = fds - int(row["streams_server"]) if row["streams_server"] is not None else None
        row["warm"] = row["t"] >= args.warmup
        windows.append(row)
        prev, cpu_prev = totals, cpu
        print(f"  t={row['t']:>6}s rss={row['rss_mb']}MB uss={row['uss_mb']}MB fds={fds} "
              f"streams={row['streams_client']}/{row['streams_server']} ev/s={row['events_per_s']} "
              f"p50/p99={row['p50_ms']}/{row['p99_ms']}ms "
              f"refresh={row['refresh_ok']}/{row['refresh_failed']} cuts={row['cuts']} "
              f"tasks={row['tasks_finished']} lost/dup={totals['lost']}/{totals['duplicated']} "
              f"cpu={row['cpu_pct']}% load={row['loadavg'][0]}", flush=True)
    print(f"  draining: tasks in flight run to finish (≤ {args.drain:.0f} s)", flush=True)
    finals = pool.call_all("soak", action="stop", drain=args.drain)
    final = _totals(finals)
    final["drain_s"] = round(time.monotonic() - end, 1)
    return windows, lats, final


DELTAS = ["connects", "cuts", "server_closes", "refresh_ok", "refresh_failed", "relogins", "tasks_submitted",
          "tasks_finished"]
TOTALS = [*DELTAS, "follows_ok", "duplicated", "lost", "events", "heartbeats", "open"]


def _totals(results: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {k: sum(int(r.get(k, 0)) for r in results) for k in TOTALS}
    for key in ("stream_refused", "errors"):
        merged: dict[str, int] = {}
        for r in results:
            for k, v in r.get(key, {}).items():
                merged[k] = merged.get(k, 0) + v
        out[key] = merged
    out["problems"] = [p for r in results for p in r.get("problems", [])]
    return out


def latencies(times: EventTimes, results: list[dict[str, Any]]) -> list[float]:
    """Publish → receive of the events that arrived live (published while the receiving connection was open)."""
    samples = [s for r in results for s in r.get("samples", [])]
    created = times.of({s[0] for s in samples})
    out = []
    for task_id, event_id, received, opened in samples:
        at = created.get((task_id, event_id))
        if at is not None and at >= opened:
            out.append(received - at)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
