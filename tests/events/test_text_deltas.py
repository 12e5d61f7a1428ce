"""Streamed outline text on a task's stream: `outline_delta` events, replayed exactly once after a cut."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.client import new_account, read_stream
from tests.support.server import LiveServer


def test_outline_deltas_resume_exactly_once_after_a_cut(make_server: Callable[..., LiveServer]) -> None:
    # A demo delay makes the offline writer trickle its chunks (delay / 20 apart), so the cut lands mid-outline.
    server = make_server(offline_delay=1.0, heartbeat_interval=1).start()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        account = new_account(http)
        r = http.post("/api/outline", json={"topic": "油皮夏天护肤步骤"}, headers=account.headers)
        task_id = r.json()["task_id"]
        _, first = read_stream(http, task_id, account, max_events=4)  # queued, progress + two deltas, then the cut
        assert [e[1] for e in first.events] == ["queued", "progress", "outline_delta", "outline_delta"]
        _, rest = read_stream(http, task_id, account, after=first.last_id)
        events = first.events + rest.events
        assert [e[0] for e in events] == list(range(1, len(events) + 1))  # every id once, in order
        names = [e[1] for e in events]
        assert names[-2:] == ["outline", "finish"] and names.count("outline_delta") >= 5
        text = "".join(e[2]["text"] for e in events if e[1] == "outline_delta")
        final = events[-2][2]
        assert text == final["raw"] and final["pages"] == events[-1][2]["pages"]
        outline = http.get(f"/api/outline/{task_id}", headers=account.headers).json()
        assert outline["outline"] == text and "护肤" in text
        # A page reload (no Last-Event-ID) replays the same deltas once more, in full.
        _, again = read_stream(http, task_id, account)
        assert [e for e in again.events if e[1] == "outline_delta"] == [e for e in events if e[1] == "outline_delta"]
