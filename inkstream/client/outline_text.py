"""The outline as text a person edits: pages separated by `<page>` lines, each starting with a type tag.

    [封面]
    标题：…
    <page>
    [内容]
    …

This is the service's outline format (see generators/outline_format.py); the client parses it itself so the
SDK does not import the service.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path

from inkstream.client.models import Page

_SEPARATOR = re.compile(r"^\s*<\s*page\s*>\s*$", re.IGNORECASE | re.MULTILINE)
_TAG = re.compile(r"^\s*[\[【]\s*(封面|内容|总结)\s*[\]】]")
_TYPES = {"封面": "cover", "内容": "content", "总结": "summary"}
_TAGS = {v: k for k, v in _TYPES.items()}


def parse(text: str) -> list[Page]:
    """Pages from outline text; an untagged page is the cover when first, content otherwise."""
    pages: list[Page] = []
    for chunk in _SEPARATOR.split(text.replace("\r\n", "\n")):
        chunk = chunk.strip()
        if not chunk:
            continue
        tag = _TAG.match(chunk)
        kind = _TYPES[tag.group(1)] if tag else ("cover" if not pages else "content")
        pages.append(Page(len(pages), kind, chunk))
    return pages


def format_pages(pages: list[Page]) -> str:
    """The inverse of `parse`: tag each page that lacks a tag and join them with `<page>` lines."""
    parts = []
    for page in pages:
        content = page.content.strip()
        if not _TAG.match(content):
            content = f"[{_TAGS.get(page.type, '内容')}]\n{content}"
        parts.append(content)
    return "\n<page>\n".join(parts)


def trim(pages: list[Page], count: int) -> list[Page]:
    """At most `count` pages: the first ones, but keeping the last (summary) page when there are two or more."""
    if count >= len(pages):
        return list(pages)
    kept = pages[:1] if count == 1 else pages[: count - 1] + pages[-1:]
    return [Page(i, p.type, p.content) for i, p in enumerate(kept)]


class EditorFailed(Exception):
    pass


def edit(text: str) -> str:
    """Open `text` in $VISUAL / $EDITOR (vi if neither is set) and return what the user saved."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="inkstream-outline-", suffix=".txt")
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        try:
            result = subprocess.run([*shlex.split(editor), str(path)], check=False)
        except OSError as exc:
            raise EditorFailed(f"cannot run the editor {editor!r}: {exc}") from exc
        if result.returncode != 0:
            raise EditorFailed(f"the editor {editor!r} exited with status {result.returncode}")
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)
