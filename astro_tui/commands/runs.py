"""`astro-tui runs DAG_ID` and `astro-tui status DAG_ID RUN_ID`, and waiting for a run to end
(shared with `trigger --wait`)."""

from __future__ import annotations

import argparse
import asyncio
import shlex
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from astro_tui.airflow.errors import NotFound
from astro_tui.airflow.models import DagRun, TaskInstance
from astro_tui.commands.base import (
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_TIMEOUT,
    PROG,
    TRANSIENT,
    CommandError,
    Ctx,
    Patience,
    Progress,
    UsageError,
)
from astro_tui.commands.output import (
    key_values,
    positive_int,
    render_table,
    run_json,
    seconds_arg,
    ti_json,
)
from astro_tui.conf import one_line
from astro_tui.present.labels import ti_label
from astro_tui.present.times import duration, utc_time as when

RUN_STATES = ("queued", "running", "success", "failed")
#: the order of states in a task summary: trouble first
STATE_ORDER = ("failed", "upstream_failed", "up_for_retry", "up_for_reschedule", "restarting",
               "awaiting_input", "running", "deferred", "queued", "scheduled", "success",
               "skipped", "removed")
DEFAULT_INTERVAL = 2.0
PAGE = 100
#: as RUN_ID: the DAG's newest run
LATEST = "latest"

HELP = {
    "runs": "list a DAG's runs, newest first",
    "status": "a run's state plus a summary of its tasks",
}


def add_wait_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--wait", action="store_true",
                   help=f"wait until the run {what}; exit 0 on success, 3 if it failed")
    p.add_argument("--timeout", type=seconds_arg, metavar="SECONDS",
                   help="with --wait: give up after SECONDS (exit 4; the run keeps going)")
    p.add_argument("--interval", type=seconds_arg, metavar="SECONDS", default=DEFAULT_INTERVAL,
                   help=f"with --wait: seconds between polls (default {DEFAULT_INTERVAL:g})")


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("runs", parents=[common], help=HELP["runs"], description=HELP["runs"])
    p.add_argument("dag_id", metavar="DAG_ID")
    p.add_argument("--limit", type=positive_int, default=25, metavar="N",
                   help="at most N runs (default 25)")
    p.add_argument("--state", action="append", dest="states", metavar="S",
                   help=f"only runs in state S ({', '.join(RUN_STATES)}); repeat or use commas")
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("status", parents=[common], help=HELP["status"],
                       description=HELP["status"])
    p.add_argument("dag_id", metavar="DAG_ID")
    p.add_argument("run_id", metavar="RUN_ID",
                   help=f"a run id, or '{LATEST}' for the DAG's newest run")
    add_wait_options(p, "ends")
    p.set_defaults(func=cmd_status)


def parse_states(values: Iterable[str] | None) -> list[str] | None:
    states = [s.strip().lower() for v in values or () for s in v.split(",") if s.strip()]
    bad = [s for s in states if s not in RUN_STATES]
    if bad:
        raise UsageError(f"unknown run state {bad[0]!r} (use {', '.join(RUN_STATES)})")
    return states or None


async def cmd_runs(ctx: Ctx) -> int:
    a = ctx.args
    states = parse_states(a.states)
    runs: list[DagRun] = []
    async with ctx.client() as client:
        try:
            while len(runs) < a.limit:
                page, total = await client.list_runs(
                    a.dag_id, limit=min(PAGE, a.limit - len(runs)), offset=len(runs),
                    states=states)
                runs.extend(page)
                if not page or len(runs) >= total:
                    break
            if not runs:  # Airflow 2 lists no runs for an unknown DAG instead of a 404
                await client.get_dag_details(a.dag_id)
        except NotFound as exc:
            raise NotFound(f"DAG '{a.dag_id}' not found ({exc.message})", status=404) from None
    if ctx.json:
        ctx.emit_json([run_json(r) for r in runs])
        return 0
    if not runs:
        ctx.note(f"no runs of {a.dag_id}" + (" in that state" if states else ""))
        return 0
    rows = [(r.run_id, r.state or "", r.run_type or "", when(r.run_after), when(r.start_date),
             duration(r.duration)) for r in runs]
    ctx.table(("RUN_ID", "STATE", "TYPE", "RUN_AFTER", "STARTED", "DURATION"), rows)
    return 0


# -- status ---------------------------------------------------------------------------------------


def task_counts(tis: Iterable[TaskInstance]) -> dict[str, int]:
    counts = Counter(t.state or "none" for t in tis)
    rank = {s: i for i, s in enumerate(STATE_ORDER)}
    return dict(sorted(counts.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def summary_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in counts.items()) or "no tasks yet"


def status_json(run: DagRun, tis: list[TaskInstance]) -> dict[str, Any]:
    return {**run_json(run), "tasks": [ti_json(t) for t in tis], "task_states": task_counts(tis)}


async def latest_run(client: Any, dag_id: str) -> DagRun:
    """The DAG's newest run (the server's own "newest first" order)."""
    try:
        runs, _ = await client.list_runs(dag_id, limit=1)
        if not runs:  # Airflow 2 lists no runs for an unknown DAG instead of a 404
            await client.get_dag_details(dag_id)
    except NotFound as exc:
        raise NotFound(f"DAG '{dag_id}' not found ({exc.message})", status=404) from None
    if not runs:
        raise CommandError(f"DAG '{dag_id}' has no runs yet")
    run: DagRun = runs[0]
    return run


async def cmd_status(ctx: Ctx) -> int:
    a = ctx.args
    if a.timeout is not None and not a.wait:
        raise UsageError("--timeout needs --wait")
    code = EXIT_OK
    async with ctx.client() as client:
        run_id = a.run_id
        if run_id == LATEST:
            run_id = (await latest_run(client, a.dag_id)).run_id
        try:
            if a.wait:
                run, code = await wait_run(ctx, client, a.dag_id, run_id,
                                           timeout=a.timeout, interval=a.interval)
            else:
                run = await client.get_run(a.dag_id, run_id)
            tis = await client.list_task_instances(a.dag_id, run_id)
        except NotFound as exc:
            raise NotFound(f"run '{run_id}' of DAG '{a.dag_id}' not found ({exc.message})",
                           status=404) from None
    tis.sort(key=lambda t: (t.start_date is None, t.start_date or 0, t.task_id, t.map_index))
    if ctx.json:
        ctx.emit_json(status_json(run, tis))
    else:
        ctx.lines(status_lines(run, tis))
    if a.wait:
        report_outcome(ctx, run, tis, code, a.timeout)
    return code


def status_lines(run: DagRun, tis: list[TaskInstance]) -> list[str]:
    pairs: list[tuple[str, Any]] = [
        ("dag", run.dag_id), ("run", run.run_id), ("state", run.state or "unknown"),
        ("type", run.run_type), ("logical date", when(run.logical_date)),
        ("run after", when(run.run_after)), ("started", when(run.start_date)),
        ("ended", when(run.end_date)), ("duration", duration(run.duration)),
        ("conf", one_line(run.conf, 200) if run.conf else ""), ("note", run.note)]
    lines = key_values([(k, v) for k, v in pairs if v not in (None, "")])
    lines.append("")
    if tis:
        rows = [(ti_label(t), t.state or "none", _tries(t), when(t.start_date),
                 duration(t.duration)) for t in tis]
        lines += render_table(("TASK", "STATE", "TRY", "STARTED", "DURATION"), rows, {0: 60})
        lines.append("")
    lines.append(f"tasks: {summary_text(task_counts(tis))}")
    return lines


def _tries(t: TaskInstance) -> str:
    if t.try_number is None:
        return ""
    return f"{t.try_number}/{t.max_tries + 1}" if t.max_tries is not None else str(t.try_number)


# -- waiting ---------------------------------------------------------------------------------------


async def wait_run(ctx: Ctx, client: Any, dag_id: str, run_id: str, *,
                   timeout: float | None, interval: float) -> tuple[DagRun, int]:
    """Poll until the run ends: (run, 0) on success, (run, 3) if it failed, (last seen, 4) on
    timeout. Transient server trouble is ridden out (see Patience); a 404 ends at once."""
    started = time.monotonic()
    progress = Progress(ctx)
    patience = Patience(ctx)
    last: DagRun | None = None
    try:
        while True:
            try:
                run = await client.get_run(dag_id, run_id)
                tis = None
                if progress.enabled and not run.finished:
                    tis = await client.list_task_instances(dag_id, run_id)
                patience.ok()
            except TRANSIENT as exc:
                patience.failed(exc)
            else:
                last = run
                if run.finished:
                    return run, EXIT_OK if run.state == "success" else EXIT_RUN_FAILED
                elapsed = time.monotonic() - started
                tasks = f" · tasks: {summary_text(task_counts(tis))}" if tis is not None else ""
                progress.show(f"{dag_id} {run_id}: {run.state} {duration(elapsed)}{tasks}")
            elapsed = time.monotonic() - started
            if timeout is not None and elapsed >= timeout:
                if last is None:
                    raise CommandError(f"timed out after {timeout:g} s: no answer about run"
                                       f" {run_id}", EXIT_TIMEOUT)
                return last, EXIT_TIMEOUT
            delay = interval if timeout is None else max(0.0, min(interval, timeout - elapsed))
            await asyncio.sleep(delay)
    finally:
        progress.clear()


def report_outcome(ctx: Ctx, run: DagRun, tis: list[TaskInstance] | None, code: int,
                   timeout: float | None) -> None:
    """One line on stderr about how a waited-for run ended (plus where to look if it failed)."""
    if code == EXIT_TIMEOUT:
        ctx.note(f"{PROG}: timeout: run {run.run_id} is still {run.state or 'pending'} after"
                 f" {timeout:g} s; it keeps going (check it with: {PROG} status"
                 f" {shlex.quote(run.dag_id)} {shlex.quote(run.run_id)})")
        return
    took = f" in {duration(run.duration)}" if run.duration is not None else ""
    if code == EXIT_OK:
        ctx.note(f"run {run.run_id}: {run.state}{took}")
        return
    failed = [t for t in tis or () if t.state == "failed"]
    names = ", ".join(f"{ti_label(t)} (try {t.try_number})" for t in failed)
    ctx.note(f"run {run.run_id}: {run.state}{took}" + (f"; failed tasks: {names}" if names else ""))
    if failed:
        t = failed[0]
        extra = f" --map-index {t.map_index}" if t.map_index >= 0 else ""
        ctx.note(f"read its log with: {PROG} logs {shlex.quote(run.dag_id)}"
                 f" {shlex.quote(run.run_id)} {shlex.quote(t.task_id)}"
                 f" --try {t.try_number}{extra}")
