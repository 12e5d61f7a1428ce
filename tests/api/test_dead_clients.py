"""A stream client that vanishes without a FIN (its link goes down: it neither reads nor acknowledges) is detected
and its stream freed within about two heartbeat intervals (TCP_USER_TIMEOUT, inkstream/api/dead_clients.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import pytest

from tests.support import netns
from tests.support.client import new_account, start_generation
from tests.support.server import LiveServer

pytestmark = pytest.mark.skipif(not netns.available(), reason="needs root and iproute2 for a network namespace")

METRICS_TOKEN = "m" * 32


def _open_streams(http: httpx.Client) -> float:
    text = http.get("/api/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    match = re.search(r"^inkstream_sse_streams_open (\S+)$", text, re.M)
    assert match, text
    return float(match.group(1))


def _detection_time(make_server: Callable[..., LiveServer], heartbeat: float | None) -> float:
    """Seconds from the client vanishing until the server has closed its stream."""
    with netns.VanishingClient() as client:
        settings: dict[str, object] = {"host": client.host_ip, "metrics_token": METRICS_TOKEN,
                                       "offline_delay": 600}  # a task that stays running, streaming heartbeats
        if heartbeat is not None:
            settings["heartbeat_interval"] = heartbeat
        live = make_server(**settings)
        live.url = f"http://{client.host_ip}:{live.port}"
        live.start()
        with httpx.Client(base_url=live.url, timeout=30) as http:
            account = new_account(http)
            task_id = start_generation(http, account, 1)
            client.open_stream(live.port, f"/api/generate/stream/{task_id}", f"Bearer {account.access_token}")
            assert _open_streams(http) == 1
            vanished = time.monotonic()
            client.vanish()
            while _open_streams(http) > 0:
                assert time.monotonic() - vanished < 120, "the vanished client's stream is still open"
                time.sleep(0.1)
            detected = time.monotonic() - vanished
            http.post(f"/api/generate/{task_id}/cancel", headers=account.headers)
        return detected


def test_a_vanished_stream_client_is_dropped_within_two_heartbeats(
        make_server: Callable[..., LiveServer]) -> None:
    heartbeat = 1.0
    detected = _detection_time(make_server, heartbeat)
    print(f"\ndead client detected after {detected:.1f} s (heartbeat {heartbeat} s)")
    assert detected <= 2 * heartbeat + 1.0  # + retransmission timer granularity


@pytest.mark.slow
def test_with_default_settings_a_vanished_client_is_dropped_within_two_heartbeats(
        mode: str, make_server: Callable[..., LiveServer]) -> None:
    if mode != "embedded":
        pytest.skip("detection lives in the HTTP layer, the same in both modes; timed once, with the defaults")
    detected = _detection_time(make_server, None)
    print(f"\ndead client detected after {detected:.1f} s (default heartbeat 15 s)")
    assert detected <= 2 * 15 + 2.0  # the worst case: it vanished right after a heartbeat
