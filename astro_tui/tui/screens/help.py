"""`?`: every key binding, grouped (made from the actions table, tui/actions.py)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from astro_tui.text import clean
from astro_tui.tui.actions import help_groups


def help_table(watching: list[str] | None = None) -> Table:
    """The keys; then what is watched (`a`), when anything is."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    if watching:
        table.add_row(Text("Watching", style="bold underline"), "an alert when it ends (a)")
        for label in watching:
            table.add_row("◉", Text(clean(label, max_len=150, newline=" ")))
        table.add_row("", "")
    for group, rows in help_groups():
        table.add_row(Text(group, style="bold underline"), "")
        for key, what in rows:
            table.add_row(key, what)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close"),
        Binding("q", "dismiss", "Close"),
    ]

    def __init__(self, watching: list[str] | None = None) -> None:
        super().__init__()
        self.watching = watching or []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_table(self.watching))

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys"
