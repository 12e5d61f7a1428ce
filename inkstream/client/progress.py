"""A live Rich view of a task: one bar per page, one overall, and the state of the connection."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from inkstream.client.events import Complete, Event, Finish, PageError, Retry
from inkstream.client.events import Progress as PageStarted
from inkstream.client.stream import EventStream


class TaskBoard:
    """Feed it the stream's events (`apply`) and state changes (`connection`); it draws the rest."""

    def __init__(self, console: Console, task_id: str, total: int) -> None:
        self.console = console
        self.task_id = task_id
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}", style="bold"), BarColumn(bar_width=24),
            MofNCompleteColumn(), TextColumn("{task.fields[state]}"), TimeElapsedColumn(),
            console=console, transient=False, refresh_per_second=8,
        )
        self.overall = self.progress.add_task("overall", total=max(total, 1), state="connecting…")
        self.pages: dict[int, TaskID] = {}
        for index in range(total):
            self._page(index)
        self.done: set[int] = set()
        self.failed: set[int] = set()
        self._was_reconnecting = False

    def __enter__(self) -> TaskBoard:
        self.progress.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def _page(self, index: int) -> TaskID:
        if index not in self.pages:
            self.pages[index] = self.progress.add_task(f"page {index + 1:>2}", total=1, state="[dim]waiting")
        return self.pages[index]

    def _overall(self, state: str | None = None) -> None:
        total = max(len(self.pages), 1)
        fields: dict[str, Any] = {} if state is None else {"state": state}
        self.progress.update(self.overall, completed=len(self.done), total=total, **fields)

    def apply(self, event: Event) -> None:
        if isinstance(event, PageStarted):
            self.progress.update(self._page(event.index), state="[yellow]generating…")
        elif isinstance(event, Complete):
            self.done.add(event.index)
            self.failed.discard(event.index)
            self.progress.update(self._page(event.index), completed=1, state="[green]done")
        elif isinstance(event, PageError):
            self.failed.add(event.index)
            self.progress.update(self._page(event.index), state=f"[red]error: {event.message[:60]}")
        elif isinstance(event, Retry):
            for index in event.indexes:
                self.done.discard(index)
                self.failed.discard(index)
                self.progress.reset(self._page(index), total=1, state="[dim]queued again")
        elif isinstance(event, Finish):
            if event.cancelled:
                summary = f"[red]cancelled ({event.completed}/{event.total} done)"
            elif event.success:
                summary = f"[green]finished: {event.completed}/{event.total} pages"
            else:
                summary = f"[red]finished with {event.failed} failed page(s)"
            self._overall(summary)
            return
        self._overall()

    def connection(self, stream: EventStream) -> None:
        """Show the stream's state; a reconnect is also printed as a line, so it stays in the scrollback."""
        if stream.state == "waiting" and stream.reason in ("token_expired", "next_round"):
            return  # not a failure: a token refresh or the next round, reconnected at once
        if stream.state == "waiting":
            self._overall(f"[yellow]reconnecting ({stream.reason})…")
            attempt = f", attempt {stream.attempt}" if stream.attempt > 1 else ""
            self.console.print(f"[yellow]↻ connection lost ({stream.reason}); reconnecting in {stream.delay:.1f} s"
                               f"{attempt} — resuming after event {stream.last_event_id}")
            self._was_reconnecting = True
        elif stream.state == "open":
            self._overall("[green]live")
            if self._was_reconnecting:
                self.console.print(f"[green]✓ reconnected; resumed after event {stream.last_event_id}")
                self._was_reconnecting = False
        elif stream.state == "connecting" and not self._was_reconnecting:
            self._overall("connecting…")
