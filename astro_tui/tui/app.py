"""The Textual application: owns the connection factory, settings, clock and crash handling."""

from __future__ import annotations

import time
from pathlib import Path
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from textual.app import App

from astro_tui.tui.actions import bindings
from astro_tui.tui.commands import DagCommands
from astro_tui.tui.screens.help import HelpScreen
from astro_tui.tui.screens.main import MainScreen

if TYPE_CHECKING:
    from astro_tui.airflow.client import AirflowClient


@dataclass(frozen=True)
class Settings:
    dags_seconds: float = 30.0  # DAG list + latest run per DAG (full refresh)
    runs_seconds: float = 5.0  # runs changed anywhere (which also refreshes the selected DAG's)
    tasks_seconds: float = 3.0  # task instances of the selected run while it is active
    log_seconds: float = 2.0  # new lines of a running task's log
    runs_limit: int = 25  # runs shown for the selected DAG

    @classmethod
    def from_poll_seconds(cls, seconds: float) -> Settings:
        """A profile's `poll_seconds` (default 5): how fresh run and task states are. A running
        log is read at least every 2 s; DAG metadata (which rarely changes) every 30 s at most."""
        if seconds == 5.0:
            return cls()
        return cls(dags_seconds=max(6 * seconds, 30.0), runs_seconds=seconds,
                   tasks_seconds=seconds, log_seconds=min(seconds, 2.0))


class AstroTuiApp(App):
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "astro-tui"
    COMMANDS = App.COMMANDS | {DagCommands}
    BINDINGS = bindings("app")

    def __init__(
        self,
        connect: Callable[[], Awaitable[AirflowClient]],
        *,
        profile_name: str = "default",
        read_only: bool = False,
        settings: Settings | None = None,
        now: Callable[[], datetime] | None = None,
        clock: Callable[[], float] = time.monotonic,
        tz: timezone | None = None,
    ) -> None:
        super().__init__()
        self.connect = connect
        self.profile_name = profile_name
        self.read_only = read_only
        self.settings = settings or Settings()
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.clock = clock
        self.tz = tz

    def on_mount(self) -> None:
        self.push_screen(MainScreen())

    @property
    def main(self) -> MainScreen:
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        raise LookupError("main screen not mounted")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def on_unmount(self) -> None:
        try:
            client = self.main.client
        except LookupError:
            return
        if client is not None:
            await client.aclose()

    def _fatal_error(self) -> None:
        """Textual's crash report prints local variables, which can hold a token. Ours never
        does (override of a private method: re-check on Textual upgrades)."""
        import rich
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()
