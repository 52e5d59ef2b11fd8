"""`astro-tui profiles list | add | remove | test`.

`add` asks for what its flags leave out when stdin is a terminal (a typed secret is read with
getpass, never echoed) and is purely flag-driven otherwise. A secret *source* (env:VAR,
cmd:COMMAND or keyring:SERVICE/NAME) is preferred; ``--keyring`` stores a typed (or --secret-stdin)
secret in the OS keyring (the optional ``keyring`` extra); a literal secret is stored in the config
file (mode 0600) with a warning. Nothing here ever prints a secret: sources are shown as
``env:VAR``, ``cmd:prog …``, ``keyring:SERVICE/NAME`` or ``***``.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from typing import Any

from astro_tui.airflow.errors import (
    ApiError,
    Forbidden,
    NotAirflow,
    Timeout,
    Unauthorized,
    Unreachable,
)
from astro_tui.commands.base import EXIT_ERROR, EXIT_OK, EXIT_USAGE, PROG, Ctx, UsageError
from astro_tui.commands.output import key_values
from astro_tui.config import (
    AUTH_KINDS,
    KEYRING_EXTRA,
    ConfigError,
    Profile,
    _validated as validate_profile,  # the file loader's own checks, for a profile built here
    check_transport_security,
    config_permission_warning,
    describe_secret_source,
    is_literal_secret,
    load_config,
    profile_warnings,
    resolve_profile,
    save_config,
    store_keyring_secret,
    tls_verify,
)

HELP = "list, add, remove or test connection profiles (the config file)"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SUPPRESS = argparse.SUPPRESS


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                output: argparse.ArgumentParser) -> argparse._SubParsersAction:
    """Register `profiles list|add|remove|test`; returns the subparsers (for `discover`)."""
    p = sub.add_parser("profiles", help=HELP, description=HELP)
    psub = p.add_subparsers(dest="profiles_command", metavar="{list,add,remove,test,discover}",
                            required=True)

    q = psub.add_parser("list", parents=[output], help="list the profiles (secrets never shown)")
    q.set_defaults(func=cmd_list)

    q = psub.add_parser("add", parents=[output], help="add a profile (asks when on a terminal)",
                        description="Add a profile. On a terminal, asks for whatever the flags"
                        " leave out; otherwise --name and --url are required.")
    q.add_argument("--name", help="the profile name")
    q.add_argument("--url", default=_SUPPRESS, help="the Airflow web UI / API URL")
    q.add_argument("--auth", choices=AUTH_KINDS,
                   help="token (bearer), basic, password (Airflow 3 login, basic on Airflow 2)"
                        " or none; default: password with --username, token with a secret")
    q.add_argument("--username", help="user name (auth basic or password)")
    secret = q.add_mutually_exclusive_group()
    secret.add_argument("--secret-source", metavar="SRC",
                        help="where the secret comes from: env:VAR, cmd:COMMAND or"
                             " keyring:SERVICE/NAME (a literal works but is stored in the file:"
                             " discouraged)")
    q.add_argument("--keyring", nargs="?", const="", metavar="SERVICE/NAME",
                        help="store the secret (typed, or --secret-stdin) in the OS keyring"
                             " under SERVICE/NAME (default: astro-tui/<profile name>); needs"
                             " the keyring extra: pip install 'astro-tui[keyring]'")
    secret.add_argument("--secret-stdin", action="store_true",
                        help="read a literal secret from the first line of stdin (stored in"
                             " the file: prefer --secret-source)")
    q.add_argument("--read-only", action="store_true", default=_SUPPRESS,
                   help="never trigger, pause or change anything with this profile")
    q.add_argument("--no-verify-tls", action="store_true", help="do not verify TLS (unsafe)")
    q.add_argument("--ca-bundle", metavar="PATH", help="a CA bundle to verify TLS with")
    q.add_argument("--allow-insecure-http", action="store_true",
                   help="allow credentials over plain http:// to a non-local host (unsafe)")
    q.add_argument("--poll-seconds", type=float, metavar="S", help="TUI refresh interval")
    q.add_argument("--default", action="store_true", help="make it the default profile")
    q.add_argument("--force", action="store_true", help="replace a profile of the same name")
    q.set_defaults(func=cmd_add)

    q = psub.add_parser("remove", parents=[output], help="remove a profile")
    q.add_argument("name", metavar="NAME")
    q.set_defaults(func=cmd_remove)

    q = psub.add_parser("test", parents=[common],
                        help="connect: check reachability, version and auth, and print them")
    q.add_argument("name", metavar="NAME", nargs="?",
                   help="the profile (default: what other commands would use)")
    q.set_defaults(func=cmd_test)
    return psub


def profile_json(p: Profile, default: bool = False) -> dict[str, Any]:
    return {"name": p.name, "url": p.url, "auth": p.auth, "username": p.username,
            "secret": describe_secret_source(p.secret), "verify_tls": p.verify_tls,
            "ca_bundle": p.ca_bundle, "read_only": p.read_only, "poll_seconds": p.poll_seconds,
            "allow_insecure_http": p.allow_insecure_http, "default": default}


def _default_name(config: Any) -> str | None:
    if config.default_profile:
        return config.default_profile
    return next(iter(config.profiles)) if len(config.profiles) == 1 else None


# -- list / remove --------------------------------------------------------------------------------


async def cmd_list(ctx: Ctx) -> int:
    config = load_config(env=ctx.env)
    warning = config_permission_warning(config.path)
    if warning:
        ctx.warn(warning)
    default = _default_name(config)
    profiles = sorted(config.profiles.values(), key=lambda p: p.name)
    if ctx.json:
        ctx.emit_json([profile_json(p, p.name == default) for p in profiles])
        return EXIT_OK
    if not profiles:
        ctx.note(f"no profiles in {config.path} (add one with: {PROG} profiles add)")
    else:
        rows = [(p.name, "*" if p.name == default else "", p.url, p.auth, p.username or "",
                 describe_secret_source(p.secret), _options(p)) for p in profiles]
        ctx.table(("NAME", "DEFAULT", "URL", "AUTH", "USERNAME", "SECRET", "OPTIONS"), rows)
    env_url = ctx.env.get("ASTRO_AIRFLOW_URL") or ctx.env.get("AIRFLOW_API_URL")
    if env_url:
        var = "ASTRO_AIRFLOW_URL" if ctx.env.get("ASTRO_AIRFLOW_URL") else "AIRFLOW_API_URL"
        ctx.note(f"note: {var} is set: without --profile, commands use it instead of the"
                 " default profile")
    return EXIT_OK


def _options(p: Profile) -> str:
    flags = [("read-only", p.read_only), ("no-tls-verify", not p.verify_tls),
             ("ca-bundle", bool(p.ca_bundle)), ("insecure-http", p.allow_insecure_http)]
    return ",".join(name for name, on in flags if on)


async def cmd_remove(ctx: Ctx) -> int:
    config = load_config(env=ctx.env)
    name = ctx.args.name
    if name not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise UsageError(f"no profile '{name}' in {config.path} (known: {known})")
    del config.profiles[name]
    if config.default_profile == name:
        config.default_profile = None
        ctx.note(f"'{name}' was the default profile; there is no default now")
    path = save_config(config)
    if ctx.json:
        ctx.emit_json({"removed": name, "path": str(path)})
    else:
        ctx.print(f"removed profile '{name}' from {path}")
    return EXIT_OK


# -- add ------------------------------------------------------------------------------------------


class Prompter:
    """Questions on stderr, answers from stdin; a secret through getpass (not echoed)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def ask(self, question: str, default: str | None = None) -> str:
        suffix = f" [{default}]" if default else ""
        self.ctx.err.write(f"{question}{suffix}: ")
        self.ctx.err.flush()
        answer = sys.stdin.readline()
        if not answer:
            raise UsageError("aborted: no answer (end of input)")
        return answer.strip() or (default or "")

    def yes(self, question: str, default: bool = False) -> bool:
        answer = self.ask(question + (" (Y/n)" if default else " (y/N)")).lower()
        return default if not answer else answer in ("y", "yes")

    def secret(self, question: str) -> str:
        value = getpass.getpass(question + ": ", stream=self.ctx.err)
        if not value:
            raise UsageError("aborted: empty secret")
        return value


def _keyring_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("keyring") is not None


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


async def cmd_add(ctx: Ctx) -> int:
    a = ctx.args
    config = load_config(env=ctx.env)
    interactive = _stdin_is_tty()
    ask = Prompter(ctx)
    name, url = a.name, getattr(a, "url", None)
    auth, username, secret = a.auth, a.username, a.secret_source
    read_only = getattr(a, "read_only", None)
    make_default = a.default
    typed_secret = False
    keyring_target: str | None = None if a.keyring is None else a.keyring or "-"
    if keyring_target and a.secret_source:
        raise UsageError("--keyring stores a secret you type or pass on stdin; --secret-source"
                         " names one (keyring:SERVICE/NAME for one already in the keyring)")
    if a.secret_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
        if not secret:
            raise UsageError("--secret-stdin: stdin gave an empty secret")
        interactive = False  # stdin is taken
    if not interactive and not (name and url):
        raise UsageError("profiles add: --name and --url are required when stdin is not a"
                         " terminal")
    if keyring_target and not _keyring_installed():
        raise ConfigError(f"--keyring needs the keyring extra: {KEYRING_EXTRA}")
    if keyring_target and not secret and not interactive:
        raise UsageError("--keyring needs the secret: pass --secret-stdin, or run on a terminal"
                         " to type it")
    if interactive:
        name = name or ask.ask("Profile name")
        url = url or ask.ask("Airflow URL (the address of the Airflow web UI)")
        if not auth:
            guess = "password" if username else "token" if secret else "password"
            auth = ask.ask("Auth: token, basic, password (Airflow 3 login; basic on Airflow 2)"
                           " or none", guess)
            if auth not in AUTH_KINDS:
                raise UsageError(f"unknown auth kind '{auth}' (use {', '.join(AUTH_KINDS)})")
        if auth in ("basic", "password") and not username:
            username = ask.ask("Username")
        if auth != "none" and not secret and keyring_target:
            secret = ask.secret("Secret (not shown; stored in the OS keyring)")
            typed_secret = True
        elif auth != "none" and not secret:
            secret = ask.ask("Secret source: env:VAR, cmd:COMMAND or keyring:SERVICE/NAME"
                             " (empty: type the secret)")
            if not secret:
                secret = ask.secret("Secret (not shown)")
                typed_secret = True
                if _keyring_installed() and ask.yes(
                        "Store it in the OS keyring (else in the config file)?", default=True):
                    keyring_target = "-"
        if read_only is None:
            read_only = ask.yes("Read-only (never trigger or pause with it)?")
        if not make_default and config.profiles:
            make_default = ask.yes(f"Make '{name}' the default profile?")
    if not name or not _NAME.fullmatch(name):
        raise UsageError(f"bad profile name {name!r}: use letters, digits, '_', '-', '.'")
    if name in config.profiles and not a.force:
        raise UsageError(f"profile '{name}' exists in {config.path} (pass --force to replace it)")
    if not auth:
        auth = "password" if username else "token" if secret else "none"
    if keyring_target and (not secret or auth == "none"):
        raise UsageError("--keyring: there is no secret to store (auth none)")
    if keyring_target == "-":
        keyring_target = f"keyring:astro-tui/{name}"
    elif keyring_target:
        keyring_target = "keyring:" + keyring_target.removeprefix("keyring:")
    profile = Profile(name=name, url=url or "", auth=auth, username=username or None,
                      secret=(keyring_target or secret) or None, verify_tls=not a.no_verify_tls,
                      ca_bundle=a.ca_bundle, read_only=bool(read_only),
                      poll_seconds=a.poll_seconds if a.poll_seconds is not None else 5.0,
                      allow_insecure_http=a.allow_insecure_http)
    try:
        profile = validate_profile(profile)
    except ConfigError as exc:
        raise ConfigError(f"profile '{name}': {exc}") from None
    check_transport_security(profile)
    if profile.ca_bundle:
        tls_verify(profile)  # refuse a bundle that is missing or not PEM now, not at connect
    if keyring_target and secret:
        store_keyring_secret(keyring_target, secret)  # only once the profile is known good
    del secret
    if is_literal_secret(profile.secret) and a.secret_source and not typed_secret:
        ctx.warn("a secret given on the command line may stay in your shell history; prefer"
                 " --secret-source env:VAR or cmd:COMMAND")
    config.profiles[name] = profile
    if make_default:
        config.default_profile = name
    path = save_config(config)
    for warning in profile_warnings(profile):
        ctx.warn(warning)
    if ctx.json:
        ctx.emit_json({**profile_json(profile, _default_name(config) == name), "path": str(path)})
    else:
        ctx.print(f"added profile '{name}' to {path}")
        ctx.note(f"check it with: {PROG} profiles test {name}")
    return EXIT_OK


# -- test -----------------------------------------------------------------------------------------


async def cmd_test(ctx: Ctx) -> int:
    a = ctx.args
    if a.name:
        ctx.set_profile(resolve_profile(cli_url=getattr(a, "url", None), cli_profile=a.name,
                                        read_only=getattr(a, "read_only", None), env=ctx.env))
    profile = ctx.profile
    for warning in profile_warnings(profile):
        ctx.warn(warning)
    ctx.transport_warned = True
    result: dict[str, Any] = {
        "profile": profile.name, "url": profile.url, "auth": profile.auth,
        "username": profile.username, "reachable": False, "version": None, "api": None,
        "authenticated": None, "health": None, "error": None}
    code = await _probe(ctx, profile, result)
    if code == EXIT_OK:
        code = await _check_auth(ctx, result)
    if ctx.json:
        ctx.emit_json(result)
    else:
        ctx.lines(_test_lines(result))
    if result["error"]:
        ctx.note(f"{PROG}: error: {result['error']}")
    return code


async def _probe(ctx: Ctx, profile: Profile, result: dict[str, Any]) -> int:
    """Reachability and version without credentials (the version endpoint is public in OSS
    Airflow), plus the health endpoint when it answers."""
    from astro_tui.airflow.client import AirflowClient

    try:
        probe = await AirflowClient.connect(profile.url, verify=tls_verify(profile))
    except (Unreachable, Timeout) as exc:
        result["error"] = exc.message
        return EXIT_ERROR
    except (Unauthorized, Forbidden):
        result["reachable"] = True  # the version needs credentials here: the auth step tells
        return EXIT_OK
    except NotAirflow as exc:
        result["reachable"] = True
        result["error"] = exc.message
        return EXIT_ERROR
    except ApiError as exc:
        result["reachable"] = True
        result["error"] = exc.message
        return EXIT_ERROR
    result["reachable"] = True
    result["version"] = str(probe.version)
    result["api"] = probe.api_prefix.rsplit("/", 1)[-1]
    try:
        health = await probe.health()
        result["health"] = {name: c.status for name, c in health.components.items()}
    except ApiError:
        pass
    finally:
        await probe.aclose()
    return EXIT_OK


async def _check_auth(ctx: Ctx, result: dict[str, Any]) -> int:
    """Log in (if the profile does) and make one cheap authenticated read."""
    try:
        async with ctx.client() as client:
            result["version"] = str(client.version)
            result["api"] = client.api_prefix.rsplit("/", 1)[-1]
            await client.list_runs_batch(None, limit=1)
    except ConfigError as exc:
        result["error"] = str(exc)
        return EXIT_USAGE
    except (Unauthorized, Forbidden) as exc:
        result["authenticated"] = False
        result["error"] = exc.message
        return EXIT_ERROR
    except ApiError as exc:
        result["error"] = exc.message
        return EXIT_ERROR
    result["authenticated"] = True
    return EXIT_OK


def _test_lines(r: dict[str, Any]) -> list[str]:
    who = f" as {r['username']}" if r["username"] else ""
    auth = {True: f"ok ({r['auth']}{who})", False: f"FAILED ({r['auth']}{who})",
            None: "not checked" if r["auth"] != "none" or not r["reachable"] else "none"}
    pairs = [("profile", r["profile"]), ("url", r["url"]),
             ("reachable", "yes" if r["reachable"] else "no"),
             ("version", f"{r['version']} (REST API {r['api']})" if r["version"] else "unknown"),
             ("auth", auth[r["authenticated"]])]
    if r["health"]:
        pairs.append(("health", ", ".join(f"{k} {v or 'unknown'}" for k, v in r["health"].items())))
    return key_values(pairs)

