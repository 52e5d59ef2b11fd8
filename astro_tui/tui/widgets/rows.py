"""Columns and row cells of the DAG, run and task tables. Every server string goes through the
sanitizer here; the tables only ever see rich Text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, tzinfo

from rich.text import Text

from astro_tui.airflow.models import Dag, DagRun, HitlDetail, TaskInstance
from astro_tui.present.labels import ti_label
from astro_tui.present.states import state_style
from astro_tui.present.times import duration, elapsed, short_time
from astro_tui.text import safe_text
from astro_tui.tui.states import state_text
from astro_tui.tui.widgets.keyed_table import Column
from astro_tui.watch.cache import RECENT
from astro_tui.watch.inbox import Inbox

#: the DAG table fits its width (KeyedTable(fit=True)): the id takes the room left, cut in the
#: middle; then, by priority, the last run, paused, the schedule, the next run, tags, the name
DAG_COLUMNS = [
    Column("dag_id", "DAG", flex=True, min_width=16, cut="middle", grow_priority=2.5),
    Column("last", "Last run", 17, priority=1),
    Column("paused", "Paused", 6, priority=2),
    Column("next", "Next run", 14, priority=4),
    Column("schedule", "Schedule", 24, priority=3),
    Column("tags", "Tags", 20, priority=5),
    Column("name", "Name", 30, priority=6),  # the display name, where one is set
]
#: the overview's DAG list (full width): the recent-runs strip right after the state
OVERVIEW_DAG_COLUMNS = [
    Column("dag_id", "DAG", flex=True, min_width=20, cut="middle", grow_priority=4.5),
    Column("last", "Last run", 17, priority=1),
    Column("recent", "Recent runs", RECENT, priority=2),
    Column("paused", "Paused", 6, priority=3),
    Column("next", "Next run", 14, priority=5),
    Column("schedule", "Schedule", 24, priority=4),
    Column("tags", "Tags", 20, priority=6),
    Column("name", "Name", 30, priority=7),
]
#: the failure inbox: failed runs (with the first failed task), then running and queued ones
INBOX_COLUMNS = [
    Column("state", "State", 16),
    Column("dag_id", "DAG", flex=True, min_width=16, cut="middle", grow_priority=1.5),
    Column("task", "Task", flex=True, min_width=16, priority=1, cut="middle",
           grow_priority=2.5),
    Column("duration", "Duration", 9, priority=2),
    Column("start", "Started", 14, priority=3),
    Column("run_id", "Run", flex=True, min_width=20, priority=4, cut="middle"),
]
#: the runs table fits its pane (KeyedTable(fit=True)): the run type whole ("scheduled",
#: "asset_triggered"), the run id cut in the middle (its end tells runs apart), the times when
#: there is room (issue 18: the type was cut by the pane's edge)
RUN_COLUMNS = [
    Column("state", "State", 17),
    Column("run_id", "Run id", flex=True, min_width=20, cut="middle", grow_priority=2.5),
    Column("type", "Type", 15, priority=1),
    Column("duration", "Duration", 9, priority=2),
    Column("start", "Started", 14, priority=3),
    Column("when", "Logical/after", 14, priority=4),
]
#: the tasks table fits its pane (KeyedTable(fit=True)): a task in a group shows the groups
#: dimmed and the task itself bright, cut in the middle so the task's own name stays visible
TASK_COLUMNS = [
    Column("task_id", "Task", flex=True, min_width=16, cut="middle", grow_priority=1.5),
    Column("map", "Map", 6),  # (mapped instances differ by it alone: never dropped first)
    Column("state", "State", 17, priority=1),
    Column("try", "Try", 5, priority=3),
    Column("duration", "Duration", 9, priority=4),
    Column("operator", "Operator", 22, priority=5),
    Column("name", "Name", 30, priority=6),  # the task's display name, where one is set
]


def ti_key(ti: TaskInstance) -> str:
    return ti_label(ti)


#: the last-run cell of a DAG whose last run is not read yet (older than the newest runs read):
#: never "—", which says it never ran
UNKNOWN_LAST_RUN = "…"


def last_run_cell(run: DagRun | None, unknown: bool, hint: str | None) -> Text:
    """The last run's state; unknown: the state the server's filter told, or a dim "…"."""
    if run is not None:
        return state_text(run.state)
    if unknown:
        return state_text(hint) if hint else Text(UNKNOWN_LAST_RUN, style="dim")
    return Text("—", style="dim")


def dag_row(dag: Dag, run: DagRun | None, now: datetime, tz: tzinfo | None,
            unknown: bool = False, hint: str | None = None) -> tuple:
    dag_cell = safe_text(dag.dag_id, newline=" ")
    if dag.has_import_errors:
        dag_cell = Text("⚠ ", style="bold red") + dag_cell
    return (
        dag_cell,
        last_run_cell(run, unknown, hint),
        Text("⏸ yes", style="yellow") if dag.is_paused else Text("no", style="dim"),
        Text(short_time(dag.next_run, now, tz)),
        safe_text(dag.schedule or "", max_len=60, newline=" "),
        safe_text(", ".join(dag.tags), max_len=80, newline=" "),
        safe_text(dag.display_name if dag.display_name != dag.dag_id else "", max_len=120,
                  newline=" "),
    )


def recent_strip(runs: Sequence[DagRun]) -> Text:
    """The newest runs as one glyph each, oldest left, newest right, coloured by state: the
    glyphs alone tell the states apart (16 colours, NO_COLOR)."""
    text = Text()
    for run in reversed(runs[:RECENT]):
        glyph, style = state_style(run.state)
        text.append(glyph, style=style)
    return text


def awaiting_key(h: HitlDetail) -> str:
    dag_id, run_id, task_id, map_index = h.key
    return f"awaiting {dag_id} {run_id} {task_id} {map_index}"


def inbox_rows(inbox: Inbox, now: datetime, tz: tzinfo | None) -> list[tuple[str, tuple]]:
    """Failed runs (latest first) with their first failed task, then requests waiting for a
    person (oldest first) with the task and the request's subject, then running and queued
    runs."""
    rows: list[tuple[str, tuple]] = []
    for failed in inbox.failed:
        r, ti = failed.run, failed.first_failed
        rows.append((f"failed {r.dag_id} {r.run_id}", (
            state_text(r.state),
            safe_text(r.dag_id, newline=" "),
            safe_text(ti_label(ti), newline=" ") if ti is not None else Text("—", style="dim"),
            Text(duration(elapsed(r.start_date, r.end_date, r.duration, now))),
            Text(short_time(r.start_date, now, tz)),
            safe_text(r.run_id, newline=" "),
        )))
    for h in inbox.awaiting:
        ti = h.task_instance
        rows.append((awaiting_key(h), (
            state_text("awaiting_input"),
            safe_text(ti.dag_id, newline=" "),
            safe_text(f"{ti_label(ti)} · {h.subject}" if h.subject else ti_label(ti),
                      newline=" "),
            Text(duration(elapsed(h.created_at, None, None, now))),
            Text(short_time(h.created_at, now, tz)),
            safe_text(ti.run_id, newline=" "),
        )))
    for r in inbox.active:
        rows.append((f"active {r.dag_id} {r.run_id}", (
            state_text(r.state),
            safe_text(r.dag_id, newline=" "),
            Text(""),
            Text(duration(elapsed(r.start_date, r.end_date, r.duration, now))),
            Text(short_time(r.start_date, now, tz)),
            safe_text(r.run_id, newline=" "),
        )))
    return rows


def run_row(r: DagRun, now: datetime, tz: tzinfo | None) -> tuple:
    return (
        state_text(r.state),
        safe_text(r.run_id, newline=" "),
        safe_text(r.run_type or "", newline=" "),
        Text(duration(elapsed(r.start_date, r.end_date, r.duration, now))),
        Text(short_time(r.start_date, now, tz)),
        Text(short_time(r.logical_date or r.run_after, now, tz)),
    )


def task_cell(task_id: str) -> Text:
    """``group.inner.task``: the task groups dimmed, the task bright (the structure shows, and
    rows of one group do not look alike)."""
    text = safe_text(task_id, newline=" ")
    cut = text.plain.rfind(".")
    if cut > 0:
        text.stylize("dim", 0, cut + 1)
    return text


def sort_tis(tis: Sequence[TaskInstance], now: datetime) -> list[TaskInstance]:
    """By when each task first started (not started: last), a task's mapped instances together
    and by map index."""
    first: dict[str, datetime | None] = {}
    for t in tis:
        seen = first.get(t.task_id)
        if t.task_id not in first or (t.start_date is not None and (
                seen is None or t.start_date < seen)):
            first[t.task_id] = t.start_date
    return sorted(tis, key=lambda t: (first[t.task_id] is None, first[t.task_id] or now,
                                      t.task_id, t.map_index))


def ti_row(t: TaskInstance, now: datetime) -> tuple:
    name = t.task_display_name
    return (
        task_cell(t.task_id),
        Text("" if t.map_index < 0 else str(t.map_index)),
        state_text(t.state),
        Text(str(t.try_number or 0)),
        Text(duration(elapsed(t.start_date, t.end_date, t.duration, now))),
        safe_text(t.operator or "", newline=" "),
        safe_text(name if name and name != t.task_id else "", max_len=120, newline=" "),
    )


class DagRows:
    """The DAG table's rows, built again only for DAGs whose data (or the local day) changed:
    with 1,000 DAGs, sanitizing every cell on every poll was most of the idle CPU. With
    `recent`, each row ends with the DAG's recent-runs strip."""

    def __init__(self, recent: bool = False) -> None:
        self._recent = recent
        self._cache: dict[str, tuple[Dag, DagRun | None, date, Sequence[DagRun], tuple,
                                     tuple]] = {}

    def rows(self, dags: dict[str, Dag], latest: dict[str, DagRun], now: datetime,
             tz: tzinfo | None, recent: Mapping[str, Sequence[DagRun]] | None = None,
             unknown: Mapping[str, str | None] | None = None) -> list[tuple[str, tuple]]:
        """`unknown`: DAGs whose last run is not read yet (DagsChanged.unknown)."""
        unknown = unknown or {}
        day = now.astimezone(tz).date()
        old, cache = self._cache, {}
        rows = []
        for dag in sorted(dags.values(), key=lambda d: d.dag_id):
            run = latest.get(dag.dag_id)
            mine = (recent or {}).get(dag.dag_id, ()) if self._recent else ()
            mark = (dag.dag_id in unknown, unknown.get(dag.dag_id))
            hit = old.get(dag.dag_id)
            if hit is not None and hit[0] == dag and hit[1] == run and hit[2] == day and \
                    hit[3] == mine and hit[5] == mark:
                row = hit[4]
            else:
                row = dag_row(dag, run, now, tz, *mark)
                if self._recent:  # (the strip right after the last run's state)
                    row = (*row[:2], recent_strip(mine), *row[2:])
            cache[dag.dag_id] = (dag, run, day, mine, row, mark)
            rows.append((dag.dag_id, row))
        self._cache = cache
        return rows
