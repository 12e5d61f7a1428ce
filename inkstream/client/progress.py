"""How the CLI shows a task: a live Rich view in a terminal (one bar per page, one overall, the connection), and
plain progress lines otherwise, so scripts and CI logs see progress as it happens rather than silence."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from inkstream.client.events import Complete, CopyFailed, CopyReady, Event, Finish, PageError, Queued, Retry
from inkstream.client.events import Progress as PageStarted
from inkstream.client.stream import EventStream


def finish_summary(event: Finish) -> str:
    if event.cancelled:
        return f"[red]cancelled ({event.completed}/{event.total} done)"
    if event.success:
        return f"[green]finished: {event.completed}/{event.total} pages"
    return f"[red]finished with {event.failed} failed page(s)"


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
        if isinstance(event, Queued):
            self._overall("[dim]queued, waiting for a worker…")
            return
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
        elif isinstance(event, CopyReady):
            self.console.print(f"[green]✓ copy written:[/] {event.titles[0] if event.titles else ''}")
        elif isinstance(event, CopyFailed):
            self.console.print(f"[red]✗ copy failed:[/] {event.message}")
        elif isinstance(event, Finish):
            self._overall(finish_summary(event))
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


class PlainBoard:
    """The same feed as TaskBoard, printed as one plain line per change (no bars, no cursor moves)."""

    def __init__(self, console: Console, task_id: str, total: int) -> None:
        self.console = console
        self.total = total
        self.done: set[int] = set()
        self.failed: set[int] = set()

    def __enter__(self) -> PlainBoard:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        pass

    def _line(self, text: str) -> None:
        self.console.print(f"[{len(self.done)}/{self.total}] {text}", soft_wrap=True)

    def apply(self, event: Event) -> None:
        if isinstance(event, Queued):
            self._line("queued, waiting for a worker")
        elif isinstance(event, PageStarted):
            self._line(f"page {event.index + 1} generating")
        elif isinstance(event, Complete):
            self.done.add(event.index)
            self.failed.discard(event.index)
            self._line(f"page {event.index + 1} done")
        elif isinstance(event, PageError):
            self.failed.add(event.index)
            self._line(f"page {event.index + 1} failed: {event.message}")
        elif isinstance(event, Retry):
            self.done.difference_update(event.indexes)
            self.failed.difference_update(event.indexes)
            self._line(f"round {event.round}: pages {', '.join(str(i + 1) for i in event.indexes)} queued again")
        elif isinstance(event, CopyReady):
            self._line(f"copy written: {event.titles[0] if event.titles else ''}")
        elif isinstance(event, CopyFailed):
            self._line(f"copy failed: {event.message}")
        elif isinstance(event, Finish):
            self._line(finish_summary(event))

    def connection(self, stream: EventStream) -> None:
        if stream.state == "waiting" and stream.reason not in ("token_expired", "next_round"):
            self.console.print(f"↻ connection lost ({stream.reason}); reconnecting in {stream.delay:.1f} s — "
                               f"resuming after event {stream.last_event_id}", soft_wrap=True)


def board_for(console: Console, task_id: str, total: int) -> TaskBoard | PlainBoard:
    """Bars in a terminal, lines anywhere else (a pipe, a file, a CI log)."""
    return TaskBoard(console, task_id, total) if console.is_terminal else PlainBoard(console, task_id, total)
