"""How a task instance is named on screen and in the CLI: ``task`` or ``task[map_index]``."""

from __future__ import annotations

from typing import Protocol


class _Task(Protocol):
    @property
    def task_id(self) -> str: ...

    @property
    def map_index(self) -> int: ...


def task_label(task_id: str, map_index: int = -1) -> str:
    """``extract`` for an unmapped task, ``extract[3]`` for one mapped instance."""
    return task_id if map_index < 0 else f"{task_id}[{map_index}]"


def ti_label(ti: _Task) -> str:
    """The label of a task instance (or anything with ``task_id`` and ``map_index``)."""
    return task_label(ti.task_id, ti.map_index)
