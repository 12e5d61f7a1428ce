"""The outline text format every outline generator returns, and its parser.

The format comes from RedInk's outline prompt, so remote models and the offline builder produce the same text:

    [封面]
    标题：5分钟学会手冲咖啡☕
    副标题：新手也能做出咖啡店的味道
    <page>
    [内容]
    第一步：准备工具
    • 手冲壶
    <page>
    [总结]
    …

Pages are separated by a line `<page>`; each page starts with a type tag. A page's `content` keeps its tag line
so that the text a user edits is exactly the text a model wrote; renderers strip the tag themselves.
"""

from __future__ import annotations

import re

from inkstream.generators.base import OutlinePage, PageType

PAGE_SEPARATOR = "<page>"
TYPE_TAGS: dict[str, PageType] = {"封面": "cover", "内容": "content", "总结": "summary"}
TAG_FOR_TYPE: dict[PageType, str] = {v: k for k, v in TYPE_TAGS.items()}

# Models sometimes wrap the answer in a code fence or put <page> mid-line; tolerate both.
_SEPARATOR_RE = re.compile(r"<\s*page\s*>", re.IGNORECASE)
_FENCE_RE = re.compile(r"^\s*```[a-zA-Z]*\s*$", re.MULTILINE)
_TAG_RE = re.compile(r"^\s*[\[【]\s*(封面|内容|总结)\s*[\]】]\s*")


def page_type_of(content: str) -> PageType | None:
    """The type named by the tag on the page's first line, or None if it has none."""
    match = _TAG_RE.match(content)
    return TYPE_TAGS[match.group(1)] if match else None


def strip_type_tag(content: str) -> str:
    """The page text without its leading `[封面]`/`[内容]`/`[总结]` tag."""
    return _TAG_RE.sub("", content, count=1).strip()


def parse_outline(raw: str) -> list[OutlinePage]:
    """Split a model's outline text into pages; untagged pages count as cover (first) or content (others)."""
    text = _FENCE_RE.sub("", raw.replace("\r\n", "\n"))
    chunks = [chunk.strip() for chunk in _SEPARATOR_RE.split(text)]
    pages: list[OutlinePage] = []
    for chunk in chunks:
        if not chunk:
            continue
        page_type = page_type_of(chunk) or ("cover" if not pages else "content")
        pages.append(OutlinePage(index=len(pages), type=page_type, content=chunk))
    return pages


def format_outline(pages: list[OutlinePage]) -> str:
    """The inverse of parse_outline: join pages (adding a tag where a page lacks one) with `<page>` lines."""
    parts = []
    for page in pages:
        content = page.content.strip()
        if page_type_of(content) is None:
            content = f"[{TAG_FOR_TYPE[page.type]}]\n{content}"
        parts.append(content)
    return f"\n{PAGE_SEPARATOR}\n".join(parts)
