"""The Textual application: owns the connection factory, settings, clock and crash handling."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App

from astro_tui.state import SessionStore
from astro_tui.text import escape_markup
from astro_tui.tui.actions import bindings
from astro_tui.tui.alerting import TerminalAlerts
from astro_tui.tui.commands import DagCommands
from astro_tui.tui.context import UiContext
from astro_tui.tui.restore import apply_filters, capture
from astro_tui.tui.screens.help import HelpScreen
from astro_tui.tui.screens.main import MainScreen
from astro_tui.tui.screens.overview import OverviewScreen
from astro_tui.watch.alerts import Alerts, Watch
from astro_tui.watch.saved import DagListStore
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
        notify: str = "off",
        notify_command: str | None = None,
        watches: Iterable[Watch] = (),
        terminal_write: Callable[[str], None] | None = None,
        tmux: bool | None = None,
        session: SessionStore | None = None,
        restore: bool = True,
        handle_hangup: bool = False,
        saved_dags: DagListStore | None = None,
    ) -> None:
        """`session`: where the session is saved on quit and SIGHUP (`handle_hangup`), and
        read from on start (unless `restore` is False: a clean start). `saved_dags`: the last
        DAG list, painted at once on start (marked with its age) and saved on quit."""
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
        inside_tmux = bool(os.environ.get("TMUX")) if tmux is None else tmux
        #: `--notify` and the person's watches ("a"); alerts are toasts, a bell, and a desktop
        #: notification through the terminal
        self.alerts = Alerts(self.watcher, TerminalAlerts(self, tmux=inside_tmux,
                                                          write=terminal_write),
                             mode=notify, command=notify_command, profile=profile_name,
                             on_hook_error=self._hook_error, on_change=self._watches_changed)
        self._session = session
        self._saved_dags = saved_dags
        cached = saved_dags.load() if saved_dags is not None else None
        if cached is not None:
            self.watcher.cache.seed(cached.saved_at, cached.dags, cached.latest, cached.recent,
                                    cached.unknown)
        self._saved = session.load() if session is not None and restore else None
        self._watches = [*(self._saved.watches if self._saved else ()), *watches]
        self._handle_hangup = handle_hangup

    async def on_mount(self) -> None:
        self.watcher.start()
        self.alerts.start(self._watches)
        ctx = UiContext(self.profile_name, self.read_only, self.now, self.tz)
        if self._session is not None and self._session.problem:
            ctx.notice(self._session.problem)
        saved = self._saved
        self.install_screen(MainScreen(self.watcher, ctx, self.alerts), name="main")
        to_overview = self.landing == "overview" and (saved is None or saved.screen != "main")
        if to_overview:
            # covered from the start: the drill-down neither fills nor paints its DAG list
            # before the overview is shown (the first paint comes sooner)
            self.main.set_covered(True)
        await self.push_screen("main")
        if saved is not None:
            apply_filters(self.main, saved)
            if saved.screen == "main":
                self.main.restore_to = saved
        if self._handle_hangup:
            # An SSH drop: save where we were, then end (as SIGHUP's default would).
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        if self.landing == "overview":
            # The two screens take turns (switch_screen), never one over the other: Textual
            # treats the screen under the top one as visible and paints its every layout
            # change over the top one (a full repaint per DAG list read, measured).
            self.install_screen(OverviewScreen(self.watcher, ctx, self.drill, self.alerts),
                                name="overview")
            if to_overview:  # (a saved session reopens the drill-down)
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
            self.main.nav.goto_dag(dag_id)
            self.main.pane_layout.activate("runs")  # Enter on a DAG opens its runs, as below
        else:
            self.main.nav.show_task(dag_id, run_id, task_key)

    def action_overview(self) -> None:
        if self.is_screen_installed("overview") and isinstance(self.screen, MainScreen):
            self.main.set_covered(True)
            self.switch_screen("overview")

    def save_session(self) -> None:
        """Where the person is, and the DAG list, for the next start (quit, SIGHUP). Never
        fatal: the next start is merely clean, or slower."""
        cache = self.watcher.cache
        try:
            if self._saved_dags is not None and cache.dags and cache.cached_at is None:
                self._saved_dags.save(self.now(), cache.dags, cache.latest, cache.recent,
                                      cache.unknown)
            if self._session is not None and self.is_screen_installed("main"):
                self._session.save(capture(self, self.main, self.alerts))
        except OSError:
            pass

    async def action_quit(self) -> None:
        self.save_session()
        self.exit()

    def _hangup(self) -> None:
        self.save_session()
        self.exit()

    def action_refresh_data(self) -> None:
        """r: poll everything shown now."""
        self.watcher.refresh()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([w.label() for w in self.alerts.watches]))

    def _watches_changed(self) -> None:
        """◉ marks and the status line's count, on both screens."""
        for name in ("main", "overview"):
            if self.is_screen_installed(name):
                screen = self.get_screen(name)
                if isinstance(screen, (MainScreen, OverviewScreen)) and screen.is_mounted:
                    screen.show_marks()

    def _hook_error(self, text: str) -> None:
        self.notify(escape_markup(text, max_len=200, newline=" "), severity="warning")

    async def on_unmount(self) -> None:
        await self.alerts.aclose()
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
