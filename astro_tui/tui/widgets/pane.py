"""A titled, bordered pane holding one list (or the log), with a `/` filter input.

A list pane filters its own table as the user types and says so with `Pane.Filtered` (the
screen then recounts and follows the cursor). The log pane's input is the log search: the log
view watches it.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input

from astro_tui.text import clean
from astro_tui.tui.widgets.keyed_table import KeyedTable


class Pane(Vertical):
    """`body` is the focusable widget; `context` (DAG id, run id, …) goes in the title."""

    class Filtered(Message):
        """The pane's list was filtered (its shown rows changed)."""

        def __init__(self, pane: Pane) -> None:
            super().__init__()
            self.pane = pane

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
    def filterable(self) -> bool:
        return isinstance(self.body, KeyedTable)

    @property
    def filtering(self) -> bool:
        return self.filter_input.has_class("open")

    def open_filter(self) -> None:
        self.filter_input.add_class("open")
        self.filter_input.focus()

    def close_filter(self, clear: bool) -> None:
        if clear:
            self.filter_input.value = ""
            self._filter("")
        self.filter_input.remove_class("open")
        self.body.focus()

    @on(Input.Changed, ".filter")
    def _typed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    @on(Input.Submitted, ".filter")
    def _kept(self, event: Input.Submitted) -> None:
        event.stop()
        self.close_filter(clear=False)

    def _filter(self, text: str) -> None:
        if isinstance(self.body, KeyedTable):
            self.body.set_filter(text)
            self.post_message(self.Filtered(self))
