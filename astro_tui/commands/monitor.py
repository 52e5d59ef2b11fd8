"""`astro-tui failures`, `astro-tui health`, `astro-tui import-errors`: the monitor, headless.

The reads are :mod:`astro_tui.watch.inbox` (shared with the TUI); this module only prints.

Exit codes: ``failures`` and ``import-errors`` exit 0 whatever they list (a listing is not an
error; test the JSON in scripts); ``health`` exits 0 when every component is healthy,
``EXIT_UNHEALTHY`` (5) when the server answers but a component is not, and 1 when the server
cannot be reached, like every command.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from astro_tui.airflow.errors import ApiError
from astro_tui.airflow.models import DagImportError, DagRun
from astro_tui.commands.base import EXIT_ERROR, EXIT_OK, EXIT_UNHEALTHY, PROG, Ctx
from astro_tui.commands.output import positive_int, run_json, ti_json
from astro_tui.config import ConfigError, Profile
from astro_tui.present.health import health_word
from astro_tui.present.labels import ti_label
from astro_tui.present.states import state_word
from astro_tui.present.times import duration, elapsed, iso, utc_time as when
from astro_tui.text import clean
from astro_tui.watch.inbox import (
    DEFAULT_LIMIT,
    DEFAULT_SINCE,
    MAX_TASK_PAGES,
    ComponentStatus,
    HealthReport,
    Inbox,
    parse_since,
    read_failures,
    read_health,
)

T = TypeVar("T")

HELP = {
    "failures": "recent failed runs across all DAGs (with the first failed task), then running"
                " and queued runs",
    "health": "the metadatabase, scheduler, triggerer and dag-processor, and the import-error"
              " count (exit 0 healthy, 5 unhealthy, 1 unreachable)",
    "import-errors": "DAG files that fail to import, with their errors",
}


def since_arg(text: str) -> datetime:
    try:
        return parse_since(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("failures", parents=[common], help=HELP["failures"],
                       description=HELP["failures"] + ". Exits 0 even when runs failed.")
    p.add_argument("--since", type=since_arg, default=DEFAULT_SINCE, metavar="WHEN",
                   help="failed runs that ended since WHEN: 30m, 24h, 7d or an ISO 8601 time"
                        f" (default {DEFAULT_SINCE})")
    p.add_argument("--limit", type=positive_int, default=DEFAULT_LIMIT, metavar="N",
                   help=f"at most N failed runs and N running or queued runs"
                        f" (default {DEFAULT_LIMIT})")
    p.set_defaults(func=cmd_failures)

    p = sub.add_parser("health", parents=[common], help=HELP["health"],
                       description=HELP["health"] + ". A component with no status (no"
                       " triggerer, say) is n/a, not unhealthy; the metadatabase and the"
                       " scheduler must report healthy.")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("import-errors", parents=[common], help=HELP["import-errors"],
                       description=HELP["import-errors"] + ". Exits 0 even when some.")
    p.set_defaults(func=cmd_import_errors)


# -- failures -------------------------------------------------------------------------------------


def _run_elapsed(run: DagRun, now: datetime) -> float | None:
    """A running run: time since it started; a queued one: since it was queued (v2 only)."""
    if run.start_date is not None:
        return elapsed(run.start_date, run.end_date, run.duration, now)
    return elapsed(run.queued_at, None, None, now)


def inbox_json(inbox: Inbox, now: datetime, profile: str) -> dict[str, Any]:
    failed = []
    for row in inbox.failed:
        ti = row.first_failed
        task = None if ti is None else {**ti_json(ti), "label": ti_label(ti)}
        failed.append({"profile": profile, **run_json(row.run), "first_failed_task": task})
    active = [{"profile": profile, **run_json(r), "elapsed": _run_elapsed(r, now)}
              for r in inbox.active]
    return {"profile": profile, "since": iso(inbox.since), "failed": failed, "failed_total": inbox.failed_total,
            "active": active, "active_total": inbox.active_total,
            "tasks_complete": inbox.tasks_complete}


async def each_profile(ctx: Ctx, read: Callable[[Any], Awaitable[T]]
                       ) -> list[tuple[Profile, T | None, str | None]]:
    """`read(client)` on every profile at once (several with a repeated --profile or
    --all-profiles): one deployment that is down or slow delays nobody's answer but its own,
    and fails only its own entry (with its one-line error) when there are several."""
    profiles = ctx.profiles()

    async def one(profile: Profile) -> tuple[Profile, T | None, str | None]:
        sub = ctx.for_profile(profile)
        try:
            async with sub.client() as client:
                return profile, await read(client), None
        except (ApiError, ConfigError) as exc:
            if len(profiles) == 1:
                raise
            return profile, None, clean(getattr(exc, "message", None) or str(exc), 300,
                                        newline=" ")

    return list(await asyncio.gather(*(one(p) for p in profiles)))


def _problems(ctx: Ctx, results: list[tuple[Profile, Any, str | None]]) -> int:
    """One line per profile that could not be read; the exit code (1 if any)."""
    failed = [(p, error) for p, _, error in results if error is not None]
    for profile, error in failed:
        ctx.note(f"{PROG}: profile '{clean(profile.name, 60)}': {error}")
    return EXIT_ERROR if failed else EXIT_OK


async def cmd_failures(ctx: Ctx) -> int:
    a = ctx.args
    results = await each_profile(ctx, lambda client: read_failures(client, a.since, a.limit))
    now = datetime.now(timezone.utc)
    several = len(results) > 1
    read = [(p, inbox) for p, inbox, _ in results if inbox is not None]
    if ctx.json:
        if not several:
            profile, inbox = read[0]
            ctx.emit_json(inbox_json(inbox, now, profile.name))
        else:
            ctx.emit_json(fleet_inbox_json(results, now))
        return _problems(ctx, results)
    rows: list[tuple[Any, ...]] = []
    for profile, inbox in read:
        mark = (profile.name,) if several else ()
        for row in inbox.failed:
            r, ti = row.run, row.first_failed
            rows.append((*mark, r.dag_id, r.run_id, state_word(r.state), when(r.start_date),
                         duration(r.duration), "" if ti is None else ti_label(ti)))
        for r in inbox.active:
            rows.append((*mark, r.dag_id, r.run_id, state_word(r.state), when(r.start_date),
                         duration(_run_elapsed(r, now)), ""))
    if rows:
        headers: tuple[str, ...] = ("DAG", "RUN", "STATE", "STARTED", "DURATION",
                                    "FIRST_FAILED_TASK")
        widths = {0: 60, 1: 60, 5: 60}
        if several:
            headers, widths = ("PROFILE", *headers), {0: 30, 1: 60, 2: 60, 6: 60}
        ctx.table(headers, rows, widths)
    for profile, inbox in read:
        where = f" on {profile.name}" if several else ""
        since = when(inbox.since)
        if not inbox.failed:
            ctx.note(f"no failed runs since {since}{where}")
        if not inbox.active:
            ctx.note(f"nothing running or queued{where}")
        for shown, total, what in ((len(inbox.failed), inbox.failed_total,
                                    f"failed runs since {since}"),
                                   (len(inbox.active), inbox.active_total,
                                    "running or queued runs")):
            if total > shown:
                ctx.note(f"{PROG}: showing {shown} of {total} {what}{where} (--limit N shows "
                         "more)")
        if not inbox.tasks_complete:
            ctx.warn(f"more than {MAX_TASK_PAGES * 100} failed task instances in these runs"
                     f"{where}: some rows do not name their first failed task")
    return _problems(ctx, results)


def fleet_inbox_json(results: list[tuple[Profile, Inbox | None, str | None]],
                     now: datetime) -> dict[str, Any]:
    """Several profiles: the records of all, each with its profile (failed runs newest
    first), the totals summed, and how each profile fared."""
    failed: list[dict[str, Any]] = []
    active: list[dict[str, Any]] = []
    profiles: dict[str, Any] = {}
    for profile, inbox, error in results:
        if inbox is None:
            profiles[profile.name] = {"ok": False, "error": error}
            continue
        one = inbox_json(inbox, now, profile.name)
        failed += one["failed"]
        active += one["active"]
        profiles[profile.name] = {"ok": True, "error": None, "since": one["since"],
                                  "failed_total": inbox.failed_total,
                                  "active_total": inbox.active_total,
                                  "tasks_complete": inbox.tasks_complete}
    failed.sort(key=lambda r: r.get("end_date") or "", reverse=True)
    return {"failed": failed, "active": active,
            "failed_total": sum(p.get("failed_total", 0) for p in profiles.values()),
            "active_total": sum(p.get("active_total", 0) for p in profiles.values()),
            "tasks_complete": all(p.get("tasks_complete", True) for p in profiles.values()),
            "profiles": profiles}


# -- health ---------------------------------------------------------------------------------------


def component_json(c: ComponentStatus) -> dict[str, Any]:
    return {"status": c.status, "ok": c.ok, "latest_heartbeat": iso(c.latest_heartbeat),
            "heartbeat_age_seconds": c.heartbeat_age}


def health_json(report: HealthReport) -> dict[str, Any]:
    return {"healthy": report.healthy,
            "components": {c.name: component_json(c) for c in report.components},
            "import_errors": report.import_errors}


def _problem(c: ComponentStatus) -> str:
    beat = f", last heartbeat {duration(c.heartbeat_age)} ago" if c.heartbeat_age is not None \
        else ""
    return f"{c.name} {'has no status' if c.status is None else health_word(c.status)}{beat}"


async def cmd_health(ctx: Ctx) -> int:
    results = await each_profile(ctx, read_health)
    several = len(results) > 1
    reports = [(p, r) for p, r, _ in results if r is not None]
    if ctx.json:
        if not several:
            ctx.emit_json({"profile": reports[0][0].name, **health_json(reports[0][1])})
        else:
            ctx.emit_json({
                "healthy": all(r.healthy for _, r in reports) and len(reports) == len(results),
                "profiles": {p.name: ({"ok": True, "error": None, **health_json(r)}
                                      if r is not None else {"ok": False, "error": error})
                             for p, r, error in results}})
    else:
        mark = (lambda p: (p.name,)) if several else (lambda p: ())
        rows = [(*mark(p), c.name, health_word(c.status), when(c.latest_heartbeat),
                 duration(c.heartbeat_age)) for p, report in reports for c in report.components]
        headers = ("COMPONENT", "STATUS", "LAST_HEARTBEAT", "AGE")
        ctx.table(("PROFILE", *headers) if several else headers, rows)
        ctx.print("")
        for profile, report in reports:
            count = "unknown" if report.import_errors is None else str(report.import_errors)
            ctx.print(f"import errors: {count}" + (f" ({profile.name})" if several else ""))
    for profile, report in reports:
        if report.import_errors_problem:
            where = f" on {profile.name}" if several else ""
            ctx.warn(f"cannot count import errors{where}: {report.import_errors_problem}")
    code = _problems(ctx, results)
    for profile, report in reports:
        if not report.healthy:
            where = f" ({profile.name})" if several else ""
            ctx.note(f"{PROG}: unhealthy{where}: "
                     + "; ".join(_problem(c) for c in report.unhealthy))
    if code != EXIT_OK:
        return code
    return EXIT_OK if all(r.healthy for _, r in reports) else EXIT_UNHEALTHY


# -- import errors --------------------------------------------------------------------------------


def import_error_json(e: DagImportError) -> dict[str, Any]:
    return {"import_error_id": e.import_error_id, "filename": e.filename,
            "bundle_name": e.bundle_name, "timestamp": iso(e.timestamp),
            "stack_trace": e.stack_trace}


def import_error_lines(e: DagImportError) -> list[str]:
    """The file, when and where, then its stack trace indented: every part sanitized."""
    about = ", ".join(x for x in (when(e.timestamp), clean(e.bundle_name or "", newline=" "))
                      if x)
    head = clean(e.filename or "(unknown file)", newline=" ") + (f"  ({about})" if about else "")
    trace = clean(e.stack_trace or "", newline="\n").rstrip("\n")
    return [head, *("    " + line for line in trace.split("\n") if trace)]


async def cmd_import_errors(ctx: Ctx) -> int:
    async with ctx.client() as client:
        errors = await client.list_import_errors()
    errors.sort(key=lambda e: (e.filename or "", e.import_error_id or 0))
    if ctx.json:
        ctx.emit_json([import_error_json(e) for e in errors])
        return EXIT_OK
    if not errors:
        ctx.note("no import errors")
        return EXIT_OK
    for i, e in enumerate(errors):
        if i:
            ctx.print("")
        ctx.lines(import_error_lines(e))
    ctx.note(f"{len(errors)} file{'s' if len(errors) != 1 else ''} with import errors")
    return EXIT_OK
