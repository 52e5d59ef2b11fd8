"""The monitor's reads: the failure inbox and the deployment's health, as typed values.

`astro-tui failures` and `astro-tui health` print these; a Watcher feed and the TUI overview are
meant to call the same functions. Plain asyncio, no Textual, no printing.

The inbox costs a bounded number of requests whatever the number of DAGs or runs:

1. the failed runs that ended since ``since``, latest first: one page of ``limit``
   (``POST /dags/~/dagRuns/list`` with ``states=[failed]``, ``end_date_gte``, ``order_by=-end_date``);
2. the running and queued runs, newest first: one page of ``limit`` (same route);
3. the failed task instances of the failed runs shown: one batch request
   (``POST /dags/~/dagRuns/~/taskInstances/list`` with ``dag_ids``, ``dag_run_ids`` and
   ``state=[failed]``), more pages only when those runs hold over 100 failed task instances,
   and never more than ``MAX_TASK_PAGES``. Skipped when no run failed.

So 3 requests per read (2 when nothing failed). The ``total_entries`` of each list says how many
more there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.errors import ApiError
from astro_tui.airflow.models import DagRun, Health, HitlDetail, TaskInstance, parse_datetime
from astro_tui.present.errors import error_message

__all__ = [
    "ACTIVE_STATES",
    "COMPONENTS",
    "DEFAULT_LIMIT",
    "DEFAULT_SINCE",
    "MAX_TASK_PAGES",
    "REQUIRED_COMPONENTS",
    "ComponentStatus",
    "FailedRun",
    "HealthReport",
    "Inbox",
    "first_failed",
    "judge_health",
    "parse_since",
    "read_failures",
    "read_health",
]

DEFAULT_SINCE = "24h"
DEFAULT_LIMIT = 25
#: run states listed after the failures
ACTIVE_STATES = ("running", "queued")
TASK_PAGE = 100
#: pages of failed task instances read at most (500 TIs): beyond, some runs show no first task
MAX_TASK_PAGES = 5

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``30m``, ``24h``, ``7d`` (also ``s``, ``w``) before ``now``, or an ISO 8601 time (UTC when
    it names no zone) -> an aware datetime. Raises ValueError on anything else."""
    now = now or datetime.now(timezone.utc)
    match = _RELATIVE.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2).lower()
        return now - timedelta(seconds=amount * _UNIT_SECONDS[unit])
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    when = parse_datetime(value) if value else None
    if when is None:
        raise ValueError(f"not a time: {text!r} (use 30m, 24h, 7d or an ISO 8601 time)")
    return when


# -- the failure inbox ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FailedRun:
    """A failed run and the failed task instance that ended first (None: not known)."""

    run: DagRun
    first_failed: TaskInstance | None


@dataclass(frozen=True, slots=True)
class Inbox:
    """What failed since ``since`` (latest first) and what is running or queued (newest first).

    ``failed_total`` / ``active_total`` are the server's counts, which may exceed the rows read.
    ``tasks_complete`` is False when the failed task instances of the runs shown were too many
    to read (see ``MAX_TASK_PAGES``): then some rows may lack their first failed task."""

    since: datetime
    failed: tuple[FailedRun, ...]
    failed_total: int
    active: tuple[DagRun, ...]
    active_total: int
    tasks_complete: bool = True
    #: human-in-the-loop requests waiting for a person (Airflow 3.1+; asked for with
    #: ``awaiting=True``), oldest first
    awaiting: tuple[HitlDetail, ...] = ()
    awaiting_total: int = 0


def first_failed(tis: Iterable[TaskInstance]) -> TaskInstance | None:
    """The failed TI that ended first (those without an end date last), ties by task and map
    index; None if none failed."""
    failed = [t for t in tis if t.state == "failed"]
    if not failed:
        return None
    never = datetime.max.replace(tzinfo=timezone.utc)
    return min(failed, key=lambda t: (t.end_date or never, t.task_id, t.map_index))


async def _failed_tasks(
    client: AirflowClient, runs: Sequence[DagRun]
) -> tuple[dict[tuple[str, str], list[TaskInstance]], bool]:
    """The failed TIs of `runs` by (dag_id, run_id), and whether all of them were read."""
    pairs = {(r.dag_id, r.run_id) for r in runs}
    found: dict[tuple[str, str], list[TaskInstance]] = {}
    if not pairs:
        return found, True
    dag_ids = sorted({dag_id for dag_id, _ in pairs})
    run_ids = sorted({run_id for _, run_id in pairs})
    starts = [r.start_date for r in runs if r.start_date is not None]
    offset = 0
    for _ in range(MAX_TASK_PAGES):
        page, total = await client.list_task_instances_batch(
            dag_ids, run_ids, states=["failed"], limit=TASK_PAGE, offset=offset,
            start_date_gte=min(starts) if starts else None,
        )
        for ti in page:
            if (ti.dag_id, ti.run_id) in pairs:  # not a same-named run of another DAG
                found.setdefault((ti.dag_id, ti.run_id), []).append(ti)
        offset += len(page)
        if not page or offset >= total:
            return found, True
    return found, False


async def read_failures(
    client: AirflowClient, since: datetime, limit: int = DEFAULT_LIMIT, *,
    awaiting: bool = False,
) -> Inbox:
    """The failure inbox: at most ``limit`` failed runs and ``limit`` running or queued runs,
    each failed run with its first failed task. 2 or 3 requests (see the module's doc).
    ``awaiting``: also the requests waiting for a person (one more request, on Airflow 3.1+
    only)."""
    limit = max(1, limit)
    failed, failed_total = await client.list_runs_batch(
        None, states=["failed"], limit=limit, end_date_gte=since,
        order_by=client.dialect.runs_last_ended,
    )
    active, active_total = await client.list_runs_batch(None, states=ACTIVE_STATES, limit=limit)
    tasks, complete = await _failed_tasks(client, failed)
    rows = tuple(
        FailedRun(run, first_failed(tasks.get((run.dag_id, run.run_id), ()))) for run in failed
    )
    waiting: list[HitlDetail] = []
    waiting_total = 0
    if awaiting and client.has_hitl:
        waiting, waiting_total = await client.list_hitl(pending=True, limit=limit)
        never = datetime.max.replace(tzinfo=timezone.utc)
        waiting.sort(key=lambda h: h.created_at or never)
    return Inbox(since, rows, failed_total, tuple(active), active_total, complete,
                 tuple(waiting), waiting_total)


# -- health ---------------------------------------------------------------------------------------

COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")
#: components without which nothing runs: no status from them is a problem. The others report
#: no status when they are not running or not set up (no triggerer; Airflow 2's dag-processor
#: runs inside the scheduler unless standalone): that is "n/a", not unhealthy.
REQUIRED_COMPONENTS = frozenset({"metadatabase", "scheduler"})


@dataclass(frozen=True, slots=True)
class ComponentStatus:
    name: str
    #: as the server said: "healthy", "unhealthy", or None (not running / not reported)
    status: str | None
    latest_heartbeat: datetime | None
    #: seconds between the last heartbeat and the read (None: no heartbeat)
    heartbeat_age: float | None
    ok: bool


@dataclass(frozen=True, slots=True)
class HealthReport:
    components: tuple[ComponentStatus, ...]
    #: how many DAG files fail to import (None: the count could not be read, see below)
    import_errors: int | None
    import_errors_problem: str | None = None

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.components)

    @property
    def unhealthy(self) -> tuple[ComponentStatus, ...]:
        return tuple(c for c in self.components if not c.ok)


def judge_health(health: Health, now: datetime) -> tuple[ComponentStatus, ...]:
    """Each component (the four known ones first, then any other the server reports): healthy
    is ok; no status is ok unless the component is required; anything else is not ok.
    Import errors never make a deployment unhealthy."""
    names = [*COMPONENTS, *sorted(set(health.components) - set(COMPONENTS))]
    out = []
    for name in names:
        comp = health.components.get(name)
        status = comp.status if comp else None
        beat = comp.latest_heartbeat if comp else None
        age = max(0.0, (now - beat).total_seconds()) if beat is not None else None
        ok = status == "healthy" or (status is None and name not in REQUIRED_COMPONENTS)
        out.append(ComponentStatus(name, status, beat, age, ok))
    return tuple(out)


async def read_health(client: AirflowClient, now: datetime | None = None) -> HealthReport:
    """Component health (no auth needed) plus the import-error count (one item read,
    ``total_entries`` used). 2 requests. A failed health read raises; a failed count (say, a
    token without DAG read access) leaves the count None with the reason."""
    health = await client.health()
    components = judge_health(health, now or datetime.now(timezone.utc))
    try:
        count: int | None = await client.count_import_errors()
        problem = None
    except ApiError as exc:
        count, problem = None, error_message(exc)
    return HealthReport(components, count, problem)
