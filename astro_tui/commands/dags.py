"""`astro-tui dags`, `pause DAG_ID`, `unpause DAG_ID`."""

from __future__ import annotations

import argparse

from astro_tui.airflow.errors import NotFound
from astro_tui.commands.base import Ctx
from astro_tui.commands.output import dag_json
from astro_tui.present.times import utc_time as when
from astro_tui.text import clean

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
    p.set_defaults(func=cmd_dags, paused=None)

    for name in ("pause", "unpause"):
        p = sub.add_parser(name, parents=[common], help=HELP[name], description=HELP[name])
        p.add_argument("dag_id", metavar="DAG_ID")
        p.set_defaults(func=cmd_pause, pause=name == "pause")


async def cmd_dags(ctx: Ctx) -> int:
    a = ctx.args
    async with ctx.client() as client:
        dags = await client.list_dags(pattern=a.pattern, tags=a.tags, paused=a.paused)
    dags.sort(key=lambda d: d.dag_id)
    if ctx.json:
        ctx.emit_json([dag_json(d) for d in dags])
        return 0
    if not dags:
        ctx.note("no DAGs match")
        return 0
    rows = [(d.dag_id, "yes" if d.is_paused else "no" if d.is_paused is False else "?",
             d.schedule or "", ", ".join(d.tags), ", ".join(d.owners), when(d.next_run))
            for d in dags]
    ctx.table(("DAG_ID", "PAUSED", "SCHEDULE", "TAGS", "OWNERS", "NEXT_RUN"), rows,
              {2: 40, 3: 40, 4: 30})
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
