"""Columns and row cells of the DAG, run and task tables. Every server string goes through the
sanitizer here; the tables only ever see rich Text."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from rich.text import Text

from astro_tui.airflow.models import Dag, DagRun, TaskInstance
from astro_tui.present.labels import ti_label
from astro_tui.present.times import duration, elapsed, short_time
from astro_tui.text import safe_text
from astro_tui.tui.states import state_text
from astro_tui.tui.widgets.keyed_table import Column

#: the DAG table fits its width (KeyedTable(fit=True)): the id takes the room left, cut in the
#: middle; then, by priority, the last run, paused, the schedule, the next run, tags, the name
DAG_COLUMNS = [
    Column("dag_id", "DAG", flex=True, min_width=16, cut="middle"),
    Column("last", "Last run", 17, priority=1),
    Column("paused", "Paused", 6, priority=2),
    Column("next", "Next run", 14, priority=4),
    Column("schedule", "Schedule", 24, priority=3),
    Column("tags", "Tags", 20, priority=5),
    Column("name", "Name", 30, priority=6),  # the display name, where one is set
]
RUN_COLUMNS = [
    Column("state", "State", 17),
    Column("run_id", "Run id", 40),
    Column("type", "Type", 9),
    Column("when", "Logical/after", 14),
    Column("start", "Started", 14),
    Column("duration", "Duration", 9),
]
TASK_COLUMNS = [
    Column("task_id", "Task", 28),
    Column("map", "Map", 4),
    Column("state", "State", 17),
    Column("try", "Try", 5),
    Column("duration", "Duration", 9),
    Column("operator", "Operator", 22),
]


def ti_key(ti: TaskInstance) -> str:
    return ti_label(ti)


def dag_row(dag: Dag, run: DagRun | None, now: datetime, tz: tzinfo | None) -> tuple:
    dag_cell = safe_text(dag.dag_id, newline=" ")
    if dag.has_import_errors:
        dag_cell = Text("⚠ ", style="bold red") + dag_cell
    return (
        dag_cell,
        state_text(run.state) if run else Text("—", style="dim"),
        Text("⏸ yes", style="yellow") if dag.is_paused else Text("no", style="dim"),
        Text(short_time(dag.next_run, now, tz)),
        safe_text(dag.schedule or "", max_len=60, newline=" "),
        safe_text(", ".join(dag.tags), max_len=80, newline=" "),
        safe_text(dag.display_name if dag.display_name != dag.dag_id else "", max_len=120,
                  newline=" "),
    )


def run_row(r: DagRun, now: datetime, tz: tzinfo | None) -> tuple:
    return (
        state_text(r.state),
        safe_text(r.run_id, newline=" "),
        safe_text(r.run_type or "", newline=" "),
        Text(short_time(r.logical_date or r.run_after, now, tz)),
        Text(short_time(r.start_date, now, tz)),
        Text(duration(elapsed(r.start_date, r.end_date, r.duration, now))),
    )


def ti_row(t: TaskInstance, now: datetime) -> tuple:
    return (
        safe_text(t.task_id, newline=" "),
        Text("" if t.map_index < 0 else str(t.map_index)),
        state_text(t.state),
        Text(str(t.try_number or 0)),
        Text(duration(elapsed(t.start_date, t.end_date, t.duration, now))),
        safe_text(t.operator or "", newline=" "),
    )


class DagRows:
    """The DAG table's rows, built again only for DAGs whose data (or the local day) changed:
    with 1,000 DAGs, sanitizing every cell on every poll was most of the idle CPU."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[Dag, DagRun | None, date, tuple]] = {}

    def rows(self, dags: dict[str, Dag], latest: dict[str, DagRun], now: datetime,
             tz: tzinfo | None) -> list[tuple[str, tuple]]:
        day = now.astimezone(tz).date()
        old, cache = self._cache, {}
        rows = []
        for dag in sorted(dags.values(), key=lambda d: d.dag_id):
            run = latest.get(dag.dag_id)
            hit = old.get(dag.dag_id)
            if hit is not None and hit[0] == dag and hit[1] == run and hit[2] == day:
                row = hit[3]
            else:
                row = dag_row(dag, run, now, tz)
            cache[dag.dag_id] = (dag, run, day, row)
            rows.append((dag.dag_id, row))
        self._cache = cache
        return rows
