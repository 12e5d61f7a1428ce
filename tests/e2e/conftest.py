"""Browser tests: headless Debian Chromium (Playwright, sync API) against a real LiveServer.

One browser and one server per module; every test gets a fresh browser context (its own localStorage).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.browser import CHROMIUM, launch
from tests.support.server import LiveServer

# What the tests run against: a 1 s heartbeat (watchdog 2.5 s), 3 s access tokens (every connect refreshes),
# one page at a time with 0.3 s of artificial latency, so a 10-page task runs for a few seconds.
SERVER_SETTINGS: dict[str, object] = {
    "heartbeat_interval": 1,
    "access_token_ttl": 3,
    "offline_delay": 0.3,
    "page_concurrency": 1,
    "max_running_tasks_per_user": 50,
    "sse_retry_ms": 500,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with launch() as b:
        yield b


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    data = Path(tempfile.mkdtemp(prefix="inkstream-e2e-"))
    server = LiveServer(data, **SERVER_SETTINGS).start()
    yield server
    server.stop()
    shutil.rmtree(data, ignore_errors=True)


def server_is_up(server: LiveServer) -> bool:
    try:
        return httpx.get(f"{server.url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(autouse=True)
def _server_running(request: pytest.FixtureRequest) -> None:
    """A test that killed the server and failed before restarting it must not take the next tests down too."""
    if "live" in request.fixturenames:
        server: LiveServer = request.getfixturevalue("live")
        if not server_is_up(server):
            server.start()


@pytest.fixture
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client
