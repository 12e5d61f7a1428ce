"""The soak's verdict and report (bench/soak.py): first vs last minute after warm-up, the invariants, markdown."""

from __future__ import annotations

import argparse
from typing import Any

from bench.report import ms, pct


def summarise(args: argparse.Namespace, windows: list[dict[str, Any]], lats: list[list[float]],
              final: dict[str, Any]) -> dict[str, Any]:
    """First vs last minute after warm-up: mean RSS and fds of their windows; p99 of all their latency samples."""
    warm = [w for w in windows if w["warm"]]
    span = min(60.0, (warm[-1]["t"] - warm[0]["t"]) / 2) if len(warm) > 1 else 0.0
    first = [w for w in warm if w["t"] <= warm[0]["t"] + span] or warm[:1]
    last = [w for w in warm if w["t"] >= warm[-1]["t"] - span] or warm[-1:]

    def mean(rows: list[dict[str, Any]], key: str) -> float | None:
        vals = [r[key] for r in rows if r.get(key) is not None]
        return round(sum(vals) / len(vals), 2) if vals else None

    def growth(key: str) -> float | None:
        a, b = mean(first, key), mean(last, key)
        return None if not a or b is None else round(100 * (b - a) / a, 2)

    def pooled(rows: list[dict[str, Any]], p: float) -> float | None:
        return ms(pct([x for w, lat in zip(windows, lats, strict=True) if w in rows for x in lat], p))

    p99_first, p99_last = pooled(first, 99), pooled(last, 99)
    s: dict[str, Any] = {
        "minutes": args.minutes, "streams": args.streams, "mode": args.mode, "warmup_s": args.warmup,
        "first_minute": [first[0]["t"], first[-1]["t"]] if first else None,
        "last_minute": [last[0]["t"], last[-1]["t"]] if last else None,
        "rss_mb_first": mean(first, "rss_mb"), "rss_mb_last": mean(last, "rss_mb"), "rss_growth_pct": growth("rss_mb"),
        "uss_mb_first": mean(first, "uss_mb"), "uss_mb_last": mean(last, "uss_mb"), "uss_growth_pct": growth("uss_mb"),
        "fds_first": mean(first, "fds"), "fds_last": mean(last, "fds"), "fds_growth_pct": growth("fds"),
        "fds_net_first": mean(first, "fds_net"), "fds_net_last": mean(last, "fds_net"),
        "fds_net_growth_pct": growth("fds_net"),
        "streams_client_mean": mean(warm, "streams_client"), "streams_server_mean": mean(warm, "streams_server"),
        "p99_ms_first": p99_first, "p99_ms_last": p99_last, "p50_ms_first": pooled(first, 50),
        "p50_ms_last": pooled(last, 50),
        "p99_ms_max_window": _max(warm, "p99_ms"), "p50_ms_median_window": _median(warm, "p50_ms"),
        "events_per_s_mean": mean(warm, "events_per_s"),
        "lost": final["lost"], "duplicated": final["duplicated"],
        "tasks_submitted": final["tasks_submitted"], "tasks_finished": final["tasks_finished"],
        "follows_ok": final["follows_ok"], "refresh_ok": final["refresh_ok"], "refresh_failed": final["refresh_failed"],
        "relogins": final["relogins"], "cuts": final["cuts"], "server_closes": final["server_closes"],
        "connects": final["connects"], "stream_refused": final["stream_refused"], "errors": final["errors"],
        "events": final["events"], "drain_s": final["drain_s"], "problems": len(final["problems"]),
    }
    nf, nl, f0 = s["fds_net_first"], s["fds_net_last"], s["fds_first"]
    s["fds_growth_at_equal_streams_pct"] = (None if nf is None or nl is None or not f0
                                            else round(100 * (nl - nf) / f0, 2))
    checks = {
        "rss_growth_below_5pct": s["rss_growth_pct"] is not None and s["rss_growth_pct"] < 5,
        # the raw count follows how many streams happen to be open: growth at an equal number of open streams
        "fds_growth_below_5pct": s["fds_growth_at_equal_streams_pct"] is not None
        and s["fds_growth_at_equal_streams_pct"] < 5,
        "no_event_lost": s["lost"] == 0, "no_event_duplicated": s["duplicated"] == 0,
        "every_task_finished": s["tasks_finished"] == s["tasks_submitted"] > 0 and not final["problems"],
        "no_refresh_failed": s["refresh_failed"] == 0 and s["refresh_ok"] > 0,
        "p99_stable": p99_first is not None and p99_last is not None
        and p99_last <= args.p99_ratio * max(p99_first, 50.0),
    }
    s["checks"] = checks
    s["passed"] = all(checks.values())
    return s


def _max(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return max(vals) if vals else None


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    return pct([r[key] for r in rows if r.get(key) is not None], 50)


def markdown(out: dict[str, Any]) -> str:
    s, m = out["summary"], out["machine"]
    lines = [
        f"# Inkstream soak — {out['tag']} ({'PASSED' if s['passed'] else 'FAILED'})",
        f"`{out['command']}` · {m['time']} · {m['cpus']} CPUs, Python {m['python']} · loadavg before "
        f"{m['loadavg']}, after {out['machine_after']['loadavg']}",
        "",
        f"{s['minutes']} min, {s['streams']} streams, {s['mode']}; warm-up {s['warmup_s']:.0f} s; "
        f"first minute after warm-up t={s['first_minute']} s vs last t={s['last_minute']} s",
        "",
        "| measure | first | last | growth / result |",
        "|---|---|---|---|",
        f"| server RSS (MB, mean) | {s['rss_mb_first']} | {s['rss_mb_last']} | {s['rss_growth_pct']} % |",
        f"| server USS (MB, mean; memory unique to each process) | {s['uss_mb_first']} | {s['uss_mb_last']} | "
        f"{s['uss_growth_pct']} % |",
        f"| open file descriptors (mean) | {s['fds_first']} | {s['fds_last']} | {s['fds_growth_pct']} % |",
        f"| open fds − open streams (server gauge), mean | {s['fds_net_first']} | {s['fds_net_last']} | "
        f"{s['fds_net_growth_pct']} %; as a share of all fds (growth at equal streams): "
        f"{s['fds_growth_at_equal_streams_pct']} % |",
        f"| publish→receive p99 (ms, all samples of the minute) | {s['p99_ms_first']} | {s['p99_ms_last']} | "
        f"worst 10 s window {s['p99_ms_max_window']} |",
        f"| publish→receive p50 (ms) | {s['p50_ms_first']} | {s['p50_ms_last']} | |",
        f"| events lost / duplicated | | | {s['lost']} / {s['duplicated']} |",
        f"| tasks submitted / finished (all followers saw `finish` = the log's last id) | | | "
        f"{s['tasks_submitted']} / {s['tasks_finished']} ({s['follows_ok']} follows) |",
        f"| refreshes ok / failed (re-logins) | | | {s['refresh_ok']} / {s['refresh_failed']} ({s['relogins']}) |",
        f"| cuts by clients / closes by server / connects | | | {s['cuts']} / {s['server_closes']} / {s['connects']} |",
        f"| streams open, mean (clients / server gauge) | | | {s['streams_client_mean']} / "
        f"{s['streams_server_mean']} |",
        f"| events delivered (mean /s after warm-up) | | | {s['events']} ({s['events_per_s_mean']}/s) |",
        f"| drain: the tasks in flight at the end ran to `finish` in (s) | | | {s['drain_s']} |",
        "",
        "Checks: " + ", ".join(f"{k} {'✓' if v else '✗'}" for k, v in s["checks"].items()),
    ]
    if s["stream_refused"] or s["errors"]:
        lines.append(f"\nStream opens refused: {s['stream_refused']}; client errors: {s['errors']}")
    if out["problems"]:
        lines += ["", "Problems (first ones):", *(f"- {p}" for p in out["problems"][:20])]
    lines += ["", "| t (s) | RSS MB | USS MB | fds | streams (client/server) | ev/s | p50 ms | p99 ms "
              "| refresh ok/failed | cuts | tasks done | CPU % | load |", "|---" * 13 + "|"]
    lines += [f"| {w['t']} | {w['rss_mb']} | {w['uss_mb']} | {w['fds']} | "
              f"{w['streams_client']}/{w['streams_server']} | {w['events_per_s']} | {w['p50_ms']} | {w['p99_ms']} | "
              f"{w['refresh_ok']}/{w['refresh_failed']} | "
              f"{w['cuts']} | {w['tasks_finished']} | {w['cpu_pct']} | {w['loadavg'][0]} |" for w in out["windows"]]
    return "\n".join(lines)
