"""The Textual application: owns the connection factory, settings, clock and crash handling."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App

from astro_tui.tui.actions import bindings
from astro_tui.tui.commands import DagCommands
from astro_tui.tui.context import UiContext
from astro_tui.tui.screens.help import HelpScreen
from astro_tui.tui.screens.main import MainScreen
from astro_tui.tui.screens.overview import OverviewScreen
from astro_tui.watch.settings import Settings
from astro_tui.watch.watcher import Watcher

if TYPE_CHECKING:
    from astro_tui.airflow.client import AirflowClient


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
        landing: str = "main",
    ) -> None:
        super().__init__()
        self.connect = connect
        self.profile_name = profile_name
        self.read_only = read_only
        self.settings = settings or Settings()
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.clock = clock
        self.tz = tz
        #: the first screen: "overview" (what `astro-tui` opens on) or "main" (the drill-down)
        self.landing = landing
        #: the deployment's data and polls; screens subscribe to what they show
        self.watcher = Watcher(connect, self.settings, clock=clock, now=self.now)

    async def on_mount(self) -> None:
        self.watcher.start()
        ctx = UiContext(self.profile_name, self.read_only, self.now, self.tz)
        self.install_screen(MainScreen(self.watcher, ctx), name="main")
        await self.push_screen("main")
        if self.landing == "overview":
            # The two screens take turns (switch_screen), never one over the other: Textual
            # treats the screen under the top one as visible and paints its every layout
            # change over the top one (a full repaint per DAG list read, measured).
            self.install_screen(OverviewScreen(self.watcher, ctx, self.drill), name="overview")
            self.main.set_covered(True)
            await self.switch_screen("overview")

    @property
    def main(self) -> MainScreen:
        screen = self.get_screen("main")
        assert isinstance(screen, MainScreen)
        return screen

    @property
    def overview(self) -> OverviewScreen:
        screen = self.get_screen("overview")
        assert isinstance(screen, OverviewScreen)
        return screen

    def drill(self, dag_id: str, run_id: str | None, task_key: str | None) -> None:
        """From the overview: the drill-down on a DAG, or on a run and its task's log."""
        if isinstance(self.screen, OverviewScreen):
            self.switch_screen("main")
        self.main.set_covered(False)
        if run_id is None:
            self.main.goto_dag(dag_id)
            self.main.activate("runs")  # Enter on a DAG opens its runs, as in the drill-down
        else:
            self.main.show_task(dag_id, run_id, task_key)

    def action_overview(self) -> None:
        if self.is_screen_installed("overview") and isinstance(self.screen, MainScreen):
            self.main.set_covered(True)
            self.switch_screen("overview")

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def on_unmount(self) -> None:
        await self.watcher.aclose()

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
