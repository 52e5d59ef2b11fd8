"""The overview, the landing screen: the deployment at a glance, without a keypress.

A health strip (components with their heartbeat age, import errors), the failure inbox (runs
that failed in the last 24 h with their first failed task, then running and queued runs), and
every DAG with its recent runs. Enter opens the drill-down (the main screen) on the row under
the cursor: a failed run opens on its first failed task's log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable

from astro_tui.airflow.logs import ui_url
from astro_tui.airflow.models import Dag, DagImportError, DagRun, DagWarning, Health, HitlDetail
from astro_tui.present.labels import ti_label
from astro_tui.present.states import run_is_active
from astro_tui.text import escape_markup
from astro_tui.tui.actions import bindings
from astro_tui.tui.alerting import toggle_watch
from astro_tui.tui.context import UiContext
from astro_tui.tui.fleet_view import FLEET_INBOX_COLUMNS, FleetView, MemberEvent
from astro_tui.tui.layout import PaneLayout
from astro_tui.tui.links import copy_link
from astro_tui.tui.messages import (
    DagsUpdated,
    HealthUpdated,
    ImportErrorsUpdated,
    InboxUpdated,
    WatchConnected,
    WatchFailed,
    poster,
)
from astro_tui.tui.status import status_text
from astro_tui.tui.widgets.footer import Footer
from astro_tui.tui.widgets.health import HealthStrip
from astro_tui.tui.widgets.keyed_table import KeyedTable
from astro_tui.tui.widgets.pane import Pane
from astro_tui.tui.widgets.rows import (
    INBOX_COLUMNS,
    OVERVIEW_DAG_COLUMNS,
    DagRows,
    awaiting_key,
    inbox_rows,
)
from astro_tui.tui.widgets.status_bar import StatusBar
from astro_tui.watch.alerts import Alerts, Watch
from astro_tui.watch.events import DagList, HealthOf, ImportErrorsOf, InboxOf
from astro_tui.watch.feed import Subscription
from astro_tui.watch.fleet import Fleet
from astro_tui.watch.inbox import Inbox
from astro_tui.watch.watcher import Watcher

#: (dag_id, run_id, task key or None): what Enter opens in the drill-down
Drill = Callable[[str, str | None, str | None], None]


class OverviewScreen(Screen[Any]):
    BINDINGS = bindings("overview")

    def __init__(self, watcher: Watcher, ctx: UiContext, drill: Drill, alerts: Alerts, *,
                 fleet: Fleet | None = None) -> None:
        super().__init__()
        self.watcher = watcher
        #: several deployments (issue 17): the strip and the other deployments' inbox rows
        self.fleet_view = (FleetView(fleet, ctx.profile_name)
                           if fleet is not None and fleet.several else None)
        self.ctx = ctx
        self.alerts = alerts
        self._drill = drill
        self._dag_rows = DagRows(recent=True)
        self.dags: dict[str, Dag] = {}
        self.latest: dict[str, DagRun] = {}
        self.recent: dict[str, list[DagRun]] = {}
        self.inbox: Inbox | None = None
        self.health: Health | None = None
        self.health_read_at: datetime | None = None
        self.import_errors: list[DagImportError] = []
        self.warnings: list[DagWarning] = []
        #: inbox row key -> (dag_id, run_id, first failed task's key)
        self._targets: dict[str, tuple[str, str, str | None]] = {}
        #: inbox row key -> the human-in-the-loop request it shows
        self._requests: dict[str, HitlDetail] = {}
        self._subs: list[Subscription] = []
        self.health_strip = HealthStrip(id="health")
        self.inbox_table = KeyedTable(FLEET_INBOX_COLUMNS if self.fleet_view else INBOX_COLUMNS,
                                      fit=True, id="inbox-table")
        self.dag_table = KeyedTable(OVERVIEW_DAG_COLUMNS, fit=True, id="overview-dag-table")
        self.dag_table.on_view = watcher.want_latest  # (last runs not known yet are read)
        self.panes = {
            **({"fleet": self.fleet_view.pane} if self.fleet_view else {}),
            "inbox": Pane("Inbox", self.inbox_table, id="inbox"),
            "dags": Pane("DAGs", self.dag_table, id="overview-dags"),
        }
        #: the other deployments' inbox rows: row key -> (deployment, DAG, run, task)
        self._others: dict[str, tuple[str, str, str, str | None]] = {}
        self.pane_layout = PaneLayout(self, self.panes, active="dags", changed=self.update_status)

    # -- the palette (DagBrowser) ------------------------------------------------------------

    def dag_names(self) -> dict[str, str]:
        return {d.dag_id: d.display_name for d in self.dags.values()}

    def goto_dag(self, dag_id: str) -> None:
        self._drill(dag_id, None, None)

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.fleet_view is not None:
            yield self.fleet_view.pane
        yield self.health_strip
        yield self.panes["inbox"]
        yield self.panes["dags"]
        self.status = StatusBar(id="status")
        yield self.status
        yield Footer()

    def on_mount(self) -> None:
        post = poster(self)
        self._unlisten = self.watcher.listen(post)
        window = self.watcher.settings.inbox_window_seconds
        self._subs = [self.watcher.subscribe(topic, post) for topic in (
            DagList(), HealthOf(), ImportErrorsOf(), InboxOf(window))]
        if self.fleet_view is not None:
            self.fleet_view.start(self)
            self.fleet_view.repaint(self.inbox, self.health)
        self.pane_layout.activate("dags")
        self.set_interval(1.0, self._tick, name="status")
        self.update_status()

    def on_unmount(self) -> None:
        self._unlisten()
        for sub in self._subs:
            sub.close()
        if self.fleet_view is not None:
            self.fleet_view.stop()

    def on_screen_suspend(self) -> None:
        for sub in self._subs:  # the drill-down is on top: nobody looks at these
            sub.pause()
        if self.fleet_view is not None:
            self.fleet_view.pause(True)  # (the fleet keeps the other deployments polled)

    def on_screen_resume(self) -> None:
        for sub in self._subs:
            sub.resume()
        if self.fleet_view is not None:
            self.fleet_view.pause(False)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.pane_layout.focused(event.widget)

    # -- keys ----------------------------------------------------------------------------------

    def action_pane(self, delta: int) -> None:
        self.pane_layout.step(delta)

    def action_back(self) -> None:
        self.pane_layout.close_filter()

    def action_filter(self) -> None:
        self.pane_layout.open_filter()

    def action_copy_link(self) -> None:
        """y: the Airflow UI address of the DAG or run under the cursor."""
        client = self.watcher.client
        if client is None:
            return
        if self.pane_layout.active == "inbox":
            key = self.inbox_table.cursor_key
            target = self._targets.get(key or "")
            request = self._requests.get(key or "")
            if request is not None:
                dag_id, run_id, task_id, map_index = request.key
                url = ui_url(client.root_url, client.version.major, dag_id, run_id, task_id,
                             map_index)
            elif target is not None:
                url = ui_url(client.root_url, client.version.major, target[0], target[1])
            else:
                return
        else:
            cursor = self.dag_table.cursor_key
            if cursor is None:
                return
            url = ui_url(client.root_url, client.version.major, cursor)
        copy_link(self, url)

    def action_watch(self) -> None:
        """a: alert me when the DAG's next run ends (DAGs), or when the run ends (inbox)."""
        if self.pane_layout.active == "dags":
            key = self.dag_table.cursor_key
            watch = Watch("dag", key) if key else None
        else:
            target = self._targets.get(self.inbox_table.cursor_key or "")
            watch = Watch("run", target[0], target[1]) if target else None
        run = self.watcher.run(watch.dag_id, watch.run_id) if watch and watch.run_id else None
        over = run.state if run is not None and not run_is_active(run.state) else None
        toggle_watch(self, self.alerts, watch, over)

    def show_marks(self) -> None:
        dags, runs, _ = self.alerts.marks()
        self.dag_table.set_marks(dags)
        self.inbox_table.set_marks({f"{kind} {d} {r}" for d, r in runs
                                    for kind in ("failed", "active")})
        self.update_status()

    def action_import_errors(self) -> None:
        from astro_tui.tui.screens.import_errors import ImportErrorsScreen  # (when first asked)

        self.app.push_screen(ImportErrorsScreen(self.health, self.health_read_at,
                                                self.import_errors, self.dags, self.warnings))

    @on(Pane.Filtered)
    def _filtered(self) -> None:
        self._retitle()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: the drill-down on the row's DAG (and run, and first failed task)."""
        key = event.row_key.value
        if key is None:
            return
        if self.fleet_view is not None and event.data_table is self.fleet_view.table:
            self.run_worker(self.app.switch_to(key), group="switch")  # type: ignore[attr-defined]
        elif event.data_table is self.inbox_table and key in self._others:
            name, dag_id, run_id, task = self._others[key]
            # that deployment's drill-down on the run (its screens, its Watcher)
            self.run_worker(self.app.switch_to(  # type: ignore[attr-defined]
                name, then=lambda: self._drill(dag_id, run_id, task)), group="switch")
        elif event.data_table is self.inbox_table and key in self._requests:
            self._answer(self._requests[key])
        elif event.data_table is self.inbox_table and key in self._targets:
            self._drill(*self._targets[key])
        elif event.data_table is self.dag_table:
            self._drill(key, None, None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.dag_table:
            key = self.dag_table.cursor_key
            cut = key is not None and self.dag_table.is_cut(key, "dag_id")
            self.panes["dags"].set_context(key if cut and key else "", self.panes["dags"].count)

    # -- events from the Watcher ---------------------------------------------------------------

    @on(WatchConnected)
    @on(WatchFailed)
    def _status_changed(self) -> None:
        self.update_status()
        if self.fleet_view is not None:
            self.fleet_view.repaint(self.inbox, self.health)

    @on(DagsUpdated)
    def _dags_updated(self, message: DagsUpdated) -> None:
        event = message.event
        self.panes["dags"].set_class(event.cached_at is not None, "stale")  # (the saved list)
        self.dags, self.latest = dict(event.dags), dict(event.latest)
        self.recent = {k: list(v) for k, v in event.recent.items()}
        self.dag_table.sync(self._dag_rows.rows(self.dags, self.latest, self.ctx.now(),
                                                self.ctx.tz, self.recent, event.unknown))
        self._retitle()
        self.show_marks()

    @on(HealthUpdated)
    def _health_updated(self, message: HealthUpdated) -> None:
        self.health = message.event.health
        self.health_read_at = message.event.read_at
        self._repaint_health()

    @on(ImportErrorsUpdated)
    def _import_errors_updated(self, message: ImportErrorsUpdated) -> None:
        self.import_errors = list(message.event.errors)
        self.warnings = list(message.event.warnings)
        self._repaint_health()

    @on(InboxUpdated)
    def _inbox_updated(self, message: InboxUpdated) -> None:
        self.inbox = message.event.inbox
        self._repaint_inbox()
        self.show_marks()  # (not on every tick: the marks change with the rows, not the time)

    @on(MemberEvent)
    def _member_event(self, message: MemberEvent) -> None:
        """Another deployment's health, inbox or trouble: its strip row, its inbox rows."""
        assert self.fleet_view is not None
        if self.fleet_view.got(message.name, message.event) == "inbox":
            self._repaint_inbox()
        self.fleet_view.repaint(self.inbox, self.health)

    def _repaint_inbox(self) -> None:
        inbox, fleet = self.inbox, self.fleet_view
        now, tz = self.ctx.now(), self.ctx.tz
        if fleet is not None:  # every deployment's rows, with a deployment column
            rows, self._others = fleet.inbox_rows(inbox, now, tz)
            fleet.repaint(inbox, self.health)
        elif inbox is None:
            return
        else:
            rows = inbox_rows(inbox, now, tz)
        self._targets = {}
        for failed in inbox.failed if inbox is not None else ():
            run, ti = failed.run, failed.first_failed
            self._targets[f"failed {run.dag_id} {run.run_id}"] = (
                run.dag_id, run.run_id, ti_label(ti) if ti is not None else None)
        for run in inbox.active if inbox is not None else ():
            self._targets[f"active {run.dag_id} {run.run_id}"] = (run.dag_id, run.run_id, None)
        self._requests = {awaiting_key(h): h for h in inbox.awaiting} if inbox else {}
        self.inbox_table.sync(rows)
        self._retitle()

    def _answer(self, request: HitlDetail) -> None:
        """Enter on a request waiting for a person: answer it in a modal."""

        def done(answered: bool | None) -> None:
            if answered:
                self.notify(escape_markup(f"answered: {request.subject or request.key[2]}",
                                          max_len=120, newline=" "), timeout=4)
                self.watcher.refresh("inbox")

        from astro_tui.tui.screens.hitl import HitlScreen  # (when first asked)

        self.app.push_screen(HitlScreen(self.watcher.client, request, self.ctx.read_only), done)

    def _repaint_health(self) -> None:
        self.health_strip.show(self.health, self.import_errors, self.health_read_at,
                               self.warnings)

    def _retitle(self) -> None:
        dags = self.panes["dags"]
        shown, total = self.dag_table.row_count, self.dag_table.total_rows
        dags.set_context(dags.context, f"{shown}/{total}" if shown != total else str(total))
        inboxes = [self.inbox] if self.inbox is not None else []
        if self.fleet_view is not None:
            inboxes += self.fleet_view.inboxes.values()
        if inboxes:
            hours = round(self.watcher.settings.inbox_window_seconds / 3600)
            awaiting = sum(i.awaiting_total for i in inboxes)
            waiting = f" · {awaiting} awaiting input" if awaiting else ""
            self.panes["inbox"].set_context(
                f"{sum(i.failed_total for i in inboxes)} failed in {hours} h{waiting} · "
                f"{sum(i.active_total for i in inboxes)} running or queued")

    def _tick(self) -> None:
        """Once a second: heartbeat ages and running durations move on; the status line."""
        self._repaint_health()
        fleet = self.fleet_view
        if (self.inbox is not None and self.inbox.active) or (
                fleet is not None and any(i.active for i in fleet.inboxes.values())):
            self._repaint_inbox()
        elif fleet is not None and fleet.troubled():
            fleet.repaint(self.inbox, self.health)  # (the age of a failing one's data)
        self.update_status()

    def update_status(self) -> None:
        self.status.show(status_text(self.ctx, self.watcher, "dags", len(self.alerts.watches)))
