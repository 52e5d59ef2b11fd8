"""The log pane: a `Log` fed in batches with sanitized, formatted lines.

`Log.write_lines` follows the tail only while the view is at the bottom, so a user who scrolled up
stays where they are. Never call `write_line` in a loop (one worker per call, textual-notes §b).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.binding import Binding
from textual.widgets import Log

from astro_tui.airflow.errors import ApiError
from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import LogLine, TaskInstance
from astro_tui.text import clean
from astro_tui.tui.messages import Polled
from astro_tui.tui.polling import PollLoop

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
    """Scrollable, tail-following log of one task try. Bounded in memory by `max_lines`.

    It owns its poll loop: `show(client, ti)` starts following that try (fetching only new lines,
    see LogFollower), and polling stops by itself at end of log. `context` is the pane title.
    """

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
        self.follower: LogFollower | None = None
        self.poll: PollLoop | None = None
        self.interval = 2.0
        self.debounce = 0.25

    def on_mount(self) -> None:
        self.interval = self.app.settings.log_seconds  # type: ignore[attr-defined]
        self.poll = PollLoop(self, "log", self.interval,
                             clock=self.app.clock)  # type: ignore[attr-defined]

    @property
    def context(self) -> str:
        f = self.follower
        if f is None:
            return ""
        ctx = f.task_id if f.map_index < 0 else f"{f.task_id}[{f.map_index}]"
        if f.try_number:
            ctx += f" · try {f.try_number}"
        if f.finished:
            ctx += " · end of log"
        return ctx

    def _retitle(self) -> None:
        pane = self.parent
        if hasattr(pane, "set_context"):
            pane.set_context(self.context)  # type: ignore[union-attr]

    def show(self, client, ti: TaskInstance | None) -> None:
        """Follow the latest try of `ti` (None: show nothing)."""
        assert self.poll is not None
        self.reset()
        if client is None or ti is None:
            self.follower = None
            self.poll.retarget(None)
            self._retitle()
            return
        self.follower = LogFollower(
            client, ti.dag_id, ti.run_id, ti.task_id, ti.try_number or None, ti.map_index,
            interval=self.interval,
        )
        self._retitle()
        self.poll.interval = self.interval
        self.poll.retarget(self.follower.poll, delay=self.debounce)

    def following(self, ti: TaskInstance) -> bool:
        """Whether `ti`'s latest try is the one shown (False once a retry has started)."""
        f = self.follower
        return (
            f is not None and (f.task_id, f.map_index) == (ti.task_id, ti.map_index)
            and (ti.try_number or 0) <= (f.try_number or 0)
        )

    def on_polled(self, message: Polled) -> None:
        message.stop()
        if self.poll is None or message.generation != self.poll.generation:
            return
        if message.error is not None:
            if not self.entries:
                err = message.error
                text = err.message if isinstance(err, ApiError) else str(err)
                self.reset(f"(log not available: {type(err).__name__}: {text})")
            return
        self.add(message.data)
        f = self.follower
        if f is not None and f.finished and not self.ended:
            self.poll.interval = None
            self.ended = True
            self.note("— end of log —")
        self._retitle()

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
