"""The SDK when a session ends elsewhere: the stream stops with a typed AuthError, it does not reconnect."""

from __future__ import annotations

import time

import pytest

from inkstream.client import AsyncInkstream
from inkstream.client.errors import AuthError
from tests.client.conftest import PASSWORD, fast_policy
from tests.support.client import pages
from tests.support.server import LiveServer


async def test_logout_everywhere_ends_another_devices_stream(ink: AsyncInkstream, live: LiveServer) -> None:
    me = await ink.me()
    phone = AsyncInkstream(live.url, reconnect=fast_policy())
    await phone.login(me.username, PASSWORD)
    assert len(await ink.sessions()) == 2
    accepted = await ink.generate(pages(20), topic="秋天的第一杯奶茶")
    seen = 0
    with pytest.raises(AuthError) as caught:
        async for _event in phone.stream(accepted.task_id):
            seen += 1
            if seen == 1:
                await ink.logout_all()
                revoked_at = time.monotonic()
    assert caught.value.code == "session_revoked"
    assert time.monotonic() - revoked_at < 5
    await phone.aclose()


async def test_change_password_keeps_this_session(ink: AsyncInkstream, live: LiveServer) -> None:
    me = await ink.me()
    other = AsyncInkstream(live.url, reconnect=fast_policy())
    await other.login(me.username, PASSWORD)
    await ink.change_password(PASSWORD, "another password 2")
    assert (await ink.me()).username == me.username
    deadline = time.monotonic() + 5
    while True:
        try:
            await other.me()
        except AuthError as exc:
            assert exc.code == "session_revoked"
            break
        assert time.monotonic() < deadline
    await other.aclose()
