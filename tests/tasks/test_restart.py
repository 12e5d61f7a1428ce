"""A server killed mid-task: on restart the task finishes, done pages are not redone, the stream loses nothing."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.client import new_account, read_stream, start_generation


def test_killed_server_resumes_task_and_stream(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(offline_delay=0.3, page_concurrency=2, worker_concurrency=2)
    live.start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 12)
        status, got = read_stream(http, task_id, account, max_events=8)
        assert status == 200 and not got.finished
        live.kill()
        before = {e[2]["index"] for e in got.events if e[1] == "complete"}
        live.start()
        status, got = read_stream(http, task_id, account, after=got.last_id, received=got)
        assert status == 200 and got.finished
    assert got.ids == list(range(1, got.last_id + 1))
    completes = [e[2]["index"] for e in got.events if e[1] == "complete"]
    assert sorted(completes) == list(range(12))  # each page's result exactly once
    finish = got.events[-1][2]
    assert finish["completed"] == 12 and finish["failed"] == 0
    # Pages finished before the crash were not generated again — except those the kill caught between appending
    # `complete` and marking the page done (at most the pages in flight); their repeat `complete` was deduplicated.
    progress_after_restart = [e[2]["index"] for e in got.events[8:] if e[1] == "progress"]
    assert len(before & set(progress_after_restart)) <= 2
    if live.mode == "embedded":  # distributed: the workers never stopped; the API had nothing to resume
        assert "resuming unfinished task" in live.logs()


def test_stream_open_across_kill_is_resumed_by_the_client(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(offline_delay=0.2, page_concurrency=1, worker_concurrency=1).start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 6)
        status, got = read_stream(http, task_id, account, max_events=3)
        live.kill()
        try:
            read_stream(http, task_id, account, after=got.last_id, timeout=2)
            raise AssertionError("the server is down; connecting must fail")
        except httpx.ConnectError:
            pass
        live.start()
        deadline = time.monotonic() + 30
        while not got.finished and time.monotonic() < deadline:
            status, got = read_stream(http, task_id, account, after=got.last_id, received=got)
        assert got.ids == list(range(1, got.last_id + 1))
        assert sorted(e[2]["index"] for e in got.events if e[1] == "complete") == list(range(6))


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_render_processes_end_with_a_killed_process(make_server) -> None:  # type: ignore[no-untyped-def]
    """Pages render in a pool of worker processes; SIGKILL gives the pool no time to stop, so they must notice."""
    live = make_server().start()
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        _, got = read_stream(http, start_generation(http, account, 2), account)
        assert got.finished
    renderer = live.workers[0] if live.workers else live.api  # distributed: pages render in `inkstream worker`
    assert renderer.proc is not None
    pool = _children(renderer.proc.pid)
    assert pool, "the pages were rendered in child processes"
    renderer.kill()
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in pool) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in pool)
