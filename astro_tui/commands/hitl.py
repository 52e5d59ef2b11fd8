"""`astro-tui hitl list` and `astro-tui hitl respond`: human-in-the-loop requests (Airflow 3.1+).

A HITL task (``HITLOperator``, ``ApprovalOperator``, …) asks a person to pick options and maybe
fill params, then waits: ``deferred`` on 3.1/3.2, ``awaiting_input`` from 3.3. ``list`` shows the
pending requests of every DAG; ``respond`` answers one. On servers without HITL (Airflow 2, 3.0)
``list`` shows none (exit 0) and ``respond`` is a usage error (exit 2).

Before answering, ``respond`` reads the request and checks the options and params against it:
Airflow 3.1/3.2 accept any answer and the task then fails on it.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from astro_tui.airflow.errors import Conflict, Forbidden, Invalid, NotFound, Unsupported
from astro_tui.airflow.models import HitlDetail, HitlResponse, HitlUser
from astro_tui.commands.base import EXIT_OK, PROG, CommandError, Ctx, UsageError
from astro_tui.commands.output import positive_int
from astro_tui.conf import check_conf, parse_conf
from astro_tui.present.labels import task_label
from astro_tui.present.times import iso, utc_time as when
from astro_tui.text import clean

HELP = "list or answer human-in-the-loop requests (Airflow 3.1+)"
HELP_LIST = "the requests waiting for a person, across all DAGs"
HELP_RESPOND = "answer a request: pick its option(s), optionally with params"
EPILOG_RESPOND = """examples:
  astro-tui hitl respond my_dag manual__2026-01-31T10:00:00+00:00 approve --option Approve
  astro-tui hitl respond my_dag RUN pick --option a --option b --params '{"note": "ok"}'

exit codes: 0 answered, 1 refused by the server (already answered, not an assigned user,
invalid answer) or unreachable, 2 usage error (also: the server has no human-in-the-loop).
"""
PAGE = 100


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("hitl", help=HELP, description=HELP)
    hsub = p.add_subparsers(dest="hitl_command", metavar="{list,respond}", required=True)

    q = hsub.add_parser("list", parents=[common], help=HELP_LIST, description=HELP_LIST)
    q.add_argument("--all", action="store_true",
                   help="also requests already answered or no longer waiting")
    q.add_argument("--limit", type=positive_int, default=PAGE, metavar="N",
                   help=f"at most N requests (default {PAGE})")
    q.set_defaults(func=cmd_list)

    q = hsub.add_parser("respond", parents=[common], help=HELP_RESPOND, description=HELP_RESPOND,
                        epilog=EPILOG_RESPOND, formatter_class=argparse.RawDescriptionHelpFormatter)
    q.add_argument("dag_id", metavar="DAG_ID")
    q.add_argument("run_id", metavar="RUN_ID")
    q.add_argument("task_id", metavar="TASK_ID")
    q.add_argument("--map-index", type=int, default=-1, metavar="N",
                   help="the mapped instance (default: -1, an unmapped task)")
    q.add_argument("--option", action="append", dest="options", required=True, metavar="OPT",
                   help="a chosen option, exactly as offered (repeat to choose several)")
    q.add_argument("--params", metavar="JSON",
                   help="values of the request's params, a JSON object (others keep their"
                        " defaults)")
    q.set_defaults(func=cmd_respond)


# -- JSON shapes ------------------------------------------------------------------------------------


def _user_json(user: HitlUser | None) -> dict[str, str] | None:
    return None if user is None else {"id": user.id, "name": user.name}


def hitl_json(h: HitlDetail) -> dict[str, Any]:
    ti = h.task_instance
    return {
        "dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id,
        "map_index": ti.map_index, "task_display_name": ti.task_display_name,
        "state": ti.state, "subject": h.subject, "body": h.body, "options": list(h.options),
        "multiple": h.multiple, "defaults": None if h.defaults is None else list(h.defaults),
        "params": {name: {"value": spec.value, "description": spec.description,
                          "schema": spec.schema} for name, spec in h.params.items()},
        "assigned_users": [_user_json(u) for u in h.assigned_users],
        "created_at": iso(h.created_at), "response_received": h.response_received,
        "responded_by": _user_json(h.responded_by), "responded_at": iso(h.responded_at),
        "chosen_options": None if h.chosen_options is None else list(h.chosen_options),
        "params_input": dict(h.params_input),
    }


def response_json(dag_id: str, run_id: str, task_id: str, map_index: int,
                  r: HitlResponse) -> dict[str, Any]:
    return {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index,
            "chosen_options": list(r.chosen_options), "params_input": dict(r.params_input),
            "responded_by": _user_json(r.responded_by), "responded_at": iso(r.responded_at)}


# -- list -------------------------------------------------------------------------------------------


async def cmd_list(ctx: Ctx) -> int:
    a = ctx.args
    found: list[HitlDetail] = []
    async with ctx.client() as client:
        supported, version = client.has_hitl, str(client.version)
        while supported and len(found) < a.limit:
            page, total = await client.list_hitl(
                pending=not a.all, limit=min(PAGE, a.limit - len(found)), offset=len(found))
            found.extend(page)
            if not page or len(found) >= total:
                break
    found.sort(key=lambda h: (h.created_at is None, h.created_at or 0, h.key))
    if ctx.json:
        ctx.emit_json([hitl_json(h) for h in found])
        return EXIT_OK
    if not found:
        why = "" if supported else f" (human-in-the-loop needs Airflow 3.1+; the server runs {version})"
        ctx.note(("no requests" if a.all else "no requests waiting for a person") + why)
        return EXIT_OK
    rows: list[tuple[str, ...]] = [(h.task_instance.dag_id, h.task_instance.run_id,
             task_label(h.task_instance.task_id, h.task_instance.map_index),
             h.subject, " / ".join(h.options) + (" (several)" if h.multiple else ""),
             ", ".join(u.name or u.id for u in h.assigned_users) or "anyone",
             when(h.created_at), h.body or "")
            for h in found]
    headers = ["DAG_ID", "RUN_ID", "TASK", "SUBJECT", "OPTIONS", "ASSIGNED", "CREATED", "BODY"]
    shift = 0
    if a.all:
        headers.insert(3, "ANSWER")
        rows = [(*row[:3], _answer(h), *row[3:]) for row, h in zip(rows, found, strict=True)]
        shift = 1
    ctx.table(headers, rows, {3 + shift: 50, 4 + shift: 40, 5 + shift: 30, 7 + shift: 50})
    return EXIT_OK


def _answer(h: HitlDetail) -> str:
    if not h.response_received:
        return "waiting" if h.task_instance.state in ("deferred", "awaiting_input") else "none"
    return " / ".join(h.chosen_options or ()) or "answered"


# -- respond ----------------------------------------------------------------------------------------


def _params_input(text: str | None, detail: HitlDetail, ctx: Ctx) -> dict[str, Any]:
    """What to send as ``params_input``: the defaults of the request's params, overridden by
    --params. The operator fails the task on a key it did not ask for, so those are refused."""
    given: dict[str, Any] = {}
    if text is not None:
        parsed, error = parse_conf(text)
        if error is not None:
            raise UsageError(f"--params: {error}")
        given = parsed or {}
    unknown = sorted(set(given) - set(detail.params))
    if unknown:
        asked = ", ".join(sorted(detail.params)) or "none"
        raise UsageError(f"--params: the request has no param {clean(unknown[0], 60, newline=' ')!r}"
                         f" (its params: {clean(asked, 200, newline=' ')})")
    values = {name: spec.value for name, spec in detail.params.items()}
    values.update(given)
    for problem in check_conf(values, detail.params, airflow=3):  # human-in-the-loop: Airflow 3.1+
        ctx.warn(f"--params: {problem} (the server has the last word)")
    return values


def _check_options(chosen: list[str], detail: HitlDetail) -> None:
    offered = ", ".join(repr(o) for o in detail.options)
    bad = [o for o in chosen if o not in detail.options]
    if bad:
        raise UsageError(clean(f"option {bad[0]!r} is not offered (choose from {offered})",
                               300, newline=" "))
    if len(set(chosen)) > 1 and not detail.multiple:
        raise UsageError(clean(f"this request takes one option, not {len(set(chosen))}"
                               f" (choose one of {offered})", 300, newline=" "))


def _where(dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    return f"{dag_id} {run_id} {task_label(task_id, map_index)}"


def _answered_by(detail: HitlDetail) -> str:
    who = detail.responded_by.name if detail.responded_by else None
    by = f" by {who}" if who else ""
    at = f" at {when(detail.responded_at)}" if detail.responded_at else ""
    chosen = " / ".join(detail.chosen_options or ())
    return f"{by}{at}" + (f": {chosen}" if chosen else "")


async def cmd_respond(ctx: Ctx) -> int:
    a = ctx.args
    dag_id, run_id, task_id, map_index = a.dag_id, a.run_id, a.task_id, a.map_index
    chosen = list(dict.fromkeys(a.options))  # the same option twice is one choice
    where = _where(dag_id, run_id, task_id, map_index)
    ctx.require_writable("respond to a human-in-the-loop request")
    async with ctx.client() as client:
        if not client.has_hitl:
            raise UsageError(f"human-in-the-loop needs Airflow 3.1 or later; the server runs"
                             f" {client.version}")
        try:
            detail = await client.get_hitl(dag_id, run_id, task_id, map_index)
        except NotFound:
            raise CommandError(f"no human-in-the-loop request for {where}"
                               f" (list them with: {PROG} hitl list)") from None
        if detail.response_received:
            raise CommandError(f"already answered{_answered_by(detail)}: {where}")
        _check_options(chosen, detail)
        params_input = _params_input(a.params, detail, ctx)
        try:
            response = await client.respond_hitl(dag_id, run_id, task_id, map_index, chosen,
                                                 params_input)
        except Unsupported as exc:
            raise UsageError(exc.message) from None
        except Conflict as exc:
            raise CommandError(f"already answered: {where} ({exc.message})") from None
        except Forbidden as exc:
            raise CommandError(f"not allowed to answer {where}: you are not one of its"
                               f" assigned users, or your role cannot answer ({exc.message})"
                               ) from None
        except Invalid as exc:
            raise CommandError(f"the server refused the answer to {where}: {exc.message}"
                               ) from None
        except NotFound as exc:
            raise CommandError(f"no human-in-the-loop request for {where} ({exc.message})"
                               ) from None
    if ctx.json:
        ctx.emit_json(response_json(dag_id, run_id, task_id, map_index, response))
        return EXIT_OK
    answer = " / ".join(response.chosen_options or chosen)
    ctx.print(clean(f"answered {where}: {answer}", newline=" "))
    ctx.note(f"follow the run with: {PROG} status {shlex.quote(dag_id)} {shlex.quote(run_id)}")
    return EXIT_OK
