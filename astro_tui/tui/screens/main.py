"""The main screen: DAGs → runs → task instances → log, each pane kept live by its own poll loop.

Data flows one way: a PollLoop's worker awaits the client, posts `Polled`, and `on_polled` diffs
the answer into the pane's widget. Selection flows down: moving the cursor in one pane re-targets
the poll of the next one (debounced), so only what is on screen is polled.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input

from astro_tui.airflow.models import Dag, DagRun, TaskInstance
from astro_tui.text import clean
from astro_tui.present.errors import error_line
from astro_tui.present.times import duration as fmt_duration
from astro_tui.tui.actions import bindings
from astro_tui.tui.messages import Polled
from astro_tui.tui.polling import PollLoop
from astro_tui.tui.screens.actions import ActionsScreen
from astro_tui.present.states import ACTIVE_RUN_STATES
from astro_tui.tui.widgets.footer import Footer
from astro_tui.tui.widgets.keyed_table import KeyedTable
from astro_tui.tui.widgets.log_view import LogView
from astro_tui.tui.widgets.pane import Pane
from astro_tui.tui.widgets.rows import (
    DAG_COLUMNS, RUN_COLUMNS, TASK_COLUMNS, dag_row, run_row, ti_key, ti_row,
)
from astro_tui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from astro_tui.airflow.client import AirflowClient
    from astro_tui.tui.app import AstroTuiApp

PANES = ("dags", "runs", "tasks", "log")
DEBOUNCE = 0.25
# How many recent runs (all DAGs) give each DAG its "last run" state on a full refresh.
LATEST_RUNS_WINDOW = 1000

class MainScreen(ActionsScreen):
    BINDINGS = bindings("main")

    app: "AstroTuiApp"

    def __init__(self) -> None:
        super().__init__()
        self.client: AirflowClient | None = None
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
        self._runs_since: datetime | None = None
        self._want_run: str | None = None
        self.connect_error: BaseException | None = None

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self.dag_table = KeyedTable(DAG_COLUMNS, id="dag-table")
        self.run_table = KeyedTable(RUN_COLUMNS, id="run-table")
        self.task_table = KeyedTable(TASK_COLUMNS, id="task-table")
        self.log_view = LogView(id="log-view")
        # The log follower reads its TI itself. Handing it the tasks poll's TI
        # (LogFollower(ti_hint=...)) would save a request per poll, but a TI older than the log
        # can make its last read a full one (CI saw it): the follower must first treat
        # end-of-log as the end of the try.
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
        settings = self.app.settings
        clock = self.app.clock
        def loop(key: str, interval: float, timeout: float, **kw) -> PollLoop:
            return PollLoop(self, key, interval, clock=clock, timeout=timeout, **kw)

        self.polls = {
            "connect": loop("connect", settings.runs_seconds, 30),
            "dags": loop("dags", settings.dags_seconds, 60),
            "changes": loop("changes", settings.runs_seconds, 20),
            # The selected DAG's runs: fetched on selection and whenever the "changes" poll sees
            # one of its runs change; the interval is only a safety net.
            "runs": loop("runs", settings.dags_seconds, 20),
            "tasks": loop("tasks", settings.tasks_seconds, 20),
            # While anything fails or hangs, one cheap request per interval tells when the server
            # is back, so the panes (whose own polls back off up to 60 s) recover within about
            # one interval.
            "probe": loop("probe", settings.runs_seconds, 5, max_backoff=settings.runs_seconds),
        }
        self.polls["connect"].max_backoff = max(settings.runs_seconds * 2, 10.0)
        self.polls["connect"].retarget(self.app.connect)
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
        if not hasattr(self, "polls"):
            return
        for pane in ("runs", "tasks", "log"):
            poll = self.log_view.poll if pane == "log" else self.polls[pane]
            if poll is None:
                continue
            if self._visible(pane):
                poll.resume()
            else:
                poll.pause()

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
        if self.client is None:
            self.polls["connect"].poke()
            return
        self.polls["dags"].poke()
        for name in ("runs", "tasks"):
            if self._visible(name):
                self.polls[name].poke()
        if self._visible("log") and self.log_view.poll is not None:
            self.log_view.poll.poke()

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
        self.polls["runs"].poke()
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
        client = self.client
        if dag_id is None or client is None:
            self.polls["runs"].retarget(None)
            return

        async def fetch():
            runs, total = await client.list_runs(dag_id, limit=self.app.settings.runs_limit)
            return dag_id, runs, total

        self.polls["runs"].retarget(fetch, delay=DEBOUNCE)

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
        client, dag_id = self.client, self.dag_id
        if run_id is None or dag_id is None or client is None:
            self.polls["tasks"].retarget(None)
            return
        run = self.runs.get(run_id)
        self.polls["tasks"].interval = self._tasks_interval(run)

        async def fetch():
            return dag_id, run_id, await client.list_task_instances(dag_id, run_id)

        self.polls["tasks"].retarget(fetch, delay=DEBOUNCE)

    def select_task(self, key: str | None) -> None:
        if key == self.task_key:
            return
        self.task_key = key
        self.log_view.show(self.client, self.tis.get(key) if key else None)

    def _tasks_interval(self, run: DagRun | None) -> float | None:
        if run is not None and run.state not in ACTIVE_RUN_STATES and run.state is not None:
            return None  # a finished run's tasks are fetched once
        return self.app.settings.tasks_seconds

    # -- poll results --------------------------------------------------------------------------

    def on_polled(self, message: Polled) -> None:
        poll = self.polls.get(message.key)
        if poll is None or message.generation != poll.generation:
            return
        panes = [message.key] if message.key in self.panes else []
        if message.key == "dags":
            panes = ["dags"]
        elif message.key == "changes":  # it also keeps the selected DAG's runs fresh
            panes = ["dags"] + (["runs"] if not self.polls["runs"].failures else [])
        if message.error is not None:
            for pane in panes:
                self.panes[pane].add_class("stale")
            if message.key == "connect":
                self.connect_error = message.error
            elif message.key != "probe":
                self._start_probe()
            self.update_status()
            return
        for pane in panes:
            self.panes[pane].remove_class("stale")
        handler = getattr(self, f"_got_{message.key}")
        handler(message.data)
        self.update_status()

    def _start_probe(self) -> None:
        probe = self.polls["probe"]
        if self.client is not None and not probe.targeted:
            probe.retarget(self.client.ping, delay=probe.interval or 5.0)

    def _got_probe(self, _data) -> None:
        """The server answers again: every failing or stuck poll runs now, backoff forgotten."""
        probe = self.polls["probe"]
        probe.stop()
        loops = [p for k, p in self.polls.items() if k not in ("probe", "connect")]
        if self.log_view.poll is not None:
            loops.append(self.log_view.poll)
        for loop in loops:
            if (loop.in_flight() or 0.0) > (probe.last_duration or 0.0) + 1.0:
                loop.restart()  # stuck on a connection from before the outage
            elif loop.failures:
                loop.failures = 0
                loop.poke()

    def _got_connect(self, client: AirflowClient) -> None:
        # The poll loops are the retry mechanism here (with backoff, and a probe for recovery):
        # retries inside the client as well would multiply the load on a struggling server.
        client.attempts = 1
        self.client = client
        self.connect_error = None
        self.polls["connect"].stop()
        self.polls["dags"].retarget(self._fetch_dags)

    async def _fetch_dags(self):
        client = self.client
        assert client is not None
        started = self.app.now()
        dags, (runs, _) = await asyncio.gather(
            client.list_dags(), client.list_runs_batch(None, limit=LATEST_RUNS_WINDOW))
        return started, dags, runs

    async def _fetch_changes(self):
        client = self.client
        assert client is not None
        started = self.app.now()
        since = self._runs_since
        runs, _ = await client.list_runs("~", limit=100, updated_at_gte=since)
        return started, runs

    def _got_dags(self, data) -> None:
        started, dags, runs = data
        self.dags = {d.dag_id: d for d in dags}
        latest: dict[str, DagRun] = {}
        for run in runs:
            if _newer(run, latest.get(run.dag_id)):
                latest[run.dag_id] = run
        self.latest = latest
        self._render_dags()
        if self._runs_since is None:
            # From now on, ask only for runs changed since the last answer (minus clock slack).
            self._runs_since = started - timedelta(seconds=30)
            self.polls["changes"].retarget(self._fetch_changes,
                                           delay=self.app.settings.runs_seconds)
        if self.dag_id is None:
            self.select_dag(self.dag_table.cursor_key)

    def _got_changes(self, data) -> None:
        started, runs = data
        self._runs_since = started - timedelta(seconds=30)
        changed = False
        for run in runs:
            if run.dag_id in self.dags and _newer(run, self.latest.get(run.dag_id)):
                self.latest[run.dag_id] = run
                changed = True
        if changed:
            self._render_dags()
        mine = [r for r in runs if r.dag_id == self.dag_id]
        if any(r.run_id not in self.runs for r in mine):
            self.polls["runs"].poke()  # a new run: re-read the page (order, total)
            return
        for run in mine:  # known runs changed (a running run's updated_at moves all the time)
            self.runs[run.run_id] = run
        if mine or any(r.state in ACTIVE_RUN_STATES for r in self.runs.values()):
            self._render_runs()  # new states; running durations move on without a request
        if self.run_id is not None and any(r.run_id == self.run_id for r in mine):
            self._run_changed(self.runs[self.run_id])

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

    def _got_runs(self, data) -> None:
        dag_id, runs, total = data
        if dag_id != self.dag_id:
            return
        now = self.app.now()
        self.runs = {r.run_id: r for r in runs}
        if runs and _newer(runs[0], self.latest.get(dag_id)) and dag_id in self.dags:
            self.latest[dag_id] = runs[0]
            self._render_dags()
        self._render_runs(now)
        self.panes["runs"].set_context(dag_id, f"{len(runs)}/{total}" if total > len(runs)
                                       else str(len(runs)))
        self._pick_wanted_run()
        if self.run_id is None or self.run_id not in self.runs:
            self.select_run(self.run_table.cursor_key)
        else:
            self._run_changed(self.runs[self.run_id])

    def _run_changed(self, run: DagRun) -> None:
        interval = self._tasks_interval(run)
        tasks = self.polls["tasks"]
        if interval != tasks.interval:
            tasks.interval = interval
            tasks.poke()  # the run changed state: fetch its tasks now

    def _render_runs(self, now=None) -> None:
        now = now or self.app.now()
        self.run_table.sync([(r.run_id, run_row(r, now, self.app.tz)) for r in self.runs.values()])

    def _got_tasks(self, data) -> None:
        dag_id, run_id, tis = data
        if (dag_id, run_id) != (self.dag_id, self.run_id):
            return
        now = self.app.now()
        tis = sorted(tis, key=lambda t: (t.start_date is None, t.start_date or now, t.task_id,
                                         t.map_index))
        self.tis = {ti_key(t): t for t in tis}
        rows = [(ti_key(t), ti_row(t, now)) for t in tis]
        self.task_table.sync(rows)
        self._refresh_counts()
        run = self.runs.get(run_id)
        if run is not None and run.state not in ACTIVE_RUN_STATES and all(t.finished for t in tis):
            self.polls["tasks"].interval = None
        if self.task_key is None or self.task_key not in self.tis:
            self.select_task(self.task_table.cursor_key)
        elif not self.log_view.following(self.tis[self.task_key]):
            # A retry started: follow the new try.
            self.log_view.show(self.client, self.tis[self.task_key])

    def _refresh_counts(self) -> None:
        for name, table in (("dags", self.dag_table), ("tasks", self.task_table)):
            shown, total = table.row_count, table.total_rows
            count = f"{shown}/{total}" if shown != total else str(total)
            self.panes[name].set_context(self.panes[name].context, count)

    # -- status --------------------------------------------------------------------------------

    def update_status(self) -> None:
        app = self.app
        text = Text()
        text.append(clean(app.profile_name, max_len=30), style="bold")
        if self.client is not None:
            text.append(f" · Airflow {self.client.version}")
        text.append(" · ")
        poll = self.polls.get(self.active if self.active in self.polls else "dags")
        dags = self.polls["dags"]
        failing = next((p for p in (self.polls["connect"], dags, poll, self.polls["probe"])
                        if p and p.failures), None)
        if self.client is None and failing is None:
            text.append("◌ connecting…", style="yellow")
        elif failing is not None:
            err = failing.last_error
            text.append("✖ down: ", style="bold red")
            text.append(describe_error(err), style="red")
        elif (waiting := max((p.in_flight() or 0.0) for p in self.polls.values())) > 5:
            text.append(f"◌ slow: waiting {fmt_duration(waiting)} for the server",
                        style="yellow")
            self._start_probe()
        elif any(p.last_duration and p.last_duration > 3 for p in self.polls.values()):
            text.append("● slow", style="yellow")
        else:
            text.append("● ok", style="green")
        if poll is not None and self.client is not None:
            age = poll.age()
            if age is not None and (poll.failures or age > 2 * (poll.interval or 1e9) + 5):
                text.append(f" · {self.active} updated {fmt_duration(age)} ago", style="yellow")
        if app.read_only:
            text.append(" · read-only", style="bold magenta")
        self.status.show(text)


def _newer(run: DagRun, than: DagRun | None) -> bool:
    if than is None:
        return True
    if run.run_id == than.run_id:
        return True

    def when(r: DagRun) -> datetime:
        return r.run_after or r.logical_date or r.start_date or datetime.min.replace(
            tzinfo=timezone.utc)

    return when(run) >= when(than)


def describe_error(err: BaseException | None) -> str:
    return clean(error_line(err), max_len=120, newline=" ")
