"""A titled, bordered pane holding one list (or the log), with a `/` filter input."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input

from astro_tui.text import clean


class Pane(Vertical):
    """`body` is the focusable widget; `context` (DAG id, run id, …) goes in the title."""

    def __init__(self, name: str, body: Widget, *, id: str) -> None:
        super().__init__(id=id, classes="pane")
        self.pane_name = name
        self.body = body
        self.context = ""
        self.count: str = ""
        self.filter_input = Input(placeholder="filter (Enter keeps it, Esc clears)",
                                  classes="filter")
        self.filter_input.cursor_blink = False  # a blinking cursor writes to the terminal

    def compose(self):
        yield self.body
        yield self.filter_input

    def on_mount(self) -> None:
        self._retitle()

    def set_context(self, context: str, count: str = "") -> None:
        if (context, count) != (self.context, self.count):
            self.context, self.count = context, count
            self._retitle()

    def _retitle(self) -> None:
        title = Text(self.pane_name, style="bold")
        if self.count:
            title.append(f" ({self.count})")
        if self.context:
            title.append(" · ")
            title.append(clean(self.context, max_len=60, newline=" "))
        self.border_title = title

    @property
    def filtering(self) -> bool:
        return self.filter_input.has_class("open")

    def open_filter(self) -> None:
        self.filter_input.add_class("open")
        self.filter_input.focus()

    def close_filter(self, clear: bool) -> None:
        if clear:
            self.filter_input.value = ""
        self.filter_input.remove_class("open")
        self.body.focus()
