"""PostgreSQL restarted mid-task (distributed mode): the task finishes with every page, and the client, resuming
from its last event id whenever its stream breaks, receives every event exactly once, in order.

Restarts the machine's real cluster (other test runs see it blip too), so it is marked slow; the cluster is brought
back up even when the test fails."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import Received, new_account, read_stream, start_generation, wait_status
from tests.support.server import Backend, LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.serial]

PAGES = 12


def _cluster() -> list[str]:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
    if not versions:
        pytest.fail("no local PostgreSQL cluster under /etc/postgresql to restart")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def _pg(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_cluster(), action], capture_output=True, text=True, timeout=120)


@pytest.fixture
def postgres_back_afterwards() -> Iterator[None]:
    try:
        yield
    finally:
        if _pg("status").returncode != 0:
            _pg("start")


def test_postgres_restart_mid_task_loses_no_event(tmp_path: Path, postgres_back_afterwards: None) -> None:
    backend = Backend().create()
    live = LiveServer(tmp_path / "data", backend=backend, workers=1, offline_delay=0.3, worker_concurrency=2,
                      page_concurrency=2, heartbeat_interval=1)
    try:
        live.start()
        with httpx.Client(base_url=live.url, timeout=30) as http:
            account = new_account(http)
            task_id = start_generation(http, account, PAGES)
            status, got = read_stream(http, task_id, account, max_events=6)
            assert status == 200 and not got.finished
            started = time.monotonic()
            restarted = _pg("restart")
            assert restarted.returncode == 0, restarted.stderr
            down = time.monotonic() - started
            got = _read_to_finish(http, account, task_id, got)
            wait_status(http, account, task_id, "done")
            took = time.monotonic() - started
            print(f"\npostgres restart: the restart took {down:.1f} s; the task finished {took:.1f} s after it began,"
                  f" {got.last_id} events received once each, in order")
    finally:
        live.stop()
        backend.drop()
    assert got.ids == list(range(1, got.last_id + 1)), got.ids  # nothing lost, nothing twice, in order
    completes = sorted(e[2]["index"] for e in got.events if e[1] == "complete")
    assert completes == list(range(PAGES))
    finish = got.events[-1][2]
    assert finish["success"] is True and finish["completed"] == PAGES


def _read_to_finish(http: httpx.Client, account, task_id: str, got: Received) -> Received:  # type: ignore[no-untyped-def]
    """Resume from the last event id after every break, as the SDK does, until `finish`."""
    deadline = time.monotonic() + 120
    while not got.finished:
        assert time.monotonic() < deadline, f"no finish; got {got.ids}"
        try:
            status, got = read_stream(http, task_id, account, after=got.last_id, received=got, timeout=60)
            if status != 200:
                time.sleep(0.5)
        except (httpx.HTTPError, AssertionError):
            time.sleep(0.5)
    return got
