"""`astro-tui profiles discover --astro`: list the Astro Deployments a token can see, and
offer to write one profile per Deployment.

    astro-tui profiles discover --astro                 the table; on a terminal, asks to write
    astro-tui profiles discover --astro --json          for scripts (never asks)
    astro-tui profiles discover --astro --write         write the new profiles without asking
    … --organization ID --workspace NAME|ID --deployment NAME|ID --prefix astro- --secret keyring

The token: ``ASTRO_API_TOKEN``, else the ``astro login`` session (read only). Profiles get
``secret = "env:ASTRO_API_TOKEN"`` unless ``--secret`` says otherwise; the token itself is never
written to the config file. The Astro code is imported only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from astro_tui.commands.base import EXIT_OK, PROG, Ctx, UsageError

if TYPE_CHECKING:
    from astro_tui.astro.platform import Deployment, Discovery
    from astro_tui.astro.profiles import PlannedProfile

HELP = "find Astro Deployments (Astro API v1) and add them as profiles"
KEYRING_DEFAULT = "keyring:astro-tui/astro-api-token"
SECRET_CHOICES = ("env (default): env:ASTRO_API_TOKEN; env:VAR: another variable; astro-cli:"
                  " run `astro auth token` each time; keyring or keyring:SERVICE/NAME: store the"
                  " token in the OS keyring (the keyring extra)")


def add_parser(psub: argparse._SubParsersAction, output: argparse.ArgumentParser) -> None:
    q = psub.add_parser(
        "discover", parents=[output], help=HELP,
        description=HELP + ". The token: ASTRO_API_TOKEN (an organization, workspace or"
        " deployment API token), else the session of `astro login`. ASTRO_API_URL overrides the"
        " API's base URL. On a terminal it asks before writing profiles; scripts pass --write.")
    q.add_argument("--astro", action="store_true",
                   help="discover through the Astro Platform API v1 (the only source so far)")
    q.add_argument("--organization", action="append", default=[], metavar="ID",
                   help="only this organization (repeatable; default: every one the token sees)")
    q.add_argument("--workspace", action="append", default=[], metavar="NAME|ID",
                   help="only Deployments of this workspace (repeatable)")
    q.add_argument("--deployment", action="append", default=[], metavar="NAME|ID",
                   help="only this Deployment (repeatable)")
    q.add_argument("--write", action="store_true",
                   help="write a profile for each new Deployment, without asking")
    q.add_argument("-y", "--yes", action="store_true", help="the same as --write")
    q.add_argument("--prefix", default="", metavar="TEXT",
                   help="put TEXT before each new profile's name (e.g. astro-)")
    q.add_argument("--secret", default="env", metavar="SRC",
                   help="what the written profiles read their token from: " + SECRET_CHOICES)
    q.set_defaults(func=cmd_discover)


def secret_source(choice: str) -> str:
    """--secret -> the profiles' secret source. Never the token itself."""
    from astro_tui.astro.profiles import DEFAULT_SECRET
    from astro_tui.config import keyring_ref

    choice = choice.strip()
    if choice in ("env", ""):
        return DEFAULT_SECRET
    if choice.startswith("env:") and choice[4:].strip():
        return "env:" + choice[4:].strip()
    if choice == "astro-cli":
        return "cmd:astro auth token"
    if choice == "keyring":
        return KEYRING_DEFAULT
    if choice.startswith("keyring:"):
        keyring_ref(choice)  # the form, checked before any request
        return choice
    raise UsageError(f"--secret {choice!r}: use " + SECRET_CHOICES)


def _matches(d: Deployment, wanted: list[str], *names: str | None) -> bool:
    lowered = {w.lower() for w in wanted}
    return not wanted or any(n and n.lower() in lowered for n in names)


def _status(d: Deployment) -> str:
    status = d.status or "UNKNOWN"
    if d.hibernating:
        status = "HIBERNATING" if status in ("HIBERNATING", "UNKNOWN") else f"{status}, hibernating"
        if d.next_event and d.next_event[0] == "WAKE":
            status += f" (wakes {d.next_event[1]})"
    return status


def _deployment_json(plan: PlannedProfile) -> dict[str, Any]:
    d = plan.deployment
    return {
        "organization_id": d.organization_id, "organization_name": d.organization_name,
        "workspace_id": d.workspace_id, "workspace_name": d.workspace_name,
        "id": d.id, "name": d.name, "status": d.status, "status_reason": d.status_reason,
        "hibernating": d.hibernating,
        "next_event": ({"type": d.next_event[0], "at": d.next_event[1]} if d.next_event
                       else None),
        "airflow_version": d.airflow_version, "runtime_version": d.runtime_version,
        "airflow_api_url": d.airflow_api_url, "url": d.root_url,
        "profile": plan.name, "profile_state": plan.state}


def _rows(plans: list[PlannedProfile], orgs: int) -> list[tuple[Any, ...]]:
    rows = []
    for p in plans:
        d = p.deployment
        state = {"new": "new", "exists": "exists", "no-url": "no URL yet"}[p.state]
        profile = f"{p.name} ({state})" if p.name else f"- ({state})"
        row: tuple[Any, ...] = (d.workspace_name or d.workspace_id or "", d.name,
                                d.airflow_version or "unknown", d.runtime_version or "",
                                _status(d), profile, d.airflow_api_url or "")
        rows.append(((d.organization_name or d.organization_id),) + row if orgs > 1 else row)
    return rows


async def cmd_discover(ctx: Ctx) -> int:
    a = ctx.args
    if not a.astro:
        raise UsageError("profiles discover: say where to look: --astro (the Astro API v1;"
                         " the only source so far)")
    from astro_tui.astro.platform import discover, find_token
    from astro_tui.astro.profiles import plan_profiles
    from astro_tui.commands.profiles import Prompter, _stdin_is_tty
    from astro_tui.config import load_config, save_config, store_keyring_secret

    secret = secret_source(a.secret)
    prefix = a.prefix.strip()
    token = find_token(ctx.env)
    ctx.extra_secrets.append(token.reveal())  # redacted from any --debug traceback
    config = load_config(env=ctx.env)  # a broken config file stops us before any request
    found = await discover(token, organization_ids=a.organization)
    deployments = [d for d in found.deployments
                   if _matches(d, a.workspace, d.workspace_id, d.workspace_name)
                   and _matches(d, a.deployment, d.id, d.name)]
    plans = plan_profiles(deployments, config.profiles, secret=secret, prefix=prefix)
    new = [p for p in plans if p.state == "new" and p.profile is not None]
    if not ctx.json:
        ctx.note(f"{PROG}: Astro API {found.api_url}, token from {found.source}")
        for note in found.notes:
            ctx.note(f"{PROG}: {note}")
    write = a.write or a.yes
    if not ctx.json:
        _print_table(ctx, found, plans)
    if new and not write and not ctx.json and _stdin_is_tty():
        names = ", ".join(str(p.name) for p in new)
        write = Prompter(ctx).yes(f"Add {len(new)} profile(s) to {config.path} ({names})?")
    written: list[str] = []
    path = config.path
    if write and new:
        if secret.startswith("keyring:"):
            store_keyring_secret(secret, token.reveal())
        for p in new:
            assert p.profile is not None and p.name is not None
            config.profiles[p.name] = p.profile
            written.append(p.name)
        path = save_config(config)
    if ctx.json:
        ctx.emit_json({
            "api_url": found.api_url, "token_source": found.source,
            "organizations": [{"id": o.id, "name": o.name, "status": o.status,
                               "product": o.product} for o in found.organizations],
            "deployments": [_deployment_json(p) for p in plans],
            "secret": secret, "written": written, "config": str(path), "notes": found.notes})
        return EXIT_OK
    _after(ctx, plans, new, written, secret, str(path))
    return EXIT_OK


def _print_table(ctx: Ctx, found: Discovery, plans: list[PlannedProfile]) -> None:
    orgs = len({p.deployment.organization_id for p in plans})
    if not plans:
        where = ", ".join(o.name or o.id for o in found.organizations) or "no organization"
        ctx.note(f"{PROG}: no Deployments found ({where})")
        return
    headers: tuple[str, ...] = ("WORKSPACE", "DEPLOYMENT", "AIRFLOW", "RUNTIME", "STATUS", "PROFILE",
               "AIRFLOW API URL")
    if orgs > 1:
        headers = ("ORGANIZATION", *headers)
    ctx.table(headers, _rows(plans, orgs))


def _after(ctx: Ctx, plans: list[PlannedProfile], new: list[PlannedProfile],
           written: list[str], secret: str, path: str) -> None:
    if written:
        ctx.print(f"added {len(written)} profile(s) to {path}: {', '.join(written)}"
                  f" (secret {secret})")
        if secret == "env:ASTRO_API_TOKEN" and "ASTRO_API_TOKEN" not in ctx.env:
            ctx.warn("these profiles read ASTRO_API_TOKEN, which is not set here: set it to an"
                     " API token, or rewrite them with --secret astro-cli (runs `astro auth"
                     " token`) or --secret keyring")
        ctx.note(f"check one with: {PROG} profiles test {written[0]}")
    elif new:
        ctx.note(f"{PROG}: {len(new)} new; to add them as profiles: {PROG} profiles discover"
                 " --astro --write")
    elif plans and not new:
        ctx.note(f"{PROG}: every Deployment found already has a profile (or no URL yet)")
