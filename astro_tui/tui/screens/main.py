"""The main screen: DAGs → runs → task instances → log, each pane kept live by the Watcher.

It composes the panes and maps keys and the Watcher's events (typed messages) onto them. Which
pane is active and shown lives in tui/layout.py; what is selected and its subscriptions in
tui/selection.py, and moving it together with the widgets in tui/navigator.py; the status line
in tui/status.py; the write actions in tui/writes.py.
"""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable

from astro_tui.airflow.logs import ui_url
from astro_tui.state import SessionState
from astro_tui.tui.actions import bindings
from astro_tui.tui.alerting import toggle_watch
from astro_tui.tui.context import UiContext
from astro_tui.tui.layout import COMPACT_BELOW, PaneLayout
from astro_tui.tui.links import copy_link
from astro_tui.tui.messages import (
    DagsUpdated,
    RunsUpdated,
    TasksUpdated,
    WatchConnected,
    WatchFailed,
    poster,
)
from astro_tui.tui.navigator import Navigator
from astro_tui.tui.selection import Selection
from astro_tui.tui.status import status_text
from astro_tui.tui.widgets.footer import Footer
from astro_tui.tui.widgets.keyed_table import KeyedTable
from astro_tui.tui.widgets.log import LogView
from astro_tui.tui.widgets.pane import Pane
from astro_tui.tui.widgets.rows import (
    DAG_COLUMNS,
    RUN_COLUMNS,
    TASK_COLUMNS,
    DagRows,
    run_row,
    sort_tis,
    ti_key,
    ti_row,
)
from astro_tui.tui.widgets.status_bar import StatusBar
from astro_tui.tui.writes import ActionCommands, Target, WriteActions
from astro_tui.watch.alerts import Alerts
from astro_tui.watch.events import DagList, DagsChanged, RunsOf
from astro_tui.watch.watcher import Watcher

#: the Watcher's poll whose trouble makes a pane stale
STALE_PANE = {"dags": "dags", "changes": "dags", "runs": "runs", "tasks": "tasks"}


class MainScreen(Screen[Any]):
    BINDINGS = bindings("main")
    COMMANDS = {ActionCommands}

    def __init__(self, watcher: Watcher, ctx: UiContext, alerts: Alerts) -> None:
        super().__init__()
        self.watcher = watcher
        self.ctx = ctx
        self.alerts = alerts
        self.dag_table = KeyedTable(DAG_COLUMNS, fit=True, id="dag-table")
        self.dag_table.on_view = watcher.want_latest  # (last runs not known yet are read)
        self.run_table = KeyedTable(RUN_COLUMNS, fit=True, id="run-table")
        self.task_table = KeyedTable(TASK_COLUMNS, fit=True, id="task-table")
        self.log_view = LogView(watcher, tz=ctx.tz, id="log-view")
        self.panes = {
            "dags": Pane("DAGs", self.dag_table, id="dags"),
            "runs": Pane("Runs", self.run_table, id="runs"),
            "tasks": Pane("Tasks", self.task_table, id="tasks"),
            "log": Pane("Log", self.log_view, id="log"),
        }
        self.pane_layout = PaneLayout(self, self.panes, active="dags", changed=self._layout_changed,
                                 groups={"#top": ("dags", "runs", "tasks"),
                                         "#right": ("runs", "tasks")},
                                 compact_below=COMPACT_BELOW)
        self.selection = Selection(watcher, poster(self))
        self.nav = Navigator(self.selection, self.pane_layout, {"dags": self.dag_table,
                             "runs": self.run_table, "tasks": self.task_table}, self.log_view)
        self.writes = WriteActions(self, watcher, ctx, self.nav.show_run)
        self._dag_rows = DagRows()
        self._pending_dags: DagsChanged | None = None
        #: a saved session to reopen once the DAG list is shown
        self.restore_to: SessionState | None = None

    # -- the palette (DagBrowser) ------------------------------------------------------------

    def dag_names(self) -> dict[str, str]:
        return {d.dag_id: d.display_name for d in self.selection.dags.values()}

    def goto_dag(self, dag_id: str) -> None:
        self.nav.goto_dag(dag_id)

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="panes"):
            with Horizontal(id="top"):
                yield self.panes["dags"]
                with Vertical(id="right"):
                    yield self.panes["runs"]
                    yield self.panes["tasks"]
            yield self.panes["log"]
        self.status = StatusBar(id="status")
        yield self.status
        yield Footer()

    def on_mount(self) -> None:
        post = poster(self)
        self._unlisten = self.watcher.listen(post)
        self._dags_sub = self.watcher.subscribe(DagList(), post)
        self.dag_table.focus()
        self.pane_layout.fit(self.size.width, self.size.height)
        self.set_interval(1.0, self.update_status, name="status")
        self.update_status()

    def on_unmount(self) -> None:
        self._unlisten()
        self._dags_sub.close()
        self.selection.dag(None)
        self.log_view.show(None)

    def on_resize(self, event: events.Resize) -> None:
        self.pane_layout.fit(event.size.width, event.size.height)

    def set_covered(self, covered: bool) -> None:
        """The overview is on top (True): nothing here polls meanwhile. (A modal over this
        screen leaves the panes in sight: they go on polling.)"""
        self.pane_layout.cover(covered)
        if not covered:
            pending, self._pending_dags = self._pending_dags, None
            if pending is not None:
                self._show_dags(pending)
            self.update_status()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.pane_layout.focused(event.widget)

    def _layout_changed(self) -> None:
        self.nav.sync_visibility()
        self.update_status()

    # -- keys ----------------------------------------------------------------------------------

    def action_pane(self, delta: int) -> None:
        self.pane_layout.step(delta)

    def action_back(self) -> None:
        if self.pane_layout.close_filter():
            return
        active = self.pane_layout.active
        if active != "dags":
            self.pane_layout.step(-1)
        else:
            self.app.call_later(self.app.run_action, "overview")

    def action_filter(self) -> None:
        self.pane_layout.open_filter()

    def action_zoom(self) -> None:
        self.pane_layout.zoom()

    def action_copy_link(self) -> None:
        """y: the Airflow UI address of what the focused pane selects, to the clipboard."""
        s, client, active = self.selection, self.watcher.client, self.pane_layout.active
        if client is None or s.dag_id is None:
            return
        if active == "log":
            self.log_view.action_copy_url()
            return
        run = s.run_id if active in ("runs", "tasks") else None
        ti = s.selected_ti() if active == "tasks" else None
        url = ui_url(client.root_url, client.version.major, s.dag_id, run,
                     ti.task_id if ti else None, ti.map_index if ti else -1)
        copy_link(self, url)

    def action_watch(self) -> None:
        """a: alert me when the selected task or run ends, or the DAG's next run (or stop)."""
        toggle_watch(self, self.alerts, *self.nav.watch_target())

    def show_marks(self) -> None:
        self.nav.show_marks(self.alerts.marks())
        self.update_status()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.writes.check(str(parameters[0]) if action == "write" else action)

    def action_write(self, action: str) -> None:
        """A write action on the selection (keys t, p, c, m and the palette)."""
        s = self.selection
        self.writes.run(action, Target(self.pane_layout.active, s.dag_id,
                                       s.dags.get(s.dag_id) if s.dag_id else None,
                                       s.selected_run(), s.selected_ti()))

    @on(Pane.Filtered)
    def _filtered(self, message: Pane.Filtered) -> None:
        self._refresh_counts()
        if message.pane is self.panes["dags"] and self.dag_table.cursor_key is not None:
            # the runs pane shows the DAG under the cursor, not one the filter hid
            self.nav.select_dag(self.dag_table.cursor_key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter drills down: DAG → runs → tasks → log."""
        order = {"dag-table": "runs", "run-table": "tasks", "task-table": "log"}
        target = order.get(event.data_table.id or "")
        if target:
            self.nav.follow_cursor(event.data_table)
            self.pane_layout.activate(target)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.nav.follow_cursor(event.data_table)
        table = event.data_table
        if table is self.run_table and table.row_count and \
                event.cursor_row == table.row_count - 1 and self.selection.more_runs():
            self.panes["runs"].set_context(self.panes["runs"].context, "loading older runs…")

    # -- events from the Watcher ---------------------------------------------------------------

    @on(WatchConnected)
    def _connected(self) -> None:
        self.log_view.refresh()  # "select a task to see its log"
        self.update_status()

    @on(WatchFailed)
    def _failed(self, message: WatchFailed) -> None:
        event, s = message.event, self.selection
        pane = STALE_PANE.get(event.kind)
        if pane is not None and (event.kind != "runs" or event.topic == RunsOf(s.dag_id or "")):
            self.panes[pane].add_class("stale")
        if event.kind == "changes" and s.dag_id is not None and not s.runs_failing:
            self.panes["runs"].add_class("stale")  # the changes poll keeps the runs fresh
        self.update_status()

    @on(DagsUpdated)
    def _dags_updated(self, message: DagsUpdated) -> None:
        if self.pane_layout.covered:
            # Covered by the overview: kept for later. (Textual paints a covered screen's
            # layout changes over the screen on top: a full repaint on every DAG list read.)
            self._pending_dags = message.event
            return
        self._show_dags(message.event)

    def _show_dags(self, event: DagsChanged) -> None:
        s = self.selection
        self.panes["dags"].set_class(event.cached_at is not None, "stale")  # (the saved list)
        s.dags, s.latest = dict(event.dags), dict(event.latest)
        self.dag_table.sync(self._dag_rows.rows(s.dags, s.latest, self.ctx.now(), self.ctx.tz,
                                                unknown=event.unknown))
        restore = self.restore_to
        if restore is not None and event.partial and restore.dag_id not in s.dags:
            pass  # (its page may come next)
        else:
            self.restore_to = None
            if restore is not None and restore.dag_id in s.dags:
                self.nav.restore(restore.dag_id, restore.run_id, restore.task,
                                 restore.try_number, restore.pane)
            elif s.dag_id is None:
                self.nav.select_dag(self.dag_table.cursor_key)
        self._refresh_counts()  # after the selection reset the tasks pane's title
        self.show_marks()

    @on(RunsUpdated)
    def _runs_updated(self, message: RunsUpdated) -> None:
        dag_id, runs, total = message.event.dag_id, message.event.runs, message.event.total
        if dag_id != self.selection.dag_id:
            return
        self.panes["runs"].remove_class("stale")
        now = self.ctx.now()
        self.selection.runs = {r.run_id: r for r in runs}
        self.run_table.sync([(r.run_id, run_row(r, now, self.ctx.tz)) for r in runs])
        self.panes["runs"].set_context(dag_id, f"{len(runs)}/{total}" if total > len(runs)
                                       else str(len(runs)))
        self.nav.runs_listed()
        self.show_marks()

    @on(TasksUpdated)
    def _tasks_updated(self, message: TasksUpdated) -> None:
        event = message.event
        if (event.dag_id, event.run_id) != (self.selection.dag_id, self.selection.run_id):
            return
        self.panes["tasks"].remove_class("stale")
        now = self.ctx.now()
        tis = sort_tis(event.tis, now)
        self.selection.tis = {ti_key(t): t for t in tis}
        self.task_table.sync([(ti_key(t), ti_row(t, now)) for t in tis])
        self._refresh_counts()
        self.nav.tasks_listed()
        self.show_marks()

    def _refresh_counts(self) -> None:
        for name, table in (("dags", self.dag_table), ("tasks", self.task_table)):
            shown, total = table.row_count, table.total_rows
            count = f"{shown}/{total}" if shown != total else str(total)
            self.panes[name].set_context(self.panes[name].context, count)

    def update_status(self) -> None:
        # (covered: see _dags_updated; not composed yet: a fleet's deployment just switched to)
        if not self.pane_layout.covered and self.is_mounted:
            self.status.show(status_text(self.ctx, self.watcher, self.pane_layout.active,
                                         len(self.alerts.watches)))
