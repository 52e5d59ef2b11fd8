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


def cut_middle(text: str, width: int, *, tail: float = 0.6) -> str:
    """`text` in at most `width` characters: cut in the middle with ``…`` when too long, keeping
    more of the end (``section_2.inn…section_2.task_3``), where ids differ most often."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    keep = width - 1
    back = max(1, round(keep * tail))
    front = keep - back
    return text[:front] + "…" + text[len(text) - back:]
