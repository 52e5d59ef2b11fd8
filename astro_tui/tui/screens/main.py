"""The main screen: DAGs → runs → task instances → log, each pane kept live by the Watcher.

It composes the panes, moves the focus, and maps the Watcher's events (typed messages) onto the
widgets. What is selected and its subscriptions live in tui/selection.py, the status line in
tui/status.py, the write actions in tui/writes.py.
"""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input

from astro_tui.airflow.logs import ui_url
from astro_tui.tui.actions import bindings
from astro_tui.tui.context import UiContext
from astro_tui.tui.links import copy_link
from astro_tui.tui.messages import (
    DagsUpdated,
    RunsUpdated,
    TasksUpdated,
    WatchConnected,
    WatchFailed,
    poster,
)
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
from astro_tui.watch.events import DagList, DagsChanged, RunsOf
from astro_tui.watch.watcher import Watcher

PANES = ("dags", "runs", "tasks", "log")
#: the Watcher's poll whose trouble makes a pane stale
STALE_PANE = {"dags": "dags", "changes": "dags", "runs": "runs", "tasks": "tasks"}


class MainScreen(Screen[Any]):
    BINDINGS = bindings("main")
    COMMANDS = {ActionCommands}

    def __init__(self, watcher: Watcher, ctx: UiContext) -> None:
        super().__init__()
        self.watcher = watcher
        self.ctx = ctx
        self.selection = Selection(watcher, poster(self))
        self.writes = WriteActions(self, watcher, ctx, self.show_run)
        self._dag_rows = DagRows()
        self.active = "dags"
        self.compact = False
        self.suspended = False
        self.zoomed = False  # Z: the focused pane alone, as on a small terminal
        self._pending_dags: DagsChanged | None = None

    # -- what is shown (the palette) ----------------------------------------------------------

    def dag_names(self) -> dict[str, str]:
        return {d.dag_id: d.display_name for d in self.selection.dags.values()}

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.dag_table = KeyedTable(DAG_COLUMNS, fit=True, id="dag-table")
        self.run_table = KeyedTable(RUN_COLUMNS, id="run-table")
        self.task_table = KeyedTable(TASK_COLUMNS, fit=True, id="task-table")
        self.log_view = LogView(self.watcher, tz=self.ctx.tz, id="log-view")
        self.panes = {
            "dags": Pane("DAGs", self.dag_table, id="dags"),
            "runs": Pane("Runs", self.run_table, id="runs"),
            "tasks": Pane("Tasks", self.task_table, id="tasks"),
            "log": Pane("Log", self.log_view, id="log"),
        }
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
        self._apply_layout(self.size.width, self.size.height)
        self.set_interval(1.0, self.update_status, name="status")
        self.update_status()

    def on_unmount(self) -> None:
        self._unlisten()
        self._dags_sub.close()
        self.selection.dag(None)
        self.log_view.show(None)

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        self.compact = self.zoomed or width < 100 or height < 28
        self.set_class(self.compact, "compact")
        self._mark_active()
        self._show_containers()
        self._sync_visibility()

    def _mark_active(self) -> None:
        for name, pane in self.panes.items():
            pane.set_class(name == self.active, "active")

    def _show_containers(self) -> None:
        active, compact = self.active, self.compact
        self.query_one("#top").display = not compact or active != "log"
        self.query_one("#right").display = not compact or active in ("runs", "tasks")

    def _visible(self, pane: str) -> bool:
        return not self.suspended and (not self.compact or pane == self.active)

    def set_covered(self, covered: bool) -> None:
        """The overview is on top (True): nothing here polls meanwhile. (A modal over this
        screen leaves the panes in sight: they go on polling.)"""
        self.suspended = covered
        self._sync_visibility()
        if not covered:
            pending, self._pending_dags = self._pending_dags, None
            if pending is not None:
                self._show_dags(pending)
            self.update_status()

    def _sync_visibility(self) -> None:
        """Hidden panes do not poll."""
        self.selection.show(self._visible("runs"), self._visible("tasks"))
        self.log_view.set_visible(self._visible("log"))

    def activate(self, pane: str) -> None:
        self.active = pane
        self._mark_active()
        self._show_containers()
        self._sync_visibility()
        self.panes[pane].body.focus()
        self.update_status()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        for name, pane in self.panes.items():
            if event.widget in (pane.body, pane.filter_input) and name != self.active:
                self.active = name
                self._mark_active()
                self._sync_visibility()
                self.update_status()

    # -- keys ----------------------------------------------------------------------------------

    def action_next_pane(self) -> None:
        self.activate(PANES[(PANES.index(self.active) + 1) % len(PANES)])

    def action_prev_pane(self) -> None:
        self.activate(PANES[(PANES.index(self.active) - 1) % len(PANES)])

    def action_back(self) -> None:
        pane = self.panes[self.active]
        if pane.filtering:
            pane.close_filter(clear=True)
            self._apply_filter(self.active, "")
            return
        if self.active != "dags":
            self.activate(PANES[PANES.index(self.active) - 1])
        else:
            self.app.call_later(self.action_overview)

    async def action_overview(self) -> None:
        """The overview (when the app has one)."""
        await self.app.run_action("overview")

    def action_filter(self) -> None:
        if self.active != "log":
            self.panes[self.active].open_filter()

    def action_zoom(self) -> None:
        self.zoomed = not self.zoomed
        self._apply_layout(self.size.width, self.size.height)
        self.panes[self.active].body.focus()

    def action_copy_link(self) -> None:
        """y: the Airflow UI address of what the focused pane selects, to the clipboard."""
        s, client = self.selection, self.watcher.client
        if client is None or s.dag_id is None:
            return
        if self.active == "log":
            self.log_view.action_copy_url()
            return
        run = s.run_id if self.active in ("runs", "tasks") else None
        ti = s.selected_ti() if self.active == "tasks" else None
        url = ui_url(client.root_url, client.version.major, s.dag_id, run,
                     ti.task_id if ti else None, ti.map_index if ti else -1)
        copy_link(self, url)

    def action_refresh(self) -> None:
        self.watcher.refresh()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.writes.check(action)

    def _target(self) -> Target:
        s = self.selection
        return Target(self.active, s.dag_id, s.dags.get(s.dag_id) if s.dag_id else None,
                      s.selected_run(), s.selected_ti())

    def run_write(self, action: str) -> None:
        """A write action on the selection (keys t, p, c, m and the palette)."""
        self.writes.run(action, self._target())

    def action_trigger(self) -> None:
        self.run_write("trigger")

    def action_pause(self) -> None:
        self.run_write("pause")

    def action_clear(self) -> None:
        self.run_write("clear")

    def action_mark(self) -> None:
        self.run_write("mark")

    def on_input_changed(self, event: Input.Changed) -> None:
        for name, pane in self.panes.items():
            if event.input is pane.filter_input:
                self._apply_filter(name, event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        for pane in self.panes.values():
            if event.input is pane.filter_input:
                pane.close_filter(clear=False)

    def _apply_filter(self, pane: str, text: str) -> None:
        body = self.panes[pane].body
        if isinstance(body, KeyedTable):
            body.set_filter(text)
            self._refresh_counts()
            if body is self.dag_table and self.dag_table.cursor_key is not None:
                # the runs pane shows the DAG under the cursor, not one the filter hid
                self.select_dag(self.dag_table.cursor_key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter drills down: DAG → runs → tasks → log."""
        order = {"dag-table": "runs", "run-table": "tasks", "task-table": "log"}
        target = order.get(event.data_table.id or "")
        if target:
            self._follow_cursor(event.data_table)
            self.activate(target)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._follow_cursor(event.data_table)

    # -- selection -----------------------------------------------------------------------------

    def show_run(self, dag_id: str, run_id: str) -> None:
        """Select `run_id` of `dag_id` as soon as the runs poll sees it (after a trigger)."""
        self.selection.want_run = run_id
        self.goto_dag(dag_id)
        self.select_dag(dag_id)
        if self.compact:
            self.activate("runs")  # one pane at a time: a hidden runs pane would not poll
        self.selection.refresh_runs()
        self._pick_wanted_run()

    def show_task(self, dag_id: str, run_id: str, task_key: str | None) -> None:
        """Open `run_id` of `dag_id` on its task `task_key`'s log (the overview's inbox)."""
        self.selection.want_task = task_key
        self.show_run(dag_id, run_id)

    def _pick_wanted_task(self) -> None:
        want = self.selection.want_task
        if want and want in self.selection.tis:
            self.selection.want_task = None
            self.task_table.select_key(want)
            self.select_task(want)
            self.activate("log")

    def _pick_wanted_run(self) -> None:
        want = self.selection.want_run
        if want and want in self.selection.runs:
            self.run_table.select_key(want)
            self.select_run(want)
            if self.active in ("dags", "runs"):  # never pull focus back from where the user went
                self.activate("runs")

    def goto_dag(self, dag_id: str) -> None:
        """From the command palette: select a DAG (clearing a filter that hides it)."""
        if not self.dag_table.select_key(dag_id):
            self.panes["dags"].close_filter(clear=True)
            self.dag_table.set_filter("")
            self.dag_table.select_key(dag_id)
        self.activate("dags")

    def _follow_cursor(self, table: DataTable[Any]) -> None:
        if table is self.dag_table:
            self.select_dag(self.dag_table.cursor_key)
        elif table is self.run_table:
            self.select_run(self.run_table.cursor_key)
        elif table is self.task_table:
            self.select_task(self.task_table.cursor_key)

    def select_dag(self, dag_id: str | None) -> None:
        dags = self.panes["dags"]
        # the row under the cursor, in full when its cell is cut
        cut = dag_id is not None and self.dag_table.is_cut(dag_id, "dag_id")
        dags.set_context(dag_id if cut and dag_id else "", dags.count)
        if not self.selection.dag(dag_id):
            return
        self.run_table.sync([])
        self._run_selected()
        self.panes["runs"].set_context(dag_id or "")
        self.panes["runs"].remove_class("stale")
        self._sync_visibility()

    def select_run(self, run_id: str | None) -> None:
        wanted = run_id is not None and run_id == self.selection.want_run
        if wanted and self.active == "dags":
            self.activate("runs")
        if self.selection.run(run_id):
            self._run_selected()
            self._sync_visibility()

    def _run_selected(self) -> None:
        run_id = self.selection.run_id
        self.task_table.sync([])
        self.log_view.show(None)
        self.panes["tasks"].set_context(f"{self.selection.dag_id} › {run_id}" if run_id else "")
        self.panes["tasks"].remove_class("stale")

    def select_task(self, key: str | None) -> None:
        if self.selection.task(key):
            self.log_view.show(self.selection.selected_ti())

    # -- events from the Watcher ---------------------------------------------------------------

    @on(WatchConnected)
    def _connected(self) -> None:
        self.log_view.refresh()  # "select a task to see its log"
        self.update_status()

    @on(WatchFailed)
    def _failed(self, message: WatchFailed) -> None:
        event = message.event
        pane = STALE_PANE.get(event.kind)
        if pane is not None and (event.kind != "runs" or event.topic == RunsOf(self.selection.dag_id or "")):
            self.panes[pane].add_class("stale")
        if event.kind == "changes" and self.selection.dag_id is not None and \
                not self.selection.runs_failing:
            self.panes["runs"].add_class("stale")  # the changes poll keeps the runs fresh
        self.update_status()

    @on(DagsUpdated)
    def _dags_updated(self, message: DagsUpdated) -> None:
        if self.suspended:
            # Covered by the overview: kept for later. (Textual paints a covered screen's
            # layout changes over the screen on top: a full repaint on every DAG list read.)
            self._pending_dags = message.event
            return
        self._show_dags(message.event)

    def _show_dags(self, event: DagsChanged) -> None:
        self.panes["dags"].remove_class("stale")
        self.selection.dags = dict(event.dags)
        self.selection.latest = dict(event.latest)
        self.dag_table.sync(self._dag_rows.rows(self.selection.dags, self.selection.latest,
                                                self.ctx.now(), self.ctx.tz))
        if self.selection.dag_id is None:
            self.select_dag(self.dag_table.cursor_key)
        self._refresh_counts()  # after the selection reset the tasks pane's title
        self.update_status()

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
        self._pick_wanted_run()
        if self.selection.run_id is None or self.selection.run_id not in self.selection.runs:
            self.select_run(self.run_table.cursor_key)
        self.update_status()

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
        self._pick_wanted_task()
        key = self.selection.task_key
        if key is None or key not in self.selection.tis:
            self.select_task(self.task_table.cursor_key)
        elif not self.log_view.following(self.selection.tis[key]):
            self.log_view.show(self.selection.tis[key])  # a retry started: follow the new try
        self.update_status()

    def _refresh_counts(self) -> None:
        for name, table in (("dags", self.dag_table), ("tasks", self.task_table)):
            shown, total = table.row_count, table.total_rows
            count = f"{shown}/{total}" if shown != total else str(total)
            self.panes[name].set_context(self.panes[name].context, count)

    def update_status(self) -> None:
        if not self.suspended:  # (covered: see _dags_updated)
            self.status.show(status_text(self.ctx, self.watcher, self.active))
