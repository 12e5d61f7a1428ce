"""`AsyncInkstream`: the Python client of the Inkstream service."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from inkstream.client.backoff import ReconnectPolicy
from inkstream.client.errors import ConnectionLost, InkstreamError, NotFound, ServerError, from_response
from inkstream.client.events import Event, Finish
from inkstream.client.http import Session, TokensListener, describe
from inkstream.client.models import Accepted, History, Outline, Page, PostCopy, TaskStatus, User
from inkstream.client.stream import EventStream, StateListener
from inkstream.client.tokens import Tokens

DEFAULT_SERVER = "http://127.0.0.1:8000"


def _b64(images: Iterable[bytes | str] | None) -> list[str]:
    return [i if isinstance(i, str) else base64.b64encode(i).decode() for i in images or ()]


def _accepted(body: dict[str, Any]) -> Accepted:
    return Accepted(str(body["task_id"]), str(body.get("status", "")), str(body.get("stream_url", "")))


def image_file_name(index: int) -> str:
    """The file a downloaded page is saved as: page_01.png for index 0."""
    return f"page_{index + 1:02d}.png"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary name, then rename: a reader never sees half an image."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class AsyncInkstream:
    """Async client: log in, create outlines and image tasks, follow their events, download the images.

    Pass `tokens` (and `on_tokens`, called with every new pair, to persist them) to resume a session without
    the password. `reconnect` sets how `stream()` reconnects.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_SERVER,
        *,
        tokens: Tokens | None = None,
        on_tokens: TokensListener | None = None,
        timeout: float = 30.0,
        reconnect: ReconnectPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        report_streams: bool = False,
    ) -> None:
        self.session = Session(base_url, tokens=tokens, on_tokens=on_tokens, timeout=timeout, transport=transport)
        # With report_streams, each stream session's outcome, reconnects and refreshes go to the service's
        # monitoring (POST /api/telemetry/stream) when it ends; failures to report are ignored.
        self.report_streams = report_streams
        self._reports: set[asyncio.Task[None]] = set()
        self.reconnect = reconnect or ReconnectPolicy()

    @property
    def base_url(self) -> str:
        return self.session.base_url

    @property
    def tokens(self) -> Tokens | None:
        return self.session.tokens

    async def aclose(self) -> None:
        await self.flush_reports()
        await self.session.aclose()

    async def __aenter__(self) -> AsyncInkstream:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
                        ) -> None:
        await self.aclose()

    # --- accounts ---
    async def register(self, username: str, password: str) -> User:
        body = await self.session.json("POST", "/api/auth/register", auth=False,
                                       json={"username": username, "password": password})
        return User(int(body["id"]), str(body["username"]), bool(body.get("is_admin")))

    async def login(self, username: str, password: str) -> Tokens:
        body = await self.session.json("POST", "/api/auth/login", auth=False,
                                       json={"username": username, "password": password})
        tokens = Tokens.from_response(body)
        self.session.set_tokens(tokens)
        return tokens

    async def refresh(self) -> Tokens:
        """Rotate the token pair now (it also happens on its own before the access token expires)."""
        return await self.session.refresh()

    async def logout(self) -> None:
        """Revoke this login's refresh tokens on the service and forget the tokens."""
        tokens = self.session.tokens
        if tokens is not None:
            await self.session.request("POST", "/api/auth/logout", auth=False,
                                       json={"refresh_token": tokens.refresh_token})
        self.session.set_tokens(None)

    async def logout_all(self) -> None:
        """End every session of this account, this one included (other devices' streams end within seconds)."""
        await self.session.request("POST", "/api/auth/logout-all")
        self.session.set_tokens(None)

    async def sessions(self) -> list[dict[str, Any]]:
        """This account's live sessions: id, created_at, last_used_at, ip, user_agent, current."""
        body = await self.session.json("GET", "/api/auth/sessions")
        return list(body["items"])

    async def change_password(self, current: str, new: str) -> None:
        """Change the password; every other session of this account ends."""
        await self.session.request("POST", "/api/auth/password",
                                   json={"current_password": current, "new_password": new})

    async def usage(self) -> dict[str, Any]:
        """Today's page quota: quota (None: unlimited), used_today, in_flight, remaining, resets_at."""
        return dict(await self.session.json("GET", "/api/usage/me"))

    async def me(self) -> User:
        body = await self.session.json("GET", "/api/auth/me")
        return User(int(body["id"]), str(body["username"]), bool(body.get("is_admin")), str(body.get("role", "user")))

    # --- outlines ---
    async def create_outline(self, topic: str, images: Iterable[bytes | str] | None = None, *,
                             idempotency_key: str | None = None) -> Accepted:
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}  # makes a resend after a cut safe
        return _accepted(await self.session.json("POST", "/api/outline", headers=headers,
                                                 json={"topic": topic, "images": _b64(images)}))

    async def get_outline(self, task_id: str) -> Outline:
        outline = Outline.from_json(await self.session.json("GET", f"/api/outline/{task_id}"))
        outline.task_id = outline.task_id or task_id
        return outline

    async def outline(self, topic: str, images: Iterable[bytes | str] | None = None,
                      on_change: StateListener | None = None,
                      on_event: Callable[[Event], None] | None = None) -> Outline:
        """Write an outline for `topic` and wait for it (its events are followed on the stream; `on_event` sees
        each one, e.g. the `TextDelta`s of the outline as it is written)."""
        accepted = await self.create_outline(topic, images)
        async with self.stream(accepted.task_id, on_change=on_change) as events:
            async for event in events:
                if on_event is not None:
                    on_event(event)
        return await self.get_outline(accepted.task_id)

    # --- image tasks ---
    async def generate(self, pages: Sequence[Page | dict[str, Any]], *, full_outline: str = "", topic: str = "",
                       images: Iterable[bytes | str] | None = None, idempotency_key: str | None = None) -> Accepted:
        """Start generating one image per page; follow it with `stream(task_id)`."""
        body = {
            "pages": [p.to_json() if isinstance(p, Page) else p for p in pages],
            "full_outline": full_outline, "user_topic": topic, "user_images": _b64(images),
        }
        headers = {"Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        return _accepted(await self.session.json("POST", "/api/generate", headers=headers, json=body))

    async def status(self, task_id: str) -> TaskStatus:
        return TaskStatus.from_json(await self.session.json("GET", f"/api/generate/{task_id}"))

    async def cancel(self, task_id: str) -> str:
        """Cancel a queued or running task; returns its new status. `Conflict` if it is already over."""
        return str((await self.session.json("POST", f"/api/generate/{task_id}/cancel"))["status"])

    async def retry_failed(self, task_id: str) -> Accepted:
        """Run the failed pages of a finished task again (a new round: follow it from the last event id)."""
        return _accepted(await self.session.json("POST", f"/api/generate/{task_id}/retry"))

    async def regenerate(self, task_id: str, index: int) -> Accepted:
        """Generate one page of a finished task again."""
        return _accepted(await self.session.json("POST", f"/api/generate/{task_id}/regenerate", json={"index": index}))

    async def stream_ticket(self, task_id: str) -> tuple[str, int]:
        """A short-lived ticket that opens this task's stream without a token (for browsers' EventSource)."""
        body = await self.session.json("POST", f"/api/generate/{task_id}/stream-ticket")
        return str(body["ticket"]), int(body["expires_in"])

    def stream(self, task_id: str, last_event_id: int = 0, *, follow: bool = False,
               policy: ReconnectPolicy | None = None, on_change: StateListener | None = None) -> EventStream:
        """The task's events after `last_event_id`, exactly once and in order, until `finish`.

        With `follow=True` the stream goes on after `finish` while new rounds (retry/regenerate) have events,
        and ends when the service has nothing more (204).
        """
        return EventStream(self.session, task_id, last_event_id, policy=policy or self.reconnect, follow=follow,
                           on_change=on_change, reporter=self._report if self.report_streams else None)

    def _report(self, report: dict[str, object]) -> None:
        async def send() -> None:
            with contextlib.suppress(InkstreamError, httpx.HTTPError):
                await self.session.request("POST", "/api/telemetry/stream", json=report)

        task = asyncio.get_running_loop().create_task(send())
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def flush_reports(self) -> None:
        """Wait until every stream report has been sent (or failed to be)."""
        while self._reports:
            await asyncio.gather(*list(self._reports), return_exceptions=True)

    async def wait(self, task_id: str, last_event_id: int = 0) -> Finish:
        """Follow the task until `finish` and return it."""
        async with self.stream(task_id, last_event_id) as events:
            async for event in events:
                if isinstance(event, Finish):
                    return event
        raise ServerError(f"The stream of task {task_id} ended without `finish`.", code="no_finish")

    # --- the post's copy ---
    async def copy(self, task_id: str) -> PostCopy | None:
        """The post's copy (titles, body, tags), or None while it is not written."""
        return (await self.status(task_id)).copy

    async def regenerate_copy(self, task_id: str) -> Accepted:
        """Write the copy of a finished task again, alone (a new round: follow it from the last event id)."""
        return _accepted(await self.session.json("POST", f"/api/generate/{task_id}/copy/regenerate"))

    async def update_copy(self, task_id: str, copy: PostCopy | dict[str, Any]) -> PostCopy:
        """Save an edited copy; `ValidationError` (422) names the broken rule in its `code`."""
        body = copy.to_json() if isinstance(copy, PostCopy) else copy
        return PostCopy.from_json((await self.session.json("PUT", f"/api/generate/{task_id}/copy", json=body))["copy"])

    # --- history ---
    async def history(self, page: int = 1, page_size: int = 20, *, q: str = "", status: str | None = None
                      ) -> History:
        """One page of the user's posts, newest first; `q` searches topics and titles, `status` filters."""
        params: dict[str, Any] = {"page": page, "page_size": page_size}
        if q:
            params["q"] = q
        if status:
            params["status"] = status
        return History.from_json(await self.session.json("GET", "/api/history", params=params))

    async def rename(self, task_id: str, title: str | None) -> str | None:
        """Name a post in the history; None (or blank) goes back to the automatic title."""
        return (await self.session.json("PATCH", f"/api/history/{task_id}", json={"title": title}))["title"]

    async def delete(self, task_id: str) -> None:
        await self.session.request("DELETE", f"/api/history/{task_id}")

    # --- images ---
    async def download_image(self, url: str, path: Path) -> Path:
        """Save one image (a signed URL, absolute or relative to the service) to `path`, atomically."""
        for attempt in range(3):
            try:
                response = await self.session.http.get(url)
                break
            except httpx.TransportError as exc:
                if attempt == 2:
                    raise ConnectionLost(f"Downloading {url} failed: {describe(exc)}") from exc
        if response.status_code != 200:
            raise from_response(response)
        await asyncio.to_thread(_write_atomically, path, response.content)
        return path

    async def download(self, task_id: str, out_dir: Path | str, indexes: Iterable[int] | None = None) -> list[Path]:
        """Save the task's finished images as out_dir/page_01.png…; returns the paths written.

        URLs are taken from a fresh status (signed URLs expire). Pages without an image are skipped; compare
        the result with `status()` to see which.
        """
        out = Path(out_dir)
        wanted = set(indexes) if indexes is not None else None
        saved = []
        for page in (await self.status(task_id)).images:
            if page.image_url and page.status == "done" and (wanted is None or page.index in wanted):
                try:
                    saved.append(await self.download_image(page.image_url, out / image_file_name(page.index)))
                except NotFound:  # regenerated (or deleted) since the status was read
                    continue
        return saved
