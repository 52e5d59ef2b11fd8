"""The "save log to…" prompt: a path, prefilled with a default file name; Enter saves, Esc cancels."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
HINT = "Enter saves · Esc cancels"


def default_log_name(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int
                     ) -> str:
    parts = [dag_id, run_id, task_id] + ([str(map_index)] if map_index >= 0 else [])
    name = "__".join(_UNSAFE_NAME.sub("_", p).strip("_") for p in parts)
    return f"{name[:200]}__try{try_number}.log"


def default_log_dir() -> Path:
    """The current directory if it is writable, else a per-user folder chosen by platformdirs."""
    cwd = Path.cwd()
    if os.access(cwd, os.W_OK):
        return cwd
    return platformdirs.user_data_path("astro-tui") / "logs"


def resolve_save_path(typed: str, default_name: str) -> Path:
    """What the user typed -> the file to write (``~`` expanded; a directory gets the default
    file name; relative paths are relative to the current directory)."""
    path = Path(os.path.expanduser(typed.strip()))
    if typed.strip().endswith(os.sep) or path.is_dir():
        path = path / default_name
    return path


class SaveLogScreen(ModalScreen[str | None]):
    """Dismissed with the path typed (None: cancelled). An existing file is overwritten only
    after a second Enter."""

    DEFAULT_CSS = """
    SaveLogScreen { align: center middle; }
    SaveLogScreen > Vertical {
        width: 90%; max-width: 100; height: auto;
        border: heavy $accent; background: $surface; padding: 0 1;
    }
    SaveLogScreen .title { text-style: bold; margin-bottom: 1; }
    SaveLogScreen .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default_path: str, what: str, default_name: str = "log.txt") -> None:
        super().__init__()
        self.default_path = default_path
        self.default_name = default_name
        self.what = what
        self._confirmed: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Save the log of {self.what} to:"), classes="title", markup=False)
            field = Input(value=self.default_path, id="save-path")
            field.cursor_blink = False
            yield field
            yield Static(HINT, classes="hint", id="save-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if not typed:
            return
        target = resolve_save_path(typed, self.default_name)
        if target.exists() and self._confirmed != typed:
            self._confirmed = typed
            self.query_one("#save-hint", Static).update(
                Text(f"{target} exists: Enter again overwrites it · Esc cancels"))
            return
        self.dismiss(typed)

    def on_input_changed(self, event: Input.Changed) -> None:
        if self._confirmed is not None and event.value.strip() != self._confirmed:
            self._confirmed = None
            self.query_one("#save-hint", Static).update(HINT)

    def action_cancel(self) -> None:
        self.dismiss(None)
