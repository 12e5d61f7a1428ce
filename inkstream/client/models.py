"""What the SDK's calls return: plain dataclasses built from the service's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Page:
    """One page of an outline: its position, type (cover/content/summary) and text."""

    index: int
    type: str
    content: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Page:
        return cls(int(data["index"]), str(data.get("type", "content")), str(data.get("content", "")))

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "type": self.type, "content": self.content}


@dataclass
class User:
    id: int
    username: str
    is_admin: bool = False
    role: str = "user"


@dataclass
class Accepted:
    """A task the service accepted (202): follow it with `stream(task_id)`."""

    task_id: str
    status: str
    stream_url: str


@dataclass
class PageStatus:
    index: int
    status: str  # pending | generating | done | error
    image_url: str | None
    error: str | None = None
    retryable: bool | None = None
    type: str = ""
    content: str = ""
    preview_url: str | None = None  # a ~540 px WebP of the page


@dataclass
class PostCopy:
    """The post's words: three title options (≤ 20 characters), the body (200–800) and 5–10 tags (no '#')."""

    titles: list[str]
    body: str
    tags: list[str]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PostCopy:
        return cls([str(t) for t in data.get("titles", [])], str(data.get("body", "")),
                   [str(t) for t in data.get("tags", [])])

    def to_json(self) -> dict[str, Any]:
        return {"titles": list(self.titles), "body": self.body, "tags": list(self.tags)}

    def markdown(self) -> str:
        """The copy as the `post.md` the CLI writes beside the images."""
        titles = "\n".join(f"{n}. {t}" for n, t in enumerate(self.titles, 1))
        tags = " ".join(f"#{t}" for t in self.tags)
        return f"# {self.titles[0] if self.titles else ''}\n\n## 标题备选\n\n{titles}\n\n## 正文\n\n{self.body}\n\n" \
               f"## 标签\n\n{tags}\n"


@dataclass
class TaskStatus:
    task_id: str
    kind: str
    status: str  # queued | running | done | partial | failed | cancelled
    topic: str
    total: int
    completed: int
    failed: int
    images: list[PageStatus] = field(default_factory=list)
    last_event_id: int = 0
    copy: PostCopy | None = None
    copy_status: str = "none"  # pending | writing | done | error | none
    copy_error: str | None = None
    title: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "partial", "failed", "cancelled")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskStatus:
        images = [
            PageStatus(int(p["index"]), str(p.get("status", "")), p.get("image_url"), p.get("error"),
                       p.get("retryable"), str(p.get("type", "")), str(p.get("content", "")), p.get("preview_url"))
            for p in data.get("images", [])
        ]
        copy = PostCopy.from_json(data["copy"]) if data.get("copy") else None
        return cls(str(data.get("task_id", "")), str(data.get("kind", "generate")), str(data["status"]),
                   str(data.get("topic", "")), int(data.get("total", 0)), int(data.get("completed", 0)),
                   int(data.get("failed", 0)), images, int(data.get("last_event_id") or 0), copy,
                   str(data.get("copy_status") or "none"), data.get("copy_error"), data.get("title"))


@dataclass
class Outline:
    task_id: str
    status: str
    pages: list[Page]
    raw: str  # the outline text, pages separated by `<page>` lines
    error: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outline:
        return cls(str(data.get("task_id", "")), str(data.get("status", "")),
                   [Page.from_json(p) for p in data.get("pages", [])], str(data.get("outline", "")),
                   data.get("error"))


@dataclass
class HistoryItem:
    task_id: str
    kind: str
    status: str
    topic: str
    total: int
    cover_url: str | None
    created_at: str
    title: str = ""
    cover_preview_url: str | None = None


@dataclass
class History:
    items: list[HistoryItem]
    total: int
    page: int
    page_size: int
    stats: dict[str, int] = field(default_factory=dict)  # posts, pages, this_week

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> History:
        items = [HistoryItem(str(i["task_id"]), str(i.get("kind", "")), str(i.get("status", "")),
                             str(i.get("topic", "")), int(i.get("total") or 0), i.get("cover_url"),
                             str(i.get("created_at", "")), str(i.get("title") or i.get("topic", "")),
                             i.get("cover_preview_url"))
                 for i in data.get("items", [])]
        stats = {str(k): int(v) for k, v in (data.get("stats") or {}).items()}
        return cls(items, int(data.get("total", 0)), int(data.get("page", 1)), int(data.get("page_size", 20)), stats)
