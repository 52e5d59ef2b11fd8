"""`i` on the overview: the deployment's health in detail, every import error, every DAG
warning.

Each component with its status and last heartbeat; each DAG file that fails to import with its
error. Stack traces are server text: they go through the sanitizer, line breaks kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from astro_tui.airflow.models import Dag, DagImportError, DagWarning, Health
from astro_tui.present.health import health_word
from astro_tui.present.times import duration, iso
from astro_tui.text import clean, safe_text
from astro_tui.watch.inbox import judge_health


def health_table(health: Health | None, read_at: datetime | None) -> Table | Text:
    if health is None or read_at is None:
        return Text("Health not read yet.", style="dim")
    table = Table.grid(padding=(0, 2))
    for column in ("Component", "Status", "Last heartbeat", "Age at read"):
        table.add_column(column)
    table.add_row(*(Text(c, style="bold") for c in
                    ("Component", "Status", "Last heartbeat", "Age at read")))
    for comp in judge_health(health, read_at):
        style = "green" if comp.ok and comp.status else ("dim" if comp.ok else "bold red")
        table.add_row(
            clean(comp.name.replace("_", "-"), max_len=40),
            Text(clean(health_word(comp.status), max_len=20), style=style),
            iso(comp.latest_heartbeat) if comp.latest_heartbeat else "—",
            duration(comp.heartbeat_age) if comp.heartbeat_age is not None else "—",
        )
    return table


def errors_view(errors: Sequence[DagImportError], dags: Mapping[str, Dag]) -> Group | Text:
    if not errors:
        return Text("No DAG file fails to import.", style="green")
    parts: list[Text] = []
    for error in errors:
        head = Text("⚠ ", style="bold yellow")
        head.append_text(safe_text(error.filename or "(no file name)", style="bold",
                                   max_len=300, newline=" "))
        if error.timestamp is not None:
            head.append(f"  {iso(error.timestamp)}", style="dim")
        flagged = sorted(d.dag_id for d in dags.values()
                         if d.fileloc and error.filename and d.fileloc.endswith(error.filename))
        if flagged:
            head.append("  DAGs: " + clean(", ".join(flagged), max_len=200, newline=" "),
                        style="yellow")
        parts.append(head)
        parts.append(safe_text(error.stack_trace or "", max_len=20_000, newline="\n"))
        parts.append(Text(""))
    return Group(*parts)


def warnings_view(warnings: Sequence[DagWarning]) -> Table | Text:
    if not warnings:
        return Text("No DAG warnings.", style="green")
    table = Table.grid(padding=(0, 2))
    for _ in range(3):
        table.add_column()
    for w in warnings:
        table.add_row(safe_text(w.dag_id, style="bold", max_len=200, newline=" "),
                      safe_text(w.warning_type or "", style="yellow", max_len=60, newline=" "),
                      safe_text(w.message or "", max_len=2000, newline="\n"))
    return table


class ImportErrorsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("i", "dismiss", "Close"),
        Binding("q", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    ImportErrorsScreen { align: center middle; }
    #import-errors {
        width: 90%; height: 90%; border: heavy $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, health: Health | None, read_at: datetime | None,
                 errors: Sequence[DagImportError], dags: Mapping[str, Dag],
                 warnings: Sequence[DagWarning] = ()) -> None:
        super().__init__()
        self.warnings = list(warnings)
        self.health = health
        self.read_at = read_at
        self.errors = list(errors)
        self._dags = dict(dags)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="import-errors"):
            yield Static(Text("Health", style="bold underline"))
            yield Static(health_table(self.health, self.read_at))
            yield Static(Text(f"\nImport errors ({len(self.errors)})",
                              style="bold underline"))
            yield Static(errors_view(self.errors, self._dags))
            yield Static(Text(f"DAG warnings ({len(self.warnings)})", style="bold underline"))
            yield Static(warnings_view(self.warnings))

    def on_mount(self) -> None:
        self.query_one("#import-errors").border_title = "Health and import errors"
