"""What is selected, DAG → run → task, and the Watcher subscriptions that follow it.

Selecting a DAG subscribes to its runs; selecting a run subscribes to its task instances (each
after a short debounce, so moving the cursor quickly polls nothing in between). The data shown
for the selection (the screen's copy of the Watcher's events) lives here too.
"""

from __future__ import annotations

from astro_tui.airflow.models import Dag, DagRun, TaskInstance
from astro_tui.watch.events import RunsOf, TasksOf
from astro_tui.watch.feeds import RunsFeed
from astro_tui.watch.watcher import Callback, Subscription, Watcher

DEBOUNCE = 0.25


class Selection:
    def __init__(self, watcher: Watcher, deliver: Callback, debounce: float = DEBOUNCE) -> None:
        self._watcher = watcher
        self._deliver = deliver
        self._debounce = debounce
        self.dag_id: str | None = None
        self.run_id: str | None = None
        self.task_key: str | None = None
        #: a run to select as soon as it is listed (after a trigger)
        self.want_run: str | None = None
        #: a task to select (and show the log of) as soon as its run's tasks are listed
        self.want_task: str | None = None
        #: with `want_task`: the try to show (None: the latest) and the pane to end on
        self.want_try: int | None = None
        self.want_pane: str | None = None
        self.dags: dict[str, Dag] = {}
        self.latest: dict[str, DagRun] = {}
        self.runs: dict[str, DagRun] = {}
        self.tis: dict[str, TaskInstance] = {}
        self._runs: Subscription | None = None
        self._tasks: Subscription | None = None

    def dag(self, dag_id: str | None) -> bool:
        """Select a DAG; True if that changed anything (the run and task are then cleared)."""
        if dag_id == self.dag_id:
            return False
        self.dag_id = dag_id
        self.runs = {}
        self.run(None)
        if self._runs is not None:
            self._runs.close()
            self._runs = None
        if dag_id is not None:
            self._runs = self._watcher.subscribe(RunsOf(dag_id), self._deliver,
                                                 delay=self._debounce)
        return True

    def run(self, run_id: str | None) -> bool:
        """Select a run of the selected DAG; True if it changed (the task is then cleared)."""
        if run_id is not None and run_id == self.want_run:
            self.want_run = None  # reached (by the cursor): a later poll must not re-select it
        if run_id == self.run_id:
            return False
        self.run_id = run_id
        self.tis = {}
        self.task_key = None
        if self._tasks is not None:
            self._tasks.close()
            self._tasks = None
        if run_id is not None and self.dag_id is not None:
            self._tasks = self._watcher.subscribe(TasksOf(self.dag_id, run_id), self._deliver,
                                                  delay=self._debounce)
        return True

    def task(self, key: str | None) -> bool:
        if key == self.task_key:
            return False
        self.task_key = key
        return True

    def show(self, runs: bool, tasks: bool) -> None:
        """Which of the runs and tasks panes are visible: hidden ones do not poll."""
        for sub, visible in ((self._runs, runs), (self._tasks, tasks)):
            if sub is not None:
                if visible:
                    sub.resume()
                else:
                    sub.pause()

    def more_runs(self) -> bool:
        """The selected DAG's older runs, one page more (bounded); False when there are none."""
        feed = self._runs.feed if self._runs is not None else None
        return isinstance(feed, RunsFeed) and feed.more()

    def refresh_runs(self) -> None:
        if self._runs is not None:
            self._runs.refresh()

    @property
    def runs_failing(self) -> bool:
        return self._runs is not None and self._runs.state.failures > 0

    def selected_run(self) -> DagRun | None:
        return self.runs.get(self.run_id) if self.run_id else None

    def selected_ti(self) -> TaskInstance | None:
        return self.tis.get(self.task_key) if self.task_key else None
