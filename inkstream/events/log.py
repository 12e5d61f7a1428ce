"""The EventLog protocol: every task event is appended with a per-task id 1, 2, 3 … before anyone sees it,
and readers move a cursor over it. Streams never depend on being subscribed at the moment of publishing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

TERMINAL_EVENT = "finish"


@dataclass(frozen=True)
class StoredEvent:
    id: int
    event: str
    data: dict[str, Any]


Guard = Callable[[], Awaitable[None]]


class EventLog(Protocol):
    async def append(
        self, task_id: str, event: str, data: dict[str, Any], *, dedupe_key: str | None = None,
        guard: Guard | None = None,
    ) -> StoredEvent:
        """Append an event. With a dedupe_key already in this task's log, return that event and append nothing:
        a page re-run after a crash or a redelivered job cannot show its result twice. `guard` runs inside the
        append's transaction, before it commits; whatever it raises aborts the append (a worker's lease check)."""
        ...

    async def read_after(self, task_id: str, after: int, limit: int = 500) -> list[StoredEvent]:
        """Events with id > after, oldest first."""
        ...

    async def last_id(self, task_id: str) -> int: ...

    def known_last_id(self, task_id: str) -> int:
        """The newest id this process knows of without asking anyone: a committed id, so a lower bound of
        `last_id` (0 when nothing is known). Lets a stream open skip its queries when the answer cannot change."""
        ...

    async def wait(self, task_id: str, after: int, max_wait: float) -> bool:
        """Return when an event with id > after may exist, or after `max_wait` seconds. False: certainly nothing
        new (the caller may skip its read)."""
        ...

    def notify(self, task_id: str) -> None:
        """Wake this process's readers of `task_id` (they then look at the log, and at whether to end)."""
        ...

    def forget(self, task_id: str) -> None:
        """Drop anything cached about a task whose events were deleted."""
        ...

    async def close(self) -> None: ...
