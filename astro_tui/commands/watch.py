"""`astro-tui watch`: wait for a run to end, or print every new failure, through the Watcher.

    astro-tui watch DAG_ID RUN_ID|latest   one line per state change; exit 0 success, 3 failed,
                                          4 --timeout
    astro-tui watch --failures            runs until stopped; one line per run that newly
                                          fails anywhere in the deployment (--all: every run
                                          that ends). A cron-free alerting loop; the profile's
                                          `notify_command` hears of each too.

Both use the same Watcher as the TUI (plain asyncio): its polls, backoff and recovery, and its
"runs changed since" poll for the failures. Runs over before watching began are never printed.
`--json` prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from astro_tui.airflow.errors import ApiError, NotFound
from astro_tui.airflow.models import DagRun
from astro_tui.commands.base import (
    EXIT_OK,
    EXIT_RUN_FAILED,
    EXIT_TIMEOUT,
    PROG,
    CommandError,
    Ctx,
    UsageError,
)
from astro_tui.commands.output import dumps, run_json, seconds_arg
from astro_tui.commands.runs import report_outcome
from astro_tui.config import Profile
from astro_tui.notify import Alert, Limiter
from astro_tui.present.errors import error_line
from astro_tui.present.states import run_is_active, state_word
from astro_tui.present.times import iso
from astro_tui.text import clean
from astro_tui.watch.alerts import Alerts
from astro_tui.watch.events import DagList, DagsChanged, Event, PollFailed, RunsChanged, RunsOf
from astro_tui.watch.settings import Settings
from astro_tui.watch.watcher import Watcher

HELP = ("wait for a run to end (one line per state change), or with --failures print every run"
        " that newly fails")


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("watch", parents=[common], help=HELP, description=(
        f"{HELP}. `watch DAG_ID RUN_ID|latest` exits 0 when the run succeeds, 3 when it fails,"
        " 4 on --timeout. `watch --failures` runs until stopped (Ctrl-C)."))
    p.add_argument("dag_id", nargs="?", help="the DAG of the run to wait for")
    p.add_argument("run_id", nargs="?", help="the run to wait for, or `latest` (its newest run)")
    p.add_argument("--failures", action="store_true",
                   help="print every run that newly fails anywhere, until stopped")
    p.add_argument("--all", action="store_true", dest="all_ends",
                   help="with --failures: every run that ends, not only failures")
    p.add_argument("--timeout", type=seconds_arg, default=None, metavar="S",
                   help="stop after S seconds (a run still going: exit 4)")
    p.add_argument("--interval", type=seconds_arg, default=None, metavar="S",
                   help="seconds between polls (default: the profile's poll_seconds)")
    p.set_defaults(func=cmd_watch)


def _watcher(ctx: Ctx) -> Watcher:
    from astro_tui import session  # looked up at call time: tests replace open_client

    profile = ctx.profile
    seconds = ctx.args.interval or profile.poll_seconds
    return Watcher(lambda: session.open_client(profile), Settings.from_poll_seconds(seconds))


async def cmd_watch(ctx: Ctx) -> int:
    a = ctx.args
    if a.failures:
        if a.dag_id or a.run_id:
            raise UsageError("watch --failures takes no DAG or run")
        return await _watch_failures(ctx)
    if a.all_ends:
        raise UsageError("--all goes with --failures")
    if not a.dag_id or not a.run_id:
        raise UsageError("watch needs DAG_ID and RUN_ID (or `latest`), or --failures")
    return await _watch_run(ctx, a.dag_id, a.run_id, a.timeout)


# -- one run ---------------------------------------------------------------------------------------


class _RunWatch:
    """Follows one run through its DAG's runs feed; `done` is set when it ends (or fails)."""

    def __init__(self, ctx: Ctx, dag_id: str, run_id: str) -> None:
        self.ctx = ctx
        self.dag_id = dag_id
        self.wanted = run_id
        self.run: DagRun | None = None
        self.error: BaseException | None = None
        self.done = asyncio.Event()
        self._said_trouble = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunsChanged):
            self._runs(event.runs)
        elif isinstance(event, PollFailed) and event.kind in ("runs", "connect"):
            self._failed(event.error)

    def _runs(self, runs: Any) -> None:
        if self._said_trouble:
            self._said_trouble = False
            self.ctx.note(f"{PROG}: the server answers again")
        if self.wanted == "latest":
            if not runs:
                self.error = CommandError(f"DAG {self.dag_id} has no runs yet")
                self.done.set()
                return
            self.wanted = runs[0].run_id
        run = next((r for r in runs if r.run_id == self.wanted), None)
        if run is None:
            self.error = CommandError(f"run {self.wanted} of DAG {self.dag_id} is not among its"
                                      f" {len(runs)} newest runs")
            self.done.set()
            return
        if self.run is None or run.state != self.run.state:
            self._print(run)
        self.run = run
        if not run_is_active(run.state):
            self.done.set()

    def _print(self, run: DagRun) -> None:
        now = datetime.now(timezone.utc)
        if self.ctx.json:
            self.ctx.print(dumps({"time": iso(now), **run_json(run)}), flush=True)
        else:
            self.ctx.print(f"{iso(now)}  {clean(run.dag_id, newline=' ')}  "
                           f"{clean(run.run_id, newline=' ')}  {clean(state_word(run.state), newline=' ')}",
                           flush=True)

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, NotFound) or (isinstance(error, ApiError) and error.status in
                                           (401, 403)):
            self.error = error
            self.done.set()
        elif not self._said_trouble:
            self._said_trouble = True
            self.ctx.note(f"{PROG}: {error_line(error)}; retrying")


async def _watch_run(ctx: Ctx, dag_id: str, run_id: str, timeout: float | None) -> int:
    watcher = _watcher(ctx)
    watch = _RunWatch(ctx, dag_id, run_id)
    watcher.start()
    sub = watcher.subscribe(RunsOf(dag_id), watch)
    unlisten = watcher.listen(watch)
    ctx.interrupt_note = "the run keeps going"
    started = time.monotonic()
    try:
        try:
            await asyncio.wait_for(watch.done.wait(), timeout)
        except TimeoutError:
            pass
        if watch.error is not None:
            raise watch.error
        run = watch.run
        if run is None:
            raise CommandError(f"timed out after {timeout:g} s: no answer about run {run_id}",
                               EXIT_TIMEOUT)
        if run_is_active(run.state):
            code = EXIT_TIMEOUT
        else:
            code = EXIT_OK if run.state == "success" else EXIT_RUN_FAILED
        tis = None
        client = watcher.client
        if code == EXIT_RUN_FAILED and client is not None:
            try:
                tis = await client.list_task_instances(dag_id, run.run_id)
            except ApiError:
                tis = None
        if not ctx.json:
            report_outcome(ctx, run, tis, code, timeout or time.monotonic() - started)
        return code
    finally:
        unlisten()
        sub.close()
        await watcher.aclose()


# -- every new failure -----------------------------------------------------------------------------


async def _watch_failures(ctx: Ctx) -> int:
    """Every profile watched (several with a repeated --profile or --all-profiles): one Watcher
    each, so one deployment that is down delays no other's lines; each line names its
    profile when there are several (the JSON always does)."""
    profiles = ctx.profiles()
    stops = [_watch_one(ctx.for_profile(p), p, several=len(profiles) > 1) for p in profiles]
    try:
        if ctx.args.timeout is not None:
            await asyncio.sleep(ctx.args.timeout)
        else:
            await asyncio.Event().wait()  # until interrupted
    finally:
        await asyncio.gather(*(stop() for stop in stops))
    return EXIT_OK


def _watch_one(ctx: Ctx, profile: Profile, several: bool) -> Callable[[], Awaitable[None]]:
    a = ctx.args
    watcher = _watcher(ctx)
    where = f"{clean(profile.name, 40, newline=' ')}  " if several else ""

    def printed(alerts: list[Alert]) -> None:
        for alert in alerts:
            run = alert.run
            if run is None:
                continue
            if ctx.json:
                ctx.print(dumps({"event": "ended", "profile": profile.name, **run_json(run)}),
                          flush=True)
            else:
                end = iso(run.end_date) if run.end_date else iso(datetime.now(timezone.utc))
                ctx.print(f"{end}  {where}{clean(state_word(run.state), newline=' ')}  "
                          f"{clean(run.dag_id, newline=' ')}  {clean(run.run_id, newline=' ')}",
                          flush=True)

    def trouble(event: Event) -> None:
        if isinstance(event, PollFailed) and event.kind in ("connect", "changes"):
            on = f" ({clean(profile.name, 40)})" if several else ""
            ctx.note(f"{PROG}: {error_line(event.error)}{on}; retrying")

    # Every line is printed (no rate limit); the notify_command hook hears of each too.
    alerts = Alerts(watcher, printed, mode="all" if a.all_ends else "failures",
                    command=profile.notify_command, profile=profile.name,
                    limiter=Limiter(burst=1_000_000, window=1.0),
                    on_hook_error=lambda text: ctx.warn(text))
    watcher.start()
    alerts.start()
    unlisten = watcher.listen(trouble)
    what = "run that ends" if a.all_ends else "run that newly fails"
    said: list[bool] = []

    def listed(event: Event) -> None:
        if isinstance(event, DagsChanged) and not event.partial and not said:  # from now on
            said.append(True)
            ctx.note(f"watching {clean(profile.name, 60)}: one line per {what} (Ctrl-C to stop)")

    sub = watcher.subscribe(DagList(), listed)  # its "changes" poll sees every run

    async def stop() -> None:
        unlisten()
        sub.close()
        await alerts.aclose()
        await watcher.aclose()

    return stop
