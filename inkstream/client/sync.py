"""`Inkstream`: the blocking face of `AsyncInkstream`, for scripts and notebooks without an event loop.

Each call runs the async method on a private event loop (asyncio.Runner: Ctrl-C cancels the call cleanly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from inkstream.client.backoff import Reconnect, ReconnectPolicy
from inkstream.client.events import Event, Finish
from inkstream.client.models import Accepted, History, Outline, Page, PostCopy, TaskStatus, User
from inkstream.client.sdk import DEFAULT_SERVER, AsyncInkstream
from inkstream.client.stream import EventStream, StateListener
from inkstream.client.tokens import Tokens

T = TypeVar("T")


class SyncEventStream:
    """Blocking iterator over an `EventStream`; `history` and `last_event_id` as there."""

    def __init__(self, runner: asyncio.Runner, stream: EventStream) -> None:
        self._runner = runner
        self.stream = stream

    @property
    def history(self) -> list[Reconnect]:
        return self.stream.history

    @property
    def last_event_id(self) -> int:
        return self.stream.last_event_id

    def __iter__(self) -> Iterator[Event]:
        try:
            while True:
                try:
                    yield self._runner.run(self.stream.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self.close()

    def close(self) -> None:
        self._runner.run(self.stream.aclose())

    def __enter__(self) -> SyncEventStream:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class Inkstream:
    """Blocking client with the methods of `AsyncInkstream` (see there for what each does)."""

    def __init__(self, base_url: str = DEFAULT_SERVER, **kwargs: Any) -> None:
        self._runner = asyncio.Runner()
        self.aio = AsyncInkstream(base_url, **kwargs)

    def _run(self, coro: Any) -> Any:
        return self._runner.run(coro)

    def close(self) -> None:
        self._run(self.aio.aclose())
        self._runner.close()

    def __enter__(self) -> Inkstream:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def tokens(self) -> Tokens | None:
        return self.aio.tokens

    def register(self, username: str, password: str) -> User:
        return self._run(self.aio.register(username, password))  # type: ignore[no-any-return]

    def login(self, username: str, password: str) -> Tokens:
        return self._run(self.aio.login(username, password))  # type: ignore[no-any-return]

    def refresh(self) -> Tokens:
        return self._run(self.aio.refresh())  # type: ignore[no-any-return]

    def logout(self) -> None:
        self._run(self.aio.logout())

    def me(self) -> User:
        return self._run(self.aio.me())  # type: ignore[no-any-return]

    def create_outline(self, topic: str, images: Iterable[bytes | str] | None = None) -> Accepted:
        return self._run(self.aio.create_outline(topic, images))  # type: ignore[no-any-return]

    def outline(self, topic: str, images: Iterable[bytes | str] | None = None) -> Outline:
        return self._run(self.aio.outline(topic, images))  # type: ignore[no-any-return]

    def get_outline(self, task_id: str) -> Outline:
        return self._run(self.aio.get_outline(task_id))  # type: ignore[no-any-return]

    def generate(self, pages: Sequence[Page | dict[str, Any]], **kwargs: Any) -> Accepted:
        return self._run(self.aio.generate(pages, **kwargs))  # type: ignore[no-any-return]

    def status(self, task_id: str) -> TaskStatus:
        return self._run(self.aio.status(task_id))  # type: ignore[no-any-return]

    def cancel(self, task_id: str) -> str:
        return self._run(self.aio.cancel(task_id))  # type: ignore[no-any-return]

    def retry_failed(self, task_id: str) -> Accepted:
        return self._run(self.aio.retry_failed(task_id))  # type: ignore[no-any-return]

    def regenerate(self, task_id: str, index: int) -> Accepted:
        return self._run(self.aio.regenerate(task_id, index))  # type: ignore[no-any-return]

    def wait(self, task_id: str, last_event_id: int = 0) -> Finish:
        return self._run(self.aio.wait(task_id, last_event_id))  # type: ignore[no-any-return]

    def history(self, page: int = 1, page_size: int = 20, *, q: str = "", status: str | None = None) -> History:
        return self._run(self.aio.history(page, page_size, q=q, status=status))  # type: ignore[no-any-return]

    def rename(self, task_id: str, title: str | None) -> str | None:
        return self._run(self.aio.rename(task_id, title))  # type: ignore[no-any-return]

    def copy(self, task_id: str) -> PostCopy | None:
        return self._run(self.aio.copy(task_id))  # type: ignore[no-any-return]

    def regenerate_copy(self, task_id: str) -> Accepted:
        return self._run(self.aio.regenerate_copy(task_id))  # type: ignore[no-any-return]

    def update_copy(self, task_id: str, copy: PostCopy | dict[str, Any]) -> PostCopy:
        return self._run(self.aio.update_copy(task_id, copy))  # type: ignore[no-any-return]

    def delete(self, task_id: str) -> None:
        self._run(self.aio.delete(task_id))

    def download(self, task_id: str, out_dir: Path | str, indexes: Iterable[int] | None = None) -> list[Path]:
        return self._run(self.aio.download(task_id, out_dir, indexes))  # type: ignore[no-any-return]

    def stream(self, task_id: str, last_event_id: int = 0, *, follow: bool = False,
               policy: ReconnectPolicy | None = None, on_change: StateListener | None = None) -> SyncEventStream:
        return SyncEventStream(self._runner, self.aio.stream(task_id, last_event_id, follow=follow, policy=policy,
                                                             on_change=on_change))
