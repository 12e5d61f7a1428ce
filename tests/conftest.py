from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import Account, new_account
from tests.support.server import Backend, LiveServer

MODES = ["embedded", "distributed"]


@pytest.fixture(scope="module", params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Every server-backed test runs on the embedded default and on PostgreSQL + Redis + a worker process."""
    return str(request.param)


def _backend(mode: str) -> Backend | None:
    return Backend().create() if mode == "distributed" else None


def module_server(mode: str, tmp_path_factory: pytest.TempPathFactory, name: str = "server",
                  **settings: object) -> Iterator[LiveServer]:
    """A server for one test module in `mode` (started, then stopped with its backend); for module fixtures."""
    backend = _backend(mode)
    live = LiveServer(tmp_path_factory.mktemp(f"{name}-{mode}"), backend=backend, **settings)
    try:
        live.start()
        yield live
    finally:
        live.stop()
        if backend:
            backend.drop()


@pytest.fixture(scope="module")
def server(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per test module and mode, with a short heartbeat for the tests."""
    yield from module_server(mode, tmp_path_factory, heartbeat_interval=1, max_running_tasks_per_user=50)


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def account(http: httpx.Client) -> Account:
    return new_account(http)


@pytest.fixture
def make_server(mode: str, tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with particular settings (in the module's mode); all are stopped after the test."""
    started: list[LiveServer] = []
    backends: list[Backend] = []

    def make(**settings: object) -> LiveServer:
        backend = _backend(mode)
        if backend:
            backends.append(backend)
        live = LiveServer(tmp_path / f"server{len(started)}", backend=backend, **settings)
        started.append(live)
        return live

    yield make
    for live in started:
        live.stop()
    for backend in backends:
        backend.drop()
