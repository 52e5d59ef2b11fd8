"""Messages that carry data from polling workers to the widgets' handlers."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class Polled(Message):
    """A poll finished. Exactly one of `data` and `error` is set.

    `generation` lets the receiver drop answers that arrive after the poll was re-targeted
    (for example, runs of the DAG that was selected a moment ago).
    """

    def __init__(
        self, key: str, generation: int, data: Any = None, error: BaseException | None = None
    ) -> None:
        super().__init__()
        self.key = key
        self.generation = generation
        self.data = data
        self.error = error
