"""The Textual application: owns the connection factory, settings, clock and crash handling."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App

from astro_tui.config import Profile
from astro_tui.state import SessionStore
from astro_tui.text import escape_markup
from astro_tui.tui.actions import bindings
from astro_tui.tui.alerting import TerminalAlerts
from astro_tui.tui.commands import AstroCommands, DagCommands, DeploymentCommands
from astro_tui.tui.context import UiContext
from astro_tui.tui.restore import apply_filters, capture
from astro_tui.tui.screens.help import HelpScreen
from astro_tui.tui.screens.main import MainScreen
from astro_tui.tui.screens.overview import OverviewScreen
from astro_tui.watch.alerts import Alerts, Watch
from astro_tui.watch.fleet import Deployment, Fleet
from astro_tui.watch.saved import DagListStore
from astro_tui.watch.settings import Settings
from astro_tui.watch.watcher import Watcher

if TYPE_CHECKING:
    from astro_tui.airflow.client import AirflowClient


class AstroTuiApp(App):
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "astro-tui"
    COMMANDS = App.COMMANDS | {DagCommands, DeploymentCommands, AstroCommands}
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
        others: Sequence[Deployment] = (),
    ) -> None:
        """`session`: where the session is saved on quit and SIGHUP (`handle_hangup`), and
        read from on start (unless `restore` is False: a clean start). `saved_dags`: the last
        DAG list, painted at once on start (marked with its age) and saved on quit. `others`:
        more deployments watched at once (the fleet, issue 17); the first is `connect`'s."""
        super().__init__()
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.clock = clock
        self.tz = tz
        #: the first screen: "overview" (what `astro-tui` opens on) or "main" (the drill-down)
        self.landing = landing
        first = Deployment(profile_name, connect, settings or Settings(), read_only, notify,
                           notify_command, saved_dags)
        #: the deployments' data and polls (one Watcher each); screens subscribe to the
        #: current one's
        self.fleet = Fleet([first, *others], clock=clock, now=self.now)
        inside_tmux = bool(os.environ.get("TMUX")) if tmux is None else tmux
        sink = self._alert_sink = TerminalAlerts(self, tmux=inside_tmux, write=terminal_write)
        self._overview_generation = 0
        #: per deployment: `--notify` and the person's watches ("a"); alerts are toasts, a
        #: bell, and a desktop notification through the terminal
        self.fleet_alerts = {
            d.name: Alerts(self.fleet.watchers[d.name], sink, mode=d.notify,
                           command=d.notify_command, profile=d.name,
                           on_hook_error=self._hook_error, on_change=self._watches_changed)
            for d in self.fleet.deployments.values()}
        self._session = session
        for d in self.fleet.deployments.values():
            cached = d.saved.load() if d.saved is not None else None
            if cached is not None:
                self.fleet.watchers[d.name].cache.seed(cached.saved_at, cached.dags,
                                                       cached.latest, cached.recent,
                                                       cached.unknown)
        self._saved = session.load() if session is not None and restore else None
        self._watches = [*(self._saved.watches if self._saved else ()), *watches]
        self._handle_hangup = handle_hangup

    # -- the current deployment ------------------------------------------------------------

    @property
    def watcher(self) -> Watcher:
        """The current deployment's Watcher."""
        return self.fleet.watcher

    @property
    def alerts(self) -> Alerts:
        """The current deployment's alerts and watches."""
        return self.fleet_alerts[self.fleet.current]

    @property
    def deployment(self) -> Deployment:
        return self.fleet.deployments[self.fleet.current]

    @property
    def profile_name(self) -> str:
        return self.fleet.current

    @property
    def read_only(self) -> bool:
        return self.deployment.read_only

    @property
    def settings(self) -> Settings:
        return self.deployment.settings

    def screen_name(self, screen: str, member: str | None = None) -> str:
        """A deployment's screens: "main" and "overview" for the first, "main:<name>" … for
        the others (each keeps its place in the drill-down while another is current)."""
        member = member or self.fleet.current
        name = screen if member == self.fleet.names[0] else f"{screen}:{member}"
        if screen == "overview" and self._overview_generation:  # (made again: _remake_overview)
            name += f"#{self._overview_generation}"
        return name

    async def on_mount(self) -> None:
        self.fleet.start()
        for name, alerts in self.fleet_alerts.items():
            alerts.start(self._watches if name == self.fleet.current else ())
        saved = self._saved
        to_overview = self.landing == "overview" and (saved is None or saved.screen != "main")
        self._install(notice=self._session.problem if self._session is not None else None,
                      covered=to_overview)
        await self.push_screen(self.screen_name("main"))
        if saved is not None:
            apply_filters(self.main, saved)
            if saved.screen == "main":
                self.main.restore_to = saved
        if self._handle_hangup:
            # An SSH drop: save where we were, then end (as SIGHUP's default would).
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
        if to_overview:  # (a saved session reopens the drill-down)
            await self.switch_screen(self.screen_name("overview"))

    def _install(self, notice: str | None = None, covered: bool = True) -> None:
        """The current deployment's two screens, unless they are there already."""
        if self.is_screen_installed(self.screen_name("main")):
            return
        d = self.deployment
        ctx = UiContext(d.name, d.read_only, self.now, self.tz)
        if notice:
            ctx.notice(notice)
        main = MainScreen(self.watcher, ctx, self.alerts)
        self.install_screen(main, name=self.screen_name("main"))
        if covered:
            # covered from the start: the drill-down neither fills nor paints its DAG list
            # before the overview is shown (the first paint comes sooner)
            main.set_covered(True)
        if self.landing == "overview":
            # The two screens take turns (switch_screen), never one over the other: Textual
            # treats the screen under the top one as visible and paints its every layout
            # change over the top one (a full repaint per DAG list read, measured).
            self.install_screen(OverviewScreen(self.watcher, ctx, self.drill, self.alerts,
                                               fleet=self.fleet),
                                name=self.screen_name("overview"))

    @property
    def main(self) -> MainScreen:
        screen = self.get_screen(self.screen_name("main"))
        assert isinstance(screen, MainScreen)
        return screen

    @property
    def overview(self) -> OverviewScreen:
        screen = self.get_screen(self.screen_name("overview"))
        assert isinstance(screen, OverviewScreen)
        return screen

    def action_switch_deployment(self, delta: int) -> None:
        """d / D: the next / previous deployment of the fleet, live."""
        if self.fleet.several:
            self.run_worker(self.switch_to(self.fleet.step(delta)), group="switch",
                            exclusive=True)

    async def add_deployment(self, profile: Profile) -> None:
        """A discovered deployment joins the fleet (the palette): watched at once, its profile
        written to the config file (0600) for the next `--all-profiles`; the overview is made
        again with the deployments strip."""
        from astro_tui.config import ConfigError, load_config, save_config
        from astro_tui.session import open_client

        if profile.name in self.fleet.deployments:
            return
        d = Deployment(profile.name, partial(open_client, profile),
                       Settings.from_poll_seconds(profile.poll_seconds), profile.read_only,
                       profile.notify, profile.notify_command, DagListStore(profile.name))
        watcher = self.fleet.add(d)
        alerts = self.fleet_alerts[d.name] = Alerts(
            watcher, self._alert_sink, mode=d.notify, command=d.notify_command, profile=d.name,
            on_hook_error=self._hook_error, on_change=self._watches_changed)
        alerts.start()
        saved = ""
        try:
            config = load_config()
            if profile.name not in config.profiles:
                config.profiles[profile.name] = profile
                saved = f"; saved as profile '{profile.name}' in {save_config(config)}"
        except (ConfigError, OSError) as exc:
            saved = f"; not saved to the config file ({exc})"
        await self._remake_overview()
        self.notify(escape_markup(f"watching {profile.name} too{saved}", max_len=200,
                                  newline=" "), timeout=6)

    async def _remake_overview(self) -> None:
        """The current overview again (a new member: the strip, the inbox's deployment
        column)."""
        old = self.screen_name("overview")
        if not self.is_screen_installed(old):
            return
        screen = self.get_screen(old)
        shown = self.screen is screen
        self._overview_generation += 1
        assert isinstance(screen, OverviewScreen)
        self.install_screen(OverviewScreen(self.watcher, screen.ctx, self.drill, self.alerts,
                                           fleet=self.fleet), name=self.screen_name("overview"))
        if shown:
            await self.switch_screen(self.screen_name("overview"))
        self.uninstall_screen(old)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_deployment":
            return self.fleet.several
        return True

    async def switch_to(self, name: str, then: Callable[[], None] | None = None) -> None:
        """Make deployment `name` current, on the same kind of screen as now; `then` runs on
        its screens (from the merged inbox: the drill-down on a run of that deployment)."""
        if name != self.fleet.current:
            on_main = isinstance(self.screen, MainScreen)
            if on_main:
                self.main.set_covered(True)
            self.fleet.switch(name)
            self._install()
            # (a drill-down on that deployment's run: straight to its drill-down, mounted)
            if on_main or then is not None or not self.is_screen_installed(
                    self.screen_name("overview")):
                await self.switch_screen(self.screen_name("main"))
                self.main.set_covered(False)
            else:
                await self.switch_screen(self.screen_name("overview"))
            self.notify(escape_markup(f"deployment: {name}", max_len=80, newline=" "),
                        timeout=3)
        if then is not None:
            then()

    def drill(self, dag_id: str, run_id: str | None, task_key: str | None) -> None:
        """From the overview: the drill-down on a DAG, or on a run and its task's log."""
        if isinstance(self.screen, OverviewScreen):
            self.switch_screen(self.screen_name("main"))
        self.main.set_covered(False)
        if run_id is None:
            self.main.nav.goto_dag(dag_id)
            self.main.pane_layout.activate("runs")  # Enter on a DAG opens its runs, as below
        else:
            self.main.nav.show_task(dag_id, run_id, task_key)

    def action_overview(self) -> None:
        if self.is_screen_installed(self.screen_name("overview")) and isinstance(self.screen,
                                                                          MainScreen):
            self.main.set_covered(True)
            self.switch_screen(self.screen_name("overview"))

    def save_session(self) -> None:
        """Where the person is, and each deployment's DAG list, for the next start (quit,
        SIGHUP). Never fatal: the next start is merely clean, or slower. The place (screen,
        DAG, run, watches) is the first deployment's (its profile names the session file)."""
        for d in self.fleet.deployments.values():
            cache = self.fleet.watchers[d.name].cache
            try:
                if d.saved is not None and cache.dags and cache.cached_at is None:
                    d.saved.save(self.now(), cache.dags, cache.latest, cache.recent,
                                 cache.unknown)
            except OSError:
                pass
        first = self.fleet.names[0]
        try:
            if self._session is not None and self.fleet.current == first and \
                    self.is_screen_installed(self.screen_name("main")):
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
        for name in (self.screen_name("main"), self.screen_name("overview")):
            if self.is_screen_installed(name):
                screen = self.get_screen(name)
                if isinstance(screen, (MainScreen, OverviewScreen)) and screen.is_mounted:
                    screen.show_marks()

    def _hook_error(self, text: str) -> None:
        self.notify(escape_markup(text, max_len=200, newline=" "), severity="warning")

    async def on_unmount(self) -> None:
        await asyncio.gather(*(a.aclose() for a in self.fleet_alerts.values()))
        await self.fleet.aclose()

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
