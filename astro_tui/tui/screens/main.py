"""The main screen: DAGs → runs → task instances → log, each pane kept live by the Watcher.

Data flows one way: the Watcher polls what the screen subscribed to and its events arrive as
typed messages, which are diffed into the panes. Selection flows down: moving the cursor in one
pane subscribes the next pane to what is selected (debounced), so only what is on screen is
polled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input

from astro_tui.airflow.models import Dag, DagRun, TaskInstance
from astro_tui.present.errors import error_line
from astro_tui.present.times import duration as fmt_duration
from astro_tui.text import clean
from astro_tui.tui.actions import bindings
from astro_tui.tui.messages import (
    DagsUpdated,
    RunsUpdated,
    TasksUpdated,
    WatchConnected,
    WatchFailed,
    poster,
)
from astro_tui.tui.screens.actions import ActionsScreen
from astro_tui.tui.widgets.footer import Footer
from astro_tui.tui.widgets.keyed_table import KeyedTable
from astro_tui.tui.widgets.log_view import LogView
from astro_tui.tui.widgets.pane import Pane
from astro_tui.tui.widgets.rows import (
    DAG_COLUMNS,
    RUN_COLUMNS,
    TASK_COLUMNS,
    dag_row,
    run_row,
    ti_key,
    ti_row,
)
from astro_tui.tui.widgets.status_bar import StatusBar
from astro_tui.watch.events import DagList, RunsOf, TasksOf
from astro_tui.watch.watcher import Subscription, Watcher

if TYPE_CHECKING:
    from astro_tui.airflow.client import AirflowClient
    from astro_tui.tui.app import AstroTuiApp

PANES = ("dags", "runs", "tasks", "log")
DEBOUNCE = 0.25

class MainScreen(ActionsScreen):
    BINDINGS = bindings("main")

    app: AstroTuiApp

    def __init__(self, watcher: Watcher) -> None:
        super().__init__()
        self.watcher = watcher
        self._runs_sub: Subscription | None = None
        self._tasks_sub: Subscription | None = None
        self.dags: dict[str, Dag] = {}
        self.latest: dict[str, DagRun] = {}
        self._dag_rows: dict[str, tuple] = {}  # dag_id -> (dag, latest run, day, row cells)
        self.runs: dict[str, DagRun] = {}
        self.tis: dict[str, TaskInstance] = {}
        self.dag_id: str | None = None
        self.run_id: str | None = None
        self.task_key: str | None = None
        self.active = "dags"
        self.compact = False
        self._want_run: str | None = None

    @property
    def client(self) -> AirflowClient | None:
        return self.watcher.client

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.dag_table = KeyedTable(DAG_COLUMNS, id="dag-table")
        self.run_table = KeyedTable(RUN_COLUMNS, id="run-table")
        self.task_table = KeyedTable(TASK_COLUMNS, id="task-table")
        self.log_view = LogView(self.watcher, id="log-view")
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

    def on_resize(self, event) -> None:
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        compact = width < 100 or height < 28
        self.compact = compact
        self.set_class(compact, "compact")
        for name, pane in self.panes.items():
            pane.set_class(name == self.active, "active")
        self._show_containers()
        self._sync_visibility()

    def _show_containers(self) -> None:
        active, compact = self.active, self.compact
        self.query_one("#top").display = not compact or active != "log"
        self.query_one("#right").display = not compact or active in ("runs", "tasks")

    def _visible(self, pane: str) -> bool:
        return not self.compact or pane == self.active

    def _sync_visibility(self) -> None:
        """Hidden panes do not poll."""
        for pane, sub in (("runs", self._runs_sub), ("tasks", self._tasks_sub)):
            if sub is not None:
                if self._visible(pane):
                    sub.resume()
                else:
                    sub.pause()
        self.log_view.set_visible(self._visible("log"))

    def activate(self, pane: str) -> None:
        self.active = pane
        for name, p in self.panes.items():
            p.set_class(name == pane, "active")
        self._show_containers()
        self._sync_visibility()
        self.panes[pane].body.focus()
        self.update_status()

    def on_descendant_focus(self, event) -> None:
        for name, pane in self.panes.items():
            if event.widget in (pane.body, pane.filter_input) and name != self.active:
                self.active = name
                for n, p in self.panes.items():
                    p.set_class(n == name, "active")
                self._sync_visibility()
                self.update_status()

    # -- actions -------------------------------------------------------------------------------

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

    def action_filter(self) -> None:
        if self.active != "log":
            self.panes[self.active].open_filter()

    def action_refresh(self) -> None:
        self.watcher.refresh()

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

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter drills down: DAG → runs → tasks → log."""
        order = {"dag-table": "runs", "run-table": "tasks", "task-table": "log"}
        target = order.get(event.data_table.id or "")
        if target:
            self._follow_cursor(event.data_table)
            self.activate(target)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._follow_cursor(event.data_table)

    def show_run(self, dag_id: str, run_id: str) -> None:
        """Select `run_id` of `dag_id` as soon as the runs poll sees it (after a trigger)."""
        self._want_run = run_id
        self.goto_dag(dag_id)
        self.select_dag(dag_id)
        if self._runs_sub is not None:
            self._runs_sub.refresh()
        self._pick_wanted_run()

    def _pick_wanted_run(self) -> None:
        if self._want_run and self._want_run in self.runs:
            run_id, self._want_run = self._want_run, None
            self.run_table.select_key(run_id)
            self.select_run(run_id)
            if self.active in ("dags", "runs"):  # never pull focus back from where the user went
                self.activate("runs")

    def goto_dag(self, dag_id: str) -> None:
        """From the command palette: select a DAG (clearing a filter that hides it)."""
        if not self.dag_table.select_key(dag_id):
            self.panes["dags"].close_filter(clear=True)
            self.dag_table.set_filter("")
            self.dag_table.select_key(dag_id)
        self.activate("dags")

    # -- selection -----------------------------------------------------------------------------

    def _follow_cursor(self, table: DataTable) -> None:
        if table is self.dag_table:
            self.select_dag(self.dag_table.cursor_key)
        elif table is self.run_table:
            self.select_run(self.run_table.cursor_key)
        elif table is self.task_table:
            self.select_task(self.task_table.cursor_key)

    def select_dag(self, dag_id: str | None) -> None:
        if dag_id == self.dag_id:
            return
        self.dag_id = dag_id
        self.runs = {}
        self.run_table.sync([])
        self.select_run(None)
        self.panes["runs"].set_context(dag_id or "")
        self.panes["runs"].remove_class("stale")
        if self._runs_sub is not None:
            self._runs_sub.close()
            self._runs_sub = None
        if dag_id is not None:
            self._runs_sub = self.watcher.subscribe(RunsOf(dag_id), poster(self), delay=DEBOUNCE)
            self._sync_visibility()

    def select_run(self, run_id: str | None) -> None:
        if run_id is not None and run_id == self._want_run:
            self._want_run = None  # reached (by the cursor): a later poll must not re-select it
            if self.active == "dags":
                self.activate("runs")
        if run_id == self.run_id:
            return
        self.run_id = run_id
        self.tis = {}
        self.task_table.sync([])
        self.select_task(None)
        self.panes["tasks"].set_context(f"{self.dag_id} › {run_id}" if run_id else "")
        self.panes["tasks"].remove_class("stale")
        if self._tasks_sub is not None:
            self._tasks_sub.close()
            self._tasks_sub = None
        if run_id is not None and self.dag_id is not None:
            self._tasks_sub = self.watcher.subscribe(TasksOf(self.dag_id, run_id), poster(self),
                                                     delay=DEBOUNCE)
            self._sync_visibility()

    def select_task(self, key: str | None) -> None:
        if key == self.task_key:
            return
        self.task_key = key
        self.log_view.show(self.tis.get(key) if key else None)

    # -- events from the Watcher ----------------------------------------------------------------

    @on(WatchConnected)
    def _connected(self) -> None:
        self.log_view.refresh()  # "select a task to see its log"
        self.update_status()

    @on(WatchFailed)
    def _failed(self, message: WatchFailed) -> None:
        event = message.event
        pane = {"dags": "dags", "changes": "dags", "runs": "runs", "tasks": "tasks"}.get(
            event.kind)
        if pane is not None and (event.kind != "runs" or event.topic == RunsOf(self.dag_id or "")):
            self.panes[pane].add_class("stale")
        if event.kind == "changes" and self._runs_sub is not None and \
                not self._runs_sub.state.failures:
            self.panes["runs"].add_class("stale")
        self.update_status()

    @on(DagsUpdated)
    def _dags_updated(self, message: DagsUpdated) -> None:
        self.panes["dags"].remove_class("stale")
        self.dags = dict(message.event.dags)
        self.latest = dict(message.event.latest)
        self._render_dags()
        if self.dag_id is None:
            self.select_dag(self.dag_table.cursor_key)
        self.update_status()

    def _render_dags(self) -> None:
        """Rows are built again only for DAGs whose data (or the local day) changed: with 1,000
        DAGs, sanitizing every cell on every poll was most of the idle CPU."""
        now = self.app.now()
        day = now.astimezone(self.app.tz).date()
        old, cache = self._dag_rows, {}
        rows = []
        for dag in sorted(self.dags.values(), key=lambda d: d.dag_id):
            run = self.latest.get(dag.dag_id)
            hit = old.get(dag.dag_id)
            if hit is not None and hit[0] == dag and hit[1] == run and hit[2] == day:
                row = hit[3]
            else:
                row = dag_row(dag, run, now, self.app.tz)
            cache[dag.dag_id] = (dag, run, day, row)
            rows.append((dag.dag_id, row))
        self._dag_rows = cache
        self.dag_table.sync(rows)
        self._refresh_counts()

    @on(RunsUpdated)
    def _runs_updated(self, message: RunsUpdated) -> None:
        dag_id, runs, total = message.event.dag_id, message.event.runs, message.event.total
        if dag_id != self.dag_id:
            return
        self.panes["runs"].remove_class("stale")
        now = self.app.now()
        self.runs = {r.run_id: r for r in runs}
        self._render_runs(now)
        self.panes["runs"].set_context(dag_id, f"{len(runs)}/{total}" if total > len(runs)
                                       else str(len(runs)))
        self._pick_wanted_run()
        if self.run_id is None or self.run_id not in self.runs:
            self.select_run(self.run_table.cursor_key)
        self.update_status()

    def _render_runs(self, now=None) -> None:
        now = now or self.app.now()
        self.run_table.sync([(r.run_id, run_row(r, now, self.app.tz)) for r in self.runs.values()])

    @on(TasksUpdated)
    def _tasks_updated(self, message: TasksUpdated) -> None:
        dag_id, run_id, tis = message.event.dag_id, message.event.run_id, message.event.tis
        if (dag_id, run_id) != (self.dag_id, self.run_id):
            return
        self.panes["tasks"].remove_class("stale")
        now = self.app.now()
        tis = sorted(tis, key=lambda t: (t.start_date is None, t.start_date or now, t.task_id,
                                         t.map_index))
        self.tis = {ti_key(t): t for t in tis}
        rows = [(ti_key(t), ti_row(t, now)) for t in tis]
        self.task_table.sync(rows)
        self._refresh_counts()
        if self.task_key is None or self.task_key not in self.tis:
            self.select_task(self.task_table.cursor_key)
        elif not self.log_view.following(self.tis[self.task_key]):
            # A retry started: follow the new try.
            self.log_view.show(self.tis[self.task_key])
        self.update_status()

    def _refresh_counts(self) -> None:
        for name, table in (("dags", self.dag_table), ("tasks", self.task_table)):
            shown, total = table.row_count, table.total_rows
            count = f"{shown}/{total}" if shown != total else str(total)
            self.panes[name].set_context(self.panes[name].context, count)

    # -- status --------------------------------------------------------------------------------

    def update_status(self) -> None:
        app = self.app
        status = self.watcher.status(self.active)
        text = Text()
        text.append(clean(app.profile_name, max_len=30), style="bold")
        if status.version is not None:
            text.append(f" · Airflow {status.version}")
        text.append(" · ")
        if not status.connected and status.error is None:
            text.append("◌ connecting…", style="yellow")
        elif status.error is not None:
            text.append("✖ down: ", style="bold red")
            text.append(describe_error(status.error), style="red")
        elif status.waiting > 5:
            text.append(f"◌ slow: waiting {fmt_duration(status.waiting)} for the server",
                        style="yellow")
        elif status.slow:
            text.append("● slow", style="yellow")
        else:
            text.append("● ok", style="green")
        if status.connected:
            kind = self.active if self.active in ("runs", "tasks") else "dags"
            age, interval, failing = self.watcher.age(kind)
            if age is not None and (failing or age > 2 * (interval or 1e9) + 5):
                text.append(f" · {self.active} updated {fmt_duration(age)} ago", style="yellow")
        if app.read_only:
            text.append(" · read-only", style="bold magenta")
        self.status.show(text)


def describe_error(err: BaseException | None) -> str:
    return clean(error_line(err), max_len=120, newline=" ")
