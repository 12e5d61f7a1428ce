"""The outline as it is written, in the CLI: a growing view in a terminal, finished lines otherwise."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from inkstream.client.events import Event, TextDelta

_TAIL_LINES = 14


class OutlineView:
    """Feed it the outline task's events; it shows the `outline_delta` text growing."""

    def __init__(self, console: Console, topic: str) -> None:
        self.console = console
        self.topic = topic
        self.text = ""
        self._printed = 0  # characters already printed as lines (plain mode)
        self._live: Live | None = None

    def __enter__(self) -> OutlineView:
        if self.console.is_terminal:
            self._live = Live(self._render(), console=self.console, refresh_per_second=10, transient=True)
            self._live.start()
        else:
            self.console.print(f"Writing the outline for “{self.topic}”…", soft_wrap=True)
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.stop()
        elif self.text[self._printed:].strip():
            self._print_lines(final=True)

    def _render(self) -> Panel:
        tail = "\n".join(self.text.splitlines()[-_TAIL_LINES:]) or "…"
        return Panel(Text(tail), title=f"Writing the outline for “{self.topic}”", subtitle=f"{len(self.text)} chars")

    def _print_lines(self, final: bool = False) -> None:
        pending = self.text[self._printed:]
        cut = len(pending) if final else pending.rfind("\n") + 1
        if cut <= 0:
            return
        for line in pending[:cut].splitlines():
            self.console.print(f"  │ {line}", soft_wrap=True, markup=False, highlight=False)
        self._printed += cut

    def apply(self, event: Event) -> None:
        if not isinstance(event, TextDelta) or event.kind != "outline":
            return
        if event.reset:  # every run's first delta; a later one means the writer started over
            if self.text and self._live is None:
                self.console.print("  (the outline starts over)")
            self.text, self._printed = "", 0
        self.text += event.text
        if self._live is not None:
            self._live.update(self._render())
        else:
            self._print_lines()
