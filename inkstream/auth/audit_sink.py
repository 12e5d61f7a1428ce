"""What auth tells the audit log, as a protocol: the audit log itself lives in inkstream.admin.audit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the audit log keeps it."""

    ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str


class AuditSink(Protocol):
    async def record(
        self, action: str, *, actor: Actor | None = None, target_type: str = "", target_id: str = "",
        origin: Origin | None = None, severity: str = "info", before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None, detail: dict[str, Any] | None = None,
    ) -> None: ...


class NoAudit:
    """For tools that run outside the service (the `user create` command records nothing)."""

    async def record(self, action: str, **_: Any) -> None:
        return None
