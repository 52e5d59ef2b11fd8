"""The drill-down's moves: the selection (tui/selection.py) and the widgets that show it, together.

Selecting a DAG empties the runs, tasks and log panes and retitles them; selecting a run does the
same below it; selecting a task shows its log. `show_run` and `show_task` open a run (after a
trigger, or from the overview's inbox) as soon as the runs and tasks polls list it.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from astro_tui.present.states import FINAL_TI_STATES, run_is_active
from astro_tui.tui.layout import PaneLayout
from astro_tui.tui.selection import Selection
from astro_tui.tui.widgets.keyed_table import KeyedTable
from astro_tui.tui.widgets.log import LogView
from astro_tui.watch.alerts import Watch


class Navigator:
    def __init__(self, selection: Selection, layout: PaneLayout, tables: dict[str, KeyedTable],
                 log_view: LogView) -> None:
        self.selection = selection
        self.layout = layout
        self.dag_table, self.run_table = tables["dags"], tables["runs"]
        self.task_table = tables["tasks"]
        self.log_view = log_view

    def sync_visibility(self) -> None:
        """Hidden panes do not poll."""
        visible = self.layout.visible
        self.selection.show(visible("runs"), visible("tasks"))
        self.log_view.set_visible(visible("log"))

    # -- jumps ---------------------------------------------------------------------------------

    def goto_dag(self, dag_id: str) -> None:
        """Select a DAG in the list (clearing a filter that hides it); the DAGs pane active."""
        if not self.dag_table.select_key(dag_id):
            self.layout.panes["dags"].close_filter(clear=True)
            self.dag_table.select_key(dag_id)
        self.layout.activate("dags")

    def show_run(self, dag_id: str, run_id: str) -> None:
        """Select `run_id` of `dag_id` as soon as the runs poll sees it (after a trigger)."""
        self.selection.want_run = run_id
        self.goto_dag(dag_id)
        self.select_dag(dag_id)
        if self.layout.compact:
            self.layout.activate("runs")  # one pane at a time: a hidden runs pane would not poll
        self.selection.refresh_runs()
        self._pick_run()

    def show_task(self, dag_id: str, run_id: str, task_key: str | None) -> None:
        """Open `run_id` of `dag_id` on its task `task_key`'s log (the overview's inbox)."""
        self.selection.want_task = task_key
        self.show_run(dag_id, run_id)

    def restore(self, dag_id: str, run_id: str | None, task: str | None,
                try_number: int | None, pane: str) -> None:
        """Reopen where a saved session was (once the DAG list is shown)."""
        if run_id is None:
            self.goto_dag(dag_id)
            return
        s = self.selection
        if task is not None:
            s.want_try = try_number
            s.want_pane = pane if pane in ("tasks", "log") else "log"
        self.show_task(dag_id, run_id, task)
        if task is None and pane in ("runs", "tasks"):
            self.layout.activate(pane)

    # -- the cursor ----------------------------------------------------------------------------

    def follow_cursor(self, table: DataTable[Any]) -> None:
        if table is self.dag_table:
            self.select_dag(self.dag_table.cursor_key)
        elif table is self.run_table:
            self.select_run(self.run_table.cursor_key)
        elif table is self.task_table:
            self.select_task(self.task_table.cursor_key)

    def select_dag(self, dag_id: str | None) -> None:
        panes = self.layout.panes
        # the row under the cursor, in full when its cell is cut
        cut = dag_id is not None and self.dag_table.is_cut(dag_id, "dag_id")
        panes["dags"].set_context(dag_id if cut and dag_id else "", panes["dags"].count)
        if not self.selection.dag(dag_id):
            return
        self.run_table.sync([])
        self._run_selected()
        panes["runs"].set_context(dag_id or "")
        panes["runs"].remove_class("stale")
        self.sync_visibility()

    def select_run(self, run_id: str | None) -> None:
        wanted = run_id is not None and run_id == self.selection.want_run
        if wanted and self.layout.active == "dags":
            self.layout.activate("runs")
        if self.selection.run(run_id):
            self._run_selected()
            self.sync_visibility()

    def select_task(self, key: str | None) -> None:
        if self.selection.task(key):
            self.log_view.show(self.selection.selected_ti())

    def _run_selected(self) -> None:
        dag_id, run_id = self.selection.dag_id, self.selection.run_id
        self.task_table.sync([])
        self.log_view.show(None)
        tasks = self.layout.panes["tasks"]
        tasks.set_context(f"{dag_id} › {run_id}" if run_id else "")
        tasks.remove_class("stale")

    def watch_target(self) -> tuple[Watch | None, str | None]:
        """What `a` watches in the active pane: the DAG, the run, or the task; and its final
        state when it is already over (nothing to wait for)."""
        s, pane = self.selection, self.layout.active
        if s.dag_id is None:
            return None, None
        if pane == "dags":
            return Watch("dag", s.dag_id), None
        run = s.selected_run()
        if run is None:
            return None, None
        if pane == "runs":
            return Watch("run", s.dag_id, run.run_id), None if run_is_active(run.state) \
                else run.state
        ti = s.selected_ti()
        if ti is None or s.task_key is None:
            return None, None
        return (Watch("task", s.dag_id, run.run_id, s.task_key),
                ti.state if ti.state in FINAL_TI_STATES else None)

    def show_marks(self, marks: tuple[set[str], set[tuple[str, str]],
                                      set[tuple[str, str, str]]]) -> None:
        """◉ on the watched DAGs, runs and tasks (those of the selection)."""
        dags, runs, tasks = marks
        s = self.selection
        self.dag_table.set_marks(dags)
        self.run_table.set_marks({r for d, r in runs if d == s.dag_id})
        self.task_table.set_marks({t for d, r, t in tasks if (d, r) == (s.dag_id, s.run_id)})

    # -- after a poll --------------------------------------------------------------------------

    def runs_listed(self) -> None:
        """The runs table was refilled: select the wanted run, or keep a selection that exists."""
        self._pick_run()
        if self.selection.run_id is None or self.selection.run_id not in self.selection.runs:
            self.select_run(self.run_table.cursor_key)

    def _pick_run(self) -> None:
        want = self.selection.want_run
        if want and want in self.selection.runs:
            self.run_table.select_key(want)
            self.select_run(want)
            if self.layout.active in ("dags", "runs"):  # never pull focus back from elsewhere
                self.layout.activate("runs")

    def tasks_listed(self) -> None:
        """The tasks table was refilled: select the wanted task (and open its log), or keep the
        selection; a retry that started is followed."""
        s = self.selection
        want = s.want_task
        if want and want in s.tis:
            s.want_task = None
            self.task_table.select_key(want)
            self.select_task(want)
            if s.want_try is not None:
                self.log_view.show(s.tis[want], s.want_try)
            pane, s.want_try, s.want_pane = s.want_pane or "log", None, None
            self.layout.activate(pane)
        key = s.task_key
        if key is None or key not in s.tis:
            self.select_task(self.task_table.cursor_key)
        elif not self.log_view.following(s.tis[key]):
            self.log_view.show(s.tis[key])  # a retry started: follow the new try
