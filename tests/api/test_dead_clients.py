"""A stream client that vanishes without a FIN (its link goes down: it neither reads nor acknowledges) is detected
and its stream freed within about two heartbeat intervals (TCP_USER_TIMEOUT, inkstream/api/dead_clients.py)."""

from __future__ import annotations

import re
import socket
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


def test_a_client_that_stops_reading_is_cut_once_its_window_stays_shut(
        mode: str, make_server: Callable[..., LiveServer]) -> None:
    """A live peer that stops reading (its kernel still acknowledges, advertising a zero window) must not pin its
    stream forever: streams have no per-send timer, the kernel aborts the connection after TCP_USER_TIMEOUT."""
    if mode != "embedded":
        pytest.skip("the HTTP layer is the same in both modes")
    live = make_server(metrics_token=METRICS_TOKEN, offline_delay=600, heartbeat_interval=0.02,
                       dead_client_timeout=1.0).start()  # ~3 KB/s of heartbeats fills a tiny window in seconds
    with httpx.Client(base_url=live.url, timeout=30) as http:
        account = new_account(http)
        task_id = start_generation(http, account, 1)
        peer = socket.socket()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)  # before connect: the window it advertises
        try:
            peer.connect(("127.0.0.1", live.port))
            peer.sendall(f"GET /api/generate/stream/{task_id} HTTP/1.1\r\nHost: x\r\n"
                         f"Authorization: Bearer {account.access_token}\r\n\r\n".encode())
            deadline = time.monotonic() + 10
            while _open_streams(http) < 1:
                assert time.monotonic() < deadline, "the stream never opened"
                time.sleep(0.05)
            opened = time.monotonic()
            while _open_streams(http) > 0:  # the peer never reads and never closes
                assert time.monotonic() - opened < 60, "a stream whose client stopped reading stays open"
                time.sleep(0.1)
            print(f"\nnon-reading client cut {time.monotonic() - opened:.1f} s after its stream opened")
        finally:
            peer.close()
        http.post(f"/api/generate/{task_id}/cancel", headers=account.headers)
