"""`astro-tui trigger DAG_ID [--conf JSON | --conf-file PATH|-] [--wait] …`

Prints the new run id on stdout (only that, so ``RUN=$(astro-tui trigger my_dag)`` works).
With ``--wait`` it polls until the run ends: exit 0 on success, 3 if it failed, 4 on timeout.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from astro_tui.airflow.errors import ApiError, NotFound, Timeout, Unauthorized, Unreachable
from astro_tui.airflow.models import DagDetails
from astro_tui.commands.base import EXIT_OK, EXIT_RUN_FAILED, PROG, Ctx, UsageError
from astro_tui.commands.output import run_json
from astro_tui.commands.runs import add_wait_options, report_outcome, status_json, wait_run
from astro_tui.conf import blocking, check_conf, parse_conf, parse_logical_date
from astro_tui.text import clean

HELP = "trigger a DAG run (optionally with a conf) and print its run id"
EPILOG = """examples:
  astro-tui trigger my_dag --conf '{"date": "2026-01-31"}' --wait --timeout 3600
  astro-tui trigger my_dag --conf-file conf.json --note "nightly backfill"
  echo '{"n": 3}' | astro-tui trigger my_dag --conf-file - --json
"""


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("trigger", parents=[common], help=HELP, description=HELP, epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dag_id", metavar="DAG_ID")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--conf", metavar="JSON", help="the run's conf: a JSON object")
    source.add_argument("--conf-file", metavar="PATH",
                        help="read the conf (a JSON object) from PATH, or from stdin with '-'")
    p.add_argument("--logical-date", metavar="ISO",
                   help="logical date, ISO 8601 (no offset means UTC; default: now)")
    p.add_argument("--run-id", metavar="ID", help="the run id (default: the server picks one)")
    p.add_argument("--note", metavar="TEXT", help="a note on the run")
    p.add_argument("--unpause", action="store_true",
                   help="unpause the DAG first if it is paused (a paused DAG's run stays queued)")
    p.add_argument("--no-validate", action="store_true",
                   help="send the conf even if it breaks the DAG's params (as the API reports "
                        "them): for servers whose params differ")
    add_wait_options(p, "finishes")
    p.set_defaults(func=cmd_trigger)


def read_conf(a: argparse.Namespace) -> dict[str, Any] | None:
    """The conf from --conf or --conf-file (None when neither is given). Bad JSON is a usage
    error with its line and column."""
    if a.conf is not None:
        text, where = a.conf, "--conf"
    elif a.conf_file is not None:
        where = f"--conf-file {a.conf_file}"
        if a.conf_file == "-":
            text = sys.stdin.read()
        else:
            path = Path(a.conf_file).expanduser()
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"conf file {path} is not UTF-8 text") from None
            except OSError as exc:
                raise UsageError(f"cannot read conf file {path}: {exc.strerror or exc}") from None
    else:
        return None
    conf, error = parse_conf(text)
    if error is not None:
        raise UsageError(f"{where}: {error}")
    return conf


async def dag_details(client: Any, dag_id: str) -> DagDetails | None:
    """The DAG's details for the pre-trigger checks; None if they cannot be had (the trigger
    itself then has the last word). An unknown DAG ends the command here."""
    try:
        return await client.get_dag_details(dag_id)
    except NotFound as exc:
        raise NotFound(f"DAG '{dag_id}' not found ({exc.message})", status=404) from None
    except (Unauthorized, Unreachable, Timeout):
        raise
    except ApiError:
        return None


def check_params(ctx: Ctx, conf: dict[str, Any], details: DagDetails,
                 airflow: tuple[int, ...]) -> None:
    """Airflow's own params check (astro_tui.conf), before any write: a conf the server would
    refuse is a usage error naming each param and rule, unless --no-validate."""
    problems = check_conf(conf, details.params, airflow=airflow)
    for problem in problems:
        if problem.advisory:
            ctx.warn(f"conf: {problem}")
    refused = blocking(problems)
    if not refused:
        return
    if ctx.args.no_validate:
        for problem in refused:
            ctx.warn(f"conf: {problem} (sent anyway: --no-validate)")
        return
    for problem in refused[:-1]:
        ctx.note(f"{PROG}: conf: {problem}")
    more = "" if len(refused) == 1 else f" ({len(refused)} params)"
    raise UsageError(f"conf: {refused[-1]}; the server would refuse this conf{more}, so nothing "
                     f"was sent (--no-validate sends it anyway)")


async def cmd_trigger(ctx: Ctx) -> int:
    a = ctx.args
    if a.timeout is not None and not a.wait:
        raise UsageError("--timeout needs --wait")
    conf = read_conf(a)
    try:
        logical_date = parse_logical_date(a.logical_date or "")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    ctx.require_writable("trigger")
    dag_id = a.dag_id
    async with ctx.client() as client:
        details = await dag_details(client, dag_id)
        if details is None:
            if conf and not a.no_validate:
                ctx.warn("the DAG's params could not be read: the conf is not checked before "
                         "sending (the server checks it)")
        else:
            check_params(ctx, conf or {}, details, client.version.as_tuple)
            if details.is_paused and a.unpause:
                await client.set_paused(dag_id, False)
                ctx.note(f"unpaused {dag_id}")
            elif details.is_paused:
                ctx.warn(f"DAG {dag_id} is paused: the run stays queued until it is unpaused"
                         f" (pass --unpause, or run: {PROG} unpause {shlex.quote(dag_id)})")
        run = await client.trigger(dag_id, conf, logical_date=logical_date, run_id=a.run_id,
                                   note=a.note)
        ctx.interrupt_note = f"run {run.run_id} was triggered and keeps going"
        if not ctx.json:
            ctx.print(clean(run.run_id, newline=" ") if ctx.out_tty else run.run_id, flush=True)
        if not a.wait:
            if ctx.json:
                ctx.emit_json(run_json(run))
            return EXIT_OK
        final, code = await wait_run(ctx, client, dag_id, run.run_id, timeout=a.timeout,
                                     interval=a.interval)
        tis = None
        if code == EXIT_RUN_FAILED or ctx.json:
            try:
                tis = await client.list_task_instances(dag_id, run.run_id)
            except ApiError:
                tis = None
    if ctx.json:
        ctx.emit_json(status_json(final, tis or []))
    report_outcome(ctx, final, tis, code, a.timeout)
    return code
