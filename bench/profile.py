"""Profile the Inkstream server under one scenario's load with py-spy (sampling, no code change in the service).
Samples only the thread holding the GIL (`--gil`), so idle aiosqlite threads blocked on their queue don't count.

    .venv/bin/python -m bench.profile idle --streams 1000 --heartbeat 2
    .venv/bin/python -m bench.profile fanout --streams 200 --rate 50
    .venv/bin/python -m bench.profile connect
    .venv/bin/python -m bench.profile fanout --patched /tmp/inkstream-proto --name fanout-patched

Writes bench/results/profiles/<scenario>.{svg,txt}: a flame graph and the top functions by own and total time.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.load.pool import Pool, split
from bench.report import RESULTS, load
from bench.targets.inkstream import Inkstream

PROFILES = RESULTS / "profiles"


def _py_spy(pid: int, seconds: float, out: Path, fmt: str) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
                             "--format", fmt, "--output", str(out), "--nonblocking", "--gil"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def summarize(raw: Path, top: int = 30) -> str:
    """Own and inclusive sample counts per function from py-spy's collapsed-stack output."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        samples += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for f in set(frames):
            total[f] += n
    lines = [f"samples: {samples}", "", "own time:"]
    lines += [f"  {100 * n / samples:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"  {100 * n / samples:5.1f}%  {f}" for f, n in total.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["idle", "fanout", "connect"])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--heartbeat", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--name", default="")
    parser.add_argument("--patched", default="", metavar="DIR", help="profile the `inkstream` package in DIR instead")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="inkstream-prof-"))
    PROFILES.mkdir(parents=True, exist_ok=True)
    name = args.name or args.scenario
    target = Inkstream(workdir, args.heartbeat, patched_src=str(Path(args.patched).resolve()) if args.patched else "")
    target.start()
    try:
        with Pool(2) as pool, Pool(1) as publisher:
            channel = target.channel()
            path, headers = target.stream(channel)
            if args.scenario in ("idle", "fanout"):
                pool.call_all("open", [{"n": k} for k in split(args.streams, 2)], host=target.host, port=target.port,
                              path=path, headers=headers, rate=500)
                time.sleep(1)
            assert target.proc is not None
            spies = [_py_spy(target.proc.pid, args.seconds, PROFILES / f"{name}.svg", "flamegraph"),
                     _py_spy(target.proc.pid, args.seconds, PROFILES / f"{name}.collapsed", "raw")]
            time.sleep(0.5)
            if args.scenario == "fanout":
                res = publisher.call(0, "publish", rate=args.rate, duration=args.seconds, **target.publisher(channel))
                print("published", res)
            elif args.scenario == "connect":
                res = pool.call_all("connect_loop", host=target.host, port=target.port, path=path, headers=headers,
                                    duration=args.seconds, concurrency=8)
                print("connects/s", sum(len(r["latencies"]) for r in res) / args.seconds)
            else:
                time.sleep(args.seconds)
            for spy in spies:
                spy.wait(args.seconds + 30)
            pool.call_all("close")
    finally:
        target.stop()
    text = f"{args} loadavg={load()}\n" + summarize(PROFILES / f"{name}.collapsed")
    (PROFILES / f"{name}.txt").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
