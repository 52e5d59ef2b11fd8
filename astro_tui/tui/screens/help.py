"""`?`: every key binding, grouped."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

GROUPS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Move", [
        ("Tab / Shift+Tab", "next / previous pane"),
        ("Enter", "drill down: DAG → runs → tasks → log"),
        ("Esc", "back up one pane (or close the filter)"),
        ("j / k, ↓ / ↑", "down / up"),
        ("g / G", "top / bottom"),
        ("PgUp / PgDn", "page up / down"),
    ]),
    ("Find", [
        ("/", "filter the focused list (DAGs: id or tag)"),
        ("Ctrl+P", "command palette: jump to a DAG by fuzzy name"),
    ]),
    ("Data", [
        ("r", "refresh now"),
    ]),
    ("Log pane", [
        ("f", "follow on / off (G resumes tailing)"),
        ("[ / ]", "previous / next try"),
        ("/ then n / N", "search, next / previous match"),
        ("l", "level filter: all, warning+, error+"),
        ("w", "wrap long lines"),
        ("Enter / Space, z", "fold or unfold a group, all groups"),
        ("s", "save the whole try to a file"),
        ("y", "copy the Airflow UI log URL (OSC 52)"),
    ]),
    ("Change", [
        ("t", "trigger the DAG; on a run: re-run its conf"),
        ("Ctrl+S", "in the conf editor: send the trigger"),
        ("p", "pause / unpause the DAG"),
        ("c", "clear the task or run, after a dry run"),
        ("m", "mark the task or run success / failed"),
        ("", "(all hidden in read-only mode)"),
    ]),
    ("App", [
        ("?", "this help"),
        ("q", "quit"),
    ]),
]


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for group, rows in GROUPS:
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

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_table())

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys"
