"""Error responses become typed exceptions with the service's code, message and status."""

from __future__ import annotations

import time

import httpx
import pytest

from inkstream.client import (
    AsyncInkstream,
    AuthError,
    Conflict,
    ConnectionLost,
    InkstreamError,
    NotFound,
    RateLimited,
    ServerError,
    Tokens,
    ValidationError,
)
from tests.client.conftest import PASSWORD
from tests.support.client import pages
from tests.support.server import free_port

MISSING = "0" * 32


async def test_unknown_task_is_not_found(ink: AsyncInkstream) -> None:
    with pytest.raises(NotFound) as caught:
        await ink.status(MISSING)
    assert (caught.value.status, caught.value.code) == (404, "task_not_found")
    assert caught.value.message and str(caught.value).endswith("(task_not_found)")


async def test_invalid_input_is_a_validation_error(ink: AsyncInkstream) -> None:
    with pytest.raises(ValidationError) as caught:
        await ink.status("not-a-task-id")
    assert (caught.value.status, caught.value.code) == (422, "validation_error")
    task = await ink.generate(pages(1), topic="t")
    await ink.wait(task.task_id)
    with pytest.raises(ValidationError) as caught:
        await ink.regenerate(task.task_id, 7)
    assert caught.value.code == "invalid_page_index"


async def test_cancelling_a_finished_task_is_a_conflict(ink: AsyncInkstream) -> None:
    task = await ink.generate(pages(1), topic="t")
    await ink.wait(task.task_id)
    with pytest.raises(Conflict) as caught:
        await ink.cancel(task.task_id)
    assert (caught.value.status, caught.value.code) == (409, "task_conflict")


async def test_too_many_failed_logins_is_rate_limited_with_retry_after(ink: AsyncInkstream) -> None:
    user = await ink.me()
    async with AsyncInkstream(ink.base_url) as other:
        for _ in range(3):  # the server under test allows 3 failures per username
            with pytest.raises(AuthError):
                await other.login(user.username, "wrong password")
        with pytest.raises(RateLimited) as caught:
            await other.login(user.username, PASSWORD)
    assert caught.value.status == 429 and caught.value.retry_after > 0


async def test_unreachable_server_is_connection_lost() -> None:
    async with AsyncInkstream(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(ConnectionLost) as caught:
            await client.login("someone", PASSWORD)
    assert caught.value.status == 0 and caught.value.code == "connection_lost"


async def test_server_failures_are_server_errors_even_without_a_json_body() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/history":
            return httpx.Response(502, text="<html>Bad Gateway</html>")
        return httpx.Response(500, json={"code": "internal_error", "message": "Something went wrong."})

    async with AsyncInkstream("http://test", transport=httpx.MockTransport(respond)) as client:
        with pytest.raises(ServerError) as caught:
            await client.register("someone", PASSWORD)
        assert (caught.value.status, caught.value.code) == (500, "internal_error")
        with pytest.raises(AuthError) as not_logged_in:  # no request is sent without a login
            await client.history()
        assert not_logged_in.value.code == "not_logged_in"
        client.session.set_tokens(Tokens("opaque", "opaque", expires_at=time.time() + 3600))
        with pytest.raises(ServerError) as caught:
            await client.history()
        assert (caught.value.status, caught.value.code) == (502, "http_502")


async def test_every_error_is_an_inkstream_error() -> None:
    for cls in (AuthError, NotFound, RateLimited, ValidationError, Conflict, ServerError, ConnectionLost):
        assert issubclass(cls, InkstreamError)
