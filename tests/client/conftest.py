"""Fixtures for the SDK and CLI tests: one live server per module with 2-second access tokens."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from inkstream.client import AsyncInkstream, ReconnectPolicy
from tests.support.fault_proxy import FaultProxy
from tests.support.server import Backend, LiveServer

PASSWORD = "correct horse battery"


def fast_policy(heartbeat_interval: float = 1.0, max_attempts: int = 30) -> ReconnectPolicy:
    """Reconnect quickly, as a test can afford to: 50 ms first wait, 0.5 s at most."""
    return ReconnectPolicy(initial_delay=0.05, max_delay=0.5, max_attempts=max_attempts,
                           heartbeat_interval=heartbeat_interval, connect_timeout=2.0)


@pytest.fixture(scope="module")
def live(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per module and mode (see tests/conftest.py), with 2 s access tokens."""
    backend = Backend().create() if mode == "distributed" else None
    server = LiveServer(tmp_path_factory.mktemp(f"client-{mode}"), backend=backend, access_token_ttl=2,
                        offline_delay=0.2, heartbeat_interval=1, max_running_tasks_per_user=50,
                        login_max_failures=3)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if backend:
            backend.drop()


@pytest.fixture
def proxy(live: LiveServer) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(live.port).start()
    yield fault_proxy
    fault_proxy.stop()


async def new_user(url: str, **kwargs: object) -> AsyncInkstream:
    """A client logged in as a fresh user."""
    client = AsyncInkstream(url, **kwargs)  # type: ignore[arg-type]
    username = f"sdk_{uuid.uuid4().hex[:10]}"
    await client.register(username, PASSWORD)
    await client.login(username, PASSWORD)
    return client


@pytest.fixture
async def ink(live: LiveServer) -> AsyncIterator[AsyncInkstream]:
    client = await new_user(live.url, reconnect=fast_policy())
    yield client
    await client.aclose()
