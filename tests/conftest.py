from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import Account, new_account
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per test module, on the embedded default, with a short heartbeat for the tests."""
    live = LiveServer(tmp_path_factory.mktemp("server"), heartbeat_interval=1, max_running_tasks_per_user=50)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def account(http: httpx.Client) -> Account:
    return new_account(http)


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[type]:
    """Start servers with particular settings; all are stopped after the test."""
    started: list[LiveServer] = []

    def make(**settings: object) -> LiveServer:
        live = LiveServer(tmp_path / f"server{len(started)}", **settings)
        started.append(live)
        return live

    yield make  # type: ignore[misc]
    for live in started:
        live.stop()
