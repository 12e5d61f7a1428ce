"""What the client commands do; `cli.py` parses their arguments. Messages go to stderr, results to stdout."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from inkstream.client import credentials, outline_text
from inkstream.client.cli import (
    EXIT_AUTH,
    EXIT_INTERRUPTED,
    EXIT_NETWORK,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_TASK_FAILED,
    EXIT_USAGE,
)
from inkstream.client.credentials import Credentials
from inkstream.client.errors import AuthError, ConnectionLost, InkstreamError, NotFound, ServerError, ValidationError
from inkstream.client.events import Finish
from inkstream.client.models import Page
from inkstream.client.outline_live import OutlineView
from inkstream.client.progress import board_for
from inkstream.client.sdk import DEFAULT_SERVER, AsyncInkstream
from inkstream.client.tokens import Tokens


class UsageError(Exception):
    pass


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self.stored = credentials.load()
        explicit = args.server or os.environ.get("INKSTREAM_SERVER")
        self.server = (explicit or (self.stored.server if self.stored else None) or DEFAULT_SERVER).rstrip("/")

    def client(self) -> AsyncInkstream:
        """A client with the stored login; every rotated token pair is saved at once (the old one is spent)."""
        stored = self.stored
        if stored is None or stored.server != self.server:
            raise AuthError(f"Not logged in to {self.server}.", code="not_logged_in")

        def persist(tokens: Tokens | None) -> None:
            if tokens is not None:
                credentials.save(Credentials(self.server, stored.username, tokens))

        return AsyncInkstream(self.server, tokens=stored.tokens, on_tokens=persist)


def exit_code(exc: InkstreamError) -> int:
    if isinstance(exc, AuthError):
        return EXIT_AUTH
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, (ConnectionLost, ServerError)):
        return EXIT_NETWORK
    if isinstance(exc, ValidationError):
        return EXIT_USAGE
    return EXIT_TASK_FAILED


def _hint(exc: InkstreamError, server: str) -> str:
    if isinstance(exc, AuthError):
        return f" — run `inkstream login --server {server}`"
    if isinstance(exc, ConnectionLost):
        return " — is the service running? (--server / INKSTREAM_SERVER)"
    if exc.code == "quota_exceeded":
        return " — `inkstream quota` shows what is left"
    return ""


async def login(ctx: Context) -> int:
    args = ctx.args
    username = args.username or ctx.err.input("username: ").strip()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = os.environ.get("INKSTREAM_PASSWORD") or getpass.getpass("password: ")
    if not username or not password:
        raise UsageError("a username and a password are needed")
    async with AsyncInkstream(ctx.server) as ink:
        tokens = await ink.login(username, password)
    path = credentials.save(Credentials(ctx.server, username, tokens))
    ctx.err.print(f"Logged in to {ctx.server} as [bold]{username}[/]. Tokens saved in {path}", soft_wrap=True)
    return EXIT_OK


async def logout(ctx: Context) -> int:
    stored = ctx.stored
    if stored is None:
        ctx.err.print("Not logged in.")
        return EXIT_OK
    try:
        async with AsyncInkstream(stored.server, tokens=stored.tokens) as ink:
            await ink.logout()
    except ConnectionLost as exc:
        credentials.delete()
        ctx.err.print(f"[yellow]warning:[/] {exc.message}; the login was forgotten here but not revoked on the "
                      "service.")
        return EXIT_NETWORK
    credentials.delete()
    ctx.err.print(f"Logged out of {stored.server}.")
    return EXIT_OK


def _show_outline(console: Console, pages: list[Page]) -> None:
    table = Table(title=f"Outline: {len(pages)} pages", show_lines=False, expand=False)
    table.add_column("#", justify="right")
    table.add_column("type")
    table.add_column("first line", overflow="ellipsis", no_wrap=True, max_width=60)
    for page in pages:
        lines = [line for line in page.content.splitlines()[1:] if line.strip()] or [page.content]
        table.add_row(str(page.index + 1), page.type, lines[0].strip())
    console.print(table)


async def _follow(ink: AsyncInkstream, ctx: Context, task_id: str, total: int, follow: bool = False) -> Finish:
    """Show the task's events live until `finish` (following: until the service has nothing more)."""
    last: Finish | None = None
    with board_for(ctx.err, task_id, total) as board:
        async with ink.stream(task_id, follow=follow, on_change=board.connection) as stream:
            async for event in stream:
                board.apply(event)
                if isinstance(event, Finish):
                    last = event
    if last is None:
        raise ServerError(f"The stream of task {task_id} ended without `finish`.", code="no_finish")
    return last


async def _write_post(ink: AsyncInkstream, task_id: str, out: Path) -> Path | None:
    """post.md (titles, body, tags) beside the images, when the task has its copy."""
    copy = await ink.copy(task_id)
    if copy is None:
        return None
    path = out / "post.md"

    def write() -> None:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(copy.markdown(), encoding="utf-8")

    await asyncio.to_thread(write)
    return path


def _out_dir(value: str | None, task_id: str) -> Path:
    return Path(value) if value else Path(f"inkstream-{task_id[:8]}")


async def generate(ctx: Context) -> int:
    args = ctx.args
    topic = args.topic.strip()
    if not topic:
        raise UsageError("the topic is empty")
    if args.pages is not None and args.pages < 1:
        raise UsageError("--pages must be at least 1")
    async with ctx.client() as ink:
        with OutlineView(ctx.err, topic) as view:
            outline = await ink.outline(topic, on_event=view.apply)
        if not outline.pages:
            ctx.err.print(f"[red]The outline failed:[/] {outline.error or 'no pages'}")
            return EXIT_TASK_FAILED
        pages = outline_text.trim(outline.pages, args.pages) if args.pages else outline.pages
        text = outline_text.format_pages(pages)
        if args.edit:
            try:
                text = outline_text.edit(text)
            except outline_text.EditorFailed as exc:
                raise UsageError(f"{exc}; nothing was generated") from exc
            pages = outline_text.parse(text)
            if not pages:
                raise UsageError("the edited outline has no pages; nothing was generated")
        _show_outline(ctx.err, pages)
        task = await ink.generate(pages, full_outline=text, topic=topic)
        ctx.err.print(f"Task [bold]{task.task_id}[/] (if interrupted: inkstream watch {task.task_id})",
                      soft_wrap=True)
        finish = await _follow(ink, ctx, task.task_id, len(pages))
        out = _out_dir(args.out, task.task_id)
        saved = await ink.download(task.task_id, out)
        post = await _write_post(ink, task.task_id, out)
        left = await _quota_line(ink)
    for path in saved + ([post] if post else []):
        print(path, flush=True)
    ctx.err.print(f"Saved {len(saved)} of {finish.total} image(s)" + (" and post.md" if post else "") + f" in {out}/")
    if left:
        ctx.err.print(left)
    if not finish.success:
        failed = ", ".join(str(i + 1) for i in finish.failed_indices) or "?"
        ctx.err.print(f"[red]{'Cancelled' if finish.cancelled else f'Failed pages: {failed}'}[/]"
                      f" — retry them in the web UI or with the SDK (retry_failed)")
    return EXIT_OK if finish.success and len(saved) == finish.total else EXIT_TASK_FAILED


async def watch(ctx: Context) -> int:
    async with ctx.client() as ink:
        status = await ink.status(ctx.args.task_id)
        await _follow(ink, ctx, status.task_id or ctx.args.task_id, status.total, follow=True)
        status = await ink.status(ctx.args.task_id)
    ctx.err.print(f"Task {ctx.args.task_id}: {status.status} — {status.completed}/{status.total} pages done"
                  + (f", {status.failed} failed" if status.failed else ""))
    return EXIT_OK if status.status == "done" else EXIT_TASK_FAILED


async def history(ctx: Context) -> int:
    if ctx.args.page < 1 or not 1 <= ctx.args.page_size <= 100:
        raise UsageError("--page must be ≥ 1 and --page-size between 1 and 100")
    async with ctx.client() as ink:
        result = await ink.history(ctx.args.page, ctx.args.page_size)
    table = Table(title=f"History — page {result.page}, {result.total} task(s) in all")
    table.add_column("task", no_wrap=True)
    table.add_column("kind")
    table.add_column("status")
    table.add_column("pages", justify="right")
    table.add_column("created", no_wrap=True)
    table.add_column("topic", overflow="ellipsis", no_wrap=True, max_width=40)
    for item in result.items:
        table.add_row(item.task_id, item.kind, item.status, str(item.total), item.created_at[:19].replace("T", " "),
                      item.topic)
    ctx.out.print(table)
    return EXIT_OK


async def download(ctx: Context) -> int:
    task_id = ctx.args.task_id
    out = _out_dir(ctx.args.out, task_id)
    async with ctx.client() as ink:
        status = await ink.status(task_id)
        saved = await ink.download(task_id, out)
    for path in saved:
        print(path, flush=True)
    ctx.err.print(f"Saved {len(saved)} of {status.total} image(s) in {out}/")
    if len(saved) < status.total:
        ctx.err.print(f"[yellow]{status.total - len(saved)} page(s) have no image yet (task {status.status})")
        return EXIT_TASK_FAILED
    return EXIT_OK


async def _quota_line(ink: AsyncInkstream) -> str:
    """"今日剩余 N 页" in words: what today's page quota leaves (empty when unlimited)."""
    usage = await ink.usage()
    if usage.get("remaining") is None:
        return ""
    return (f"今日剩余 {usage['remaining']} 页 — {usage['remaining']} of {usage['quota']} pages left today "
            f"(resets {str(usage['resets_at'])[:16].replace('T', ' ')} UTC)")


async def quota(ctx: Context) -> int:
    async with ctx.client() as ink:
        line = await _quota_line(ink)
    ctx.out.print(line or "No daily page quota: unlimited.")
    return EXIT_OK


COMMANDS: dict[str, Callable[[Context], Awaitable[int]]] = {
    "login": login, "logout": logout, "generate": generate, "watch": watch, "history": history,
    "download": download, "quota": quota,
}


def main(name: str, args: argparse.Namespace) -> int:
    ctx = Context(args)
    try:
        return asyncio.run(COMMANDS[name](ctx))  # type: ignore[arg-type]
    except KeyboardInterrupt:
        ctx.err.print("[yellow]Interrupted.[/] A running task goes on in the service: `inkstream watch <task>`.")
        return EXIT_INTERRUPTED
    except UsageError as exc:
        ctx.err.print(f"[red]error:[/] {exc}")
        return EXIT_USAGE
    except InkstreamError as exc:
        ctx.err.print(f"[red]error:[/] {exc.message} [dim]({exc.code})[/]{_hint(exc, ctx.server)}")
        return exit_code(exc)
