"""`astro-tui dags`, `pause DAG_ID`, `unpause DAG_ID`."""

from __future__ import annotations

import argparse
from typing import Any

from astro_tui.airflow.errors import Forbidden, NotFound
from astro_tui.airflow.models import DagRun
from astro_tui.commands.base import PROG, Ctx
from astro_tui.commands.output import dag_json
from astro_tui.present.states import state_word
from astro_tui.present.times import iso, utc_time as when
from astro_tui.text import clean
from astro_tui.watch.lastrun import CLI_CAP, last_runs

HELP = {
    "dags": "list DAGs (table, or --json)",
    "pause": "pause a DAG: the scheduler stops creating its runs",
    "unpause": "unpause a DAG: queued and due runs start",
}


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("dags", parents=[common], help=HELP["dags"], description=HELP["dags"])
    p.add_argument("--pattern", metavar="P", help="only DAG ids containing P")
    p.add_argument("--tag", metavar="T", action="append", dest="tags",
                   help="only DAGs with tag T (repeat for any of several tags)")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--paused", dest="paused", action="store_const", const=True,
                       help="only paused DAGs")
    state.add_argument("--active", dest="paused", action="store_const", const=False,
                       help="only unpaused DAGs")
    p.add_argument("--max-reads", metavar="N", type=int, default=CLI_CAP,
                   help="DAGs whose last run is older than the deployment's newest 1,000 runs"
                   f" are read one request each, at most N of them (default {CLI_CAP})")
    p.set_defaults(func=cmd_dags, paused=None)

    for name in ("pause", "unpause"):
        p = sub.add_parser(name, parents=[common], help=HELP[name], description=HELP[name])
        p.add_argument("dag_id", metavar="DAG_ID")
        p.set_defaults(func=cmd_pause, pause=name == "pause")


def last_run_json(run: DagRun | None, state: str | None, known: bool) -> dict[str, Any]:
    """The keys `dags --json` adds to each DAG: its last run (null: never ran, or not read)."""
    return {
        "last_run_state": run.state if run is not None else state,
        # false: older than the runs read and not read on its own (the state may still be
        # known, from Airflow 3's last-run filter)
        "last_run_known": known,
        "last_run": None if run is None else {
            "run_id": run.run_id, "state": run.state, "run_type": run.run_type,
            "logical_date": iso(run.logical_date), "run_after": iso(run.run_after),
            "start_date": iso(run.start_date), "end_date": iso(run.end_date)},
    }


async def cmd_dags(ctx: Ctx) -> int:
    a = ctx.args
    async with ctx.client() as client:
        dags = await client.list_dags(pattern=a.pattern, tags=a.tags, paused=a.paused)
        found = None
        try:
            if dags:
                found = await last_runs(client, dags, cap=max(0, a.max_reads),
                                        pattern=a.pattern, tags=a.tags, paused=a.paused)
        except Forbidden as exc:  # may list DAGs, not read their runs: the list still helps
            ctx.warn(f"the last runs could not be read ({exc})")
    dags.sort(key=lambda d: d.dag_id)
    latest = found.cache.latest if found else {}
    unknown = found.cache.unknown if found else {d.dag_id: None for d in dags}
    if found is not None and found.unread:
        ctx.note(f"{PROG}: the last run of {found.unread} DAGs is older than the newest runs"
                 f" read and was not read (at most {max(0, a.max_reads)} DAGs are read one by"
                 " one): narrow the list with --pattern or --tag, or raise --max-reads")
    if ctx.json:
        ctx.emit_json([{**dag_json(d), **last_run_json(latest.get(d.dag_id),
                                                        unknown.get(d.dag_id),
                                                        d.dag_id not in unknown)}
                       for d in dags])
        return 0
    if not dags:
        ctx.note("no DAGs match")
        return 0
    rows = []
    for d in dags:
        run = latest.get(d.dag_id)
        if run is not None:
            last = (state_word(run.state), run.run_id,
                    when(run.start_date or run.logical_date or run.run_after))
        elif d.dag_id in unknown:  # not read: "?" (or the state the server's filter told)
            last = (unknown[d.dag_id] or "?", "?", "")
        else:
            last = ("never", "", "")
        rows.append((d.dag_id, "yes" if d.is_paused else "no" if d.is_paused is False else "?",
                     d.schedule or "", ", ".join(d.tags), ", ".join(d.owners), when(d.next_run),
                     *last))
    ctx.table(("DAG_ID", "PAUSED", "SCHEDULE", "TAGS", "OWNERS", "NEXT_RUN", "LAST_RUN",
               "LAST_RUN_ID", "LAST_RUN_AT"), rows, {2: 40, 3: 40, 4: 30, 7: 60})
    return 0


async def cmd_pause(ctx: Ctx) -> int:
    a = ctx.args
    verb = "pause" if a.pause else "unpause"
    ctx.require_writable(verb)
    async with ctx.client() as client:
        try:
            dag = await client.set_paused(a.dag_id, a.pause)
        except NotFound as exc:
            raise NotFound(f"DAG '{a.dag_id}' not found ({exc.message})", status=404) from None
    if ctx.json:
        ctx.emit_json(dag_json(dag))
    else:
        ctx.print(clean(f"{dag.dag_id or a.dag_id} {verb}d", newline=" "))
    return 0
