"""The log pane: a `Log` fed in batches with sanitized, formatted lines.

`Log.write_lines` follows the tail only while the view is at the bottom, so a user who scrolled up
stays where they are. Never call `write_line` in a loop (one worker per call, textual-notes §b).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.binding import Binding
from textual.widgets import Log

from astro_tui.airflow.models import LogLine
from astro_tui.text import clean

_MODULE_LOGGER = re.compile(r"^unusual_prefix_[0-9a-f]+_")
_QUIET_LOGGERS = {"task.stdout", "task.stderr"}


def short_logger(name: str) -> str:
    """"unusual_prefix_<sha>_my_dag" -> "my_dag"; long dotted names -> their last part."""
    name = _MODULE_LOGGER.sub("", name)
    if len(name) > 24 and "." in name:
        name = name.rsplit(".", 1)[1]
    return name


def format_line(line: LogLine) -> list[str]:
    """One entry -> display lines: "09:59:37 INFO  logger: text", then indented detail lines.
    Group markers become "▾ title" (folding comes with the full log viewer); ends are dropped."""
    if line.group == "end":
        return []
    if line.group == "start":
        return [clean("▾ " + line.text, newline=" ")]
    if line.timestamp is None and line.level is None:
        head = line.text  # Airflow 2 text lines already carry time and level
    else:
        parts = []
        if line.timestamp is not None:
            parts.append(line.timestamp.strftime("%H:%M:%S"))
        if line.level:
            parts.append(f"{line.level.upper():<5}")
        logger = line.logger or ""
        if logger and logger not in _QUIET_LOGGERS:
            parts.append(short_logger(logger) + ":")
        parts.append(line.text)
        head = " ".join(parts)
    out = [clean(head, newline=" ")]
    out.extend("    " + clean(d, newline=" ") for d in line.detail)
    return out


class LogView(Log):
    """Scrollable, tail-following log. Bounded in memory by `max_lines`."""

    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    def __init__(self, max_lines: int = 500_000, **kwargs) -> None:
        super().__init__(max_lines=max_lines, highlight=False, auto_scroll=True, **kwargs)
        self.entries = 0
        self.ended = False

    def reset(self, message: str | None = None) -> None:
        self.clear()
        self.entries = 0
        self.ended = False
        if message:
            self.write_lines([clean(message, newline=" ")])

    def add(self, lines: Iterable[LogLine]) -> None:
        batch: list[str] = []
        for line in lines:
            batch.extend(format_line(line))
            self.entries += 1
        if batch:
            self.write_lines(batch)

    def note(self, message: str) -> None:
        """A line of our own (not from the server), e.g. "— end of log —"."""
        self.write_lines([clean(message, newline=" ")])
