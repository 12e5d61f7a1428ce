"""Task and page states, and the event dedupe keys that make re-runs safe."""

from __future__ import annotations

QUEUED, RUNNING, DONE, PARTIAL, FAILED, CANCELLED = "queued", "running", "done", "partial", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
TERMINAL = (DONE, PARTIAL, FAILED, CANCELLED)

PAGE_PENDING, PAGE_GENERATING, PAGE_DONE, PAGE_ERROR = "pending", "generating", "done", "error"

OUTLINE, GENERATE = "outline", "generate"


def final_status(completed: int, failed: int) -> str:
    if failed == 0:
        return DONE
    return FAILED if completed == 0 else PARTIAL


def complete_key(index: int, round_: int) -> str:
    return f"complete:{index}:{round_}"


def error_key(index: int, round_: int) -> str:
    return f"error:{index}:{round_}"


def finish_key(round_: int) -> str:
    return f"finish:{round_}"
