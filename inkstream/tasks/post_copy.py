"""The post copy of a generation task: its states, and the owner's actions on it (regenerate, edit).

The state lives in `tasks.post_copy` as `{status, copy, error, source, edited}`; `status` is `pending` (to be
written), `writing` (written and stored, its `copy` event not yet confirmed), `done` or `error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from inkstream.errors import InvalidInput, TaskConflict
from inkstream.generators.copy_format import CopyInvalid, copy_to_dict, validate_copy
from inkstream.storage.db import utcnow
from inkstream.storage.tables import Task
from inkstream.tasks import states

if TYPE_CHECKING:
    from inkstream.tasks.service import TaskService

PENDING, WRITING, DONE, ERROR = "pending", "writing", "done", "error"
NONE = "none"  # tasks created before copies existed


def state_of(task: Task) -> dict[str, Any]:
    return dict(task.post_copy) if task.post_copy else {"status": NONE}


def is_due(task: Task) -> bool:
    return state_of(task)["status"] in (PENDING, WRITING)


def pending(previous: dict[str, Any] | None = None) -> dict[str, Any]:
    # A regenerate keeps the previous copy visible until the new one is stored.
    kept = (previous or {}).get("copy")
    return {"status": PENDING, "copy": kept, "error": None}


def writing(previous: dict[str, Any], copy: dict[str, Any], source: str) -> dict[str, Any]:
    return {**previous, "status": WRITING, "copy": copy, "error": None, "source": source, "edited": False}


def done(copy: dict[str, Any], source: str) -> dict[str, Any]:
    return {"status": DONE, "copy": copy, "error": None, "source": source, "edited": False}


def failed(previous: dict[str, Any], message: str) -> dict[str, Any]:
    return {**previous, "status": ERROR, "error": message}


def view(task: Task) -> dict[str, Any]:
    """`copy` and its state as the task views show them."""
    state = state_of(task)
    return {"copy": state.get("copy"), "copy_status": state["status"], "copy_error": state.get("error"),
            "copy_edited": bool(state.get("edited"))}


class CopyActions:
    """What the owner can do with a post's copy; reached as `TaskService.copy`."""

    def __init__(self, tasks: TaskService) -> None:
        self._tasks = tasks

    async def regenerate(self, user_id: int, task_id: str) -> Task:
        """Write the copy again, alone: a new round of the task whose only work is the copy."""
        task, _ = await self._tasks.get(user_id, task_id, kind=states.GENERATE)
        task = await self._tasks.settled(task)
        if task.status not in states.TERMINAL:
            raise TaskConflict("The task is still running; wait for it to finish or cancel it.")
        return await self._tasks.start_round(task, [], copy_state=pending(state_of(task)))

    async def edit(self, user_id: int, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """Replace the copy with the owner's edit, validated by the same rules as a model's (emoji optional)."""
        task, _ = await self._tasks.get(user_id, task_id, kind=states.GENERATE)
        if is_due(task) and task.status in states.ACTIVE:  # a cancelled task's unwritten copy may be written by hand
            raise TaskConflict("The copy is being written; wait for it before editing.")
        try:
            copy = validate_copy(data)
        except CopyInvalid as problem:
            raise InvalidInput(problem.code, problem.message) from None
        value = {**state_of(task), "status": DONE, "copy": copy_to_dict(copy), "error": None, "edited": True}
        async with self._tasks.db.write() as s:
            await s.execute(update(Task).where(Task.id == task_id).values(post_copy=value, updated_at=utcnow()))
        task.post_copy = value
        return view(task)
