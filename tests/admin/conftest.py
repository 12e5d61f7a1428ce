"""Admin tests: a server per module and mode whose first administrator comes from the environment, as in a
container (INKSTREAM_ADMIN_USERNAME / INKSTREAM_ADMIN_PASSWORD)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import module_server
from tests.support.client import Account, login, new_account
from tests.support.server import LiveServer

ADMIN = Account("root_admin", "admin password 123")


@pytest.fixture(scope="module")
def server(mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from module_server(mode, tmp_path_factory, "admin", heartbeat_interval=1, max_running_tasks_per_user=50,
                             admin_username=ADMIN.username, admin_password=ADMIN.password)


@pytest.fixture
def admin(http: httpx.Client) -> Account:
    account = Account(ADMIN.username, ADMIN.password)
    login(http, account)
    return account


@pytest.fixture
def user(http: httpx.Client) -> Account:
    return new_account(http)
