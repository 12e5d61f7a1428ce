"""docs/ops: the Prometheus alert rules pass promtool (syntax and unit tests), and every metric the rules and the
Grafana dashboard use is one a real API node serves at /api/metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from tests.support.client import Account, refresh, start_generation, wait_status
from tests.support.server import LiveServer

OPS = Path(__file__).resolve().parents[2] / "docs" / "ops"
PROMTOOL = shutil.which("promtool")
METRIC = re.compile(r"\b(inkstream_[a-z_]+)\b")


def _promtool(*args: str) -> str:
    assert PROMTOOL, "promtool is missing: apt-get install prometheus (scripts/system-packages.sh does)"
    done = subprocess.run([PROMTOOL, *args], cwd=OPS, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rules_are_valid_and_their_unit_tests_pass() -> None:
    assert "SUCCESS: 9 rules found" in _promtool("check", "rules", "alerts.yml")
    assert "SUCCESS" in _promtool("test", "rules", "alerts_test.yml")


def _used_metrics() -> set[str]:
    rules = yaml.safe_load((OPS / "alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    names = {m for e in exprs for m in METRIC.findall(e)}
    return {n for n in names if not n.startswith("inkstream:")}


def test_every_metric_used_is_served(server: LiveServer, http: httpx.Client, account: Account) -> None:
    task_id = start_generation(http, account, 1)
    wait_status(http, account, task_id, "done")
    refresh(http, account)
    http.post("/api/telemetry/stream", headers=account.headers,
              json={"outcome": "finished", "reconnects": 1, "reasons": {"network": 1}})
    with http.stream("GET", f"/api/generate/stream/{task_id}", headers=account.headers) as r:
        r.read()
    scraped = http.get("/api/metrics").text
    served = set(re.findall(r"^(inkstream_[a-z_]+)", scraped, re.M))
    missing = _used_metrics() - served
    assert not missing, f"rules or dashboard use metrics no node serves: {sorted(missing)}"
    workers = re.search(r'^inkstream_nodes_alive\{kind="worker"\} (\S+)', scraped, re.M)
    assert workers is not None and float(workers.group(1)) >= 1  # embedded: the API node is its own worker
