"""Shared pieces of the headless commands: exit codes, the command context, output helpers.

Every command is ``async def cmd(ctx: Ctx) -> int``. :func:`run` executes it and turns every
failure into an exit code and one line on stderr (a traceback only with ``--debug``, redacted):

    0 ok · 1 API or network error · 2 usage or config error · 3 run failed · 4 timeout
    5 the server answers but a component is unhealthy (``health``) · 130 interrupted (Ctrl-C)

No Textual here: the commands must start fast and work without a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
import traceback
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TextIO

from astro_tui.airflow.errors import ApiError, RateLimited, ServerError, Timeout, Unreachable
from astro_tui.commands.output import dumps, render_table
from astro_tui.config import (
    ConfigError,
    Profile,
    one_profile_name,
    resolve_profile,
    resolve_profiles,
    transport_warnings,
)
from astro_tui.text import clean, redact

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_RUN_FAILED = 3
EXIT_TIMEOUT = 4
#: `health`: the server answers, but a component (metadatabase, scheduler, …) is not healthy
EXIT_UNHEALTHY = 5
EXIT_INTERRUPTED = 130

PROG = "astro-tui"
#: errors worth riding out while waiting or following: the server may come back
TRANSIENT = (Unreachable, Timeout, ServerError, RateLimited)


class CommandError(Exception):
    """A failure with a one-line message and its exit code."""

    code = EXIT_ERROR

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class UsageError(CommandError):
    code = EXIT_USAGE


# -- the context ----------------------------------------------------------------------------------


class Ctx:
    """What a command needs: its arguments, the two streams, the profile and a client."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO,
                 env: Mapping[str, str] | None = None) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.env = os.environ if env is None else env
        self.json = bool(getattr(args, "json", False))
        self.debug = bool(getattr(args, "debug", False))
        self.out_tty = _isatty(out)
        self.err_tty = _isatty(err)
        #: printed on Ctrl-C, e.g. "the run keeps going"
        self.interrupt_note: str | None = None
        self.progress_shown = False
        #: the TLS-off / plain-http warnings were shown (once per command)
        self.transport_warned = False
        #: secrets met on the way that known_secrets cannot find (an `astro login` token)
        self.extra_secrets: list[str] = []
        self._profile: Profile | None = None

    # -- connection --
    @property
    def profile(self) -> Profile:
        if self._profile is None:
            a = self.args
            command = f"`{getattr(a, 'command', None) or 'this command'}`"
            if getattr(a, "all_profiles", False):
                raise ConfigError(f"{command} works on one profile: --all-profiles is for the "
                                  "TUI, failures, health and watch --failures")
            self._profile = resolve_profile(
                cli_url=getattr(a, "url", None),
                cli_profile=one_profile_name(getattr(a, "profile", None), command),
                read_only=getattr(a, "read_only", None), env=self.env)
        return self._profile

    def set_profile(self, profile: Profile) -> None:
        self._profile = profile

    def profiles(self) -> list[Profile]:
        """Every profile the command watches: several with a repeated --profile or
        --all-profiles (failures, health, watch --failures), else the one `profile`."""
        a = self.args
        many = resolve_profiles(getattr(a, "profile", None), getattr(a, "all_profiles", False),
                                cli_url=getattr(a, "url", None),
                                read_only=getattr(a, "read_only", None), env=self.env)
        if len(many) == 1:
            self._profile = many[0]
        return many

    def for_profile(self, profile: Profile) -> Ctx:
        """The same command on another profile (its own client; the same streams)."""
        other = Ctx(self.args, self.out, self.err, self.env)
        other.set_profile(profile)
        other.transport_warned = self.transport_warned
        return other

    def require_writable(self, action: str) -> None:
        """Refuse a write (trigger, pause, unpause) under a read-only profile or --read-only."""
        profile = self.profile
        if profile.read_only:
            why = ("--read-only is set" if getattr(self.args, "read_only", None) else
                   f"profile '{profile.name}' is read-only (read_only = true in its config)")
            raise UsageError(f"{why}: refusing to {action}")

    @asynccontextmanager
    async def client(self) -> AsyncIterator[Any]:
        from astro_tui import session  # looked up at call time: tests replace open_client

        profile = self.profile
        if not self.transport_warned:
            self.transport_warned = True
            for warning in transport_warnings(profile):
                self.warn(warning)
        client = await session.open_client(profile)
        try:
            yield client
        finally:
            await client.aclose()

    def known_secrets(self) -> list[str]:
        """Secret values this process could know (env vars, literals), to redact tracebacks.
        A cmd: source is never run again for this."""
        found = [self.env.get(v) for v in ("ASTRO_API_TOKEN", "AIRFLOW_AUTH_TOKEN",
                                            "AIRFLOW_PASSWORD")]
        source = self._profile.secret if self._profile else None
        if source and source.startswith("env:"):
            found.append(self.env.get(source[4:].strip()))
        elif source and not source.startswith("cmd:"):
            found.append(source)
        return [s for s in found + self.extra_secrets if s]

    # -- output --
    def print(self, text: str = "", *, flush: bool = False) -> None:
        self.out.write(text + "\n")
        if flush:
            self.out.flush()

    def lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.out.write(line + "\n")

    def note(self, text: str) -> None:
        """A diagnostic line on stderr (never on stdout: that is for data)."""
        self.err.write(clean(text, newline=" ") + "\n")
        self.err.flush()

    def warn(self, text: str) -> None:
        self.note(f"{PROG}: warning: {text}")

    def emit_json(self, value: Any) -> None:
        self.print(dumps(value, indent=2), flush=True)

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]],
              max_widths: Mapping[int, int] | None = None) -> None:
        self.lines(render_table(headers, rows, max_widths))


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


# -- running a command ----------------------------------------------------------------------------


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run ``args.func`` and map every outcome to an exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    ctx = Ctx(args, out, err)
    try:
        code = asyncio.run(args.func(ctx))
        out.flush()
        return int(code or 0)
    except CommandError as exc:
        return _fail(ctx, exc, exc.message, exc.code)
    except ConfigError as exc:
        return _fail(ctx, exc, str(exc), EXIT_USAGE)
    except ApiError as exc:
        return _fail(ctx, exc, exc.message + _hint(ctx, exc), EXIT_ERROR)
    except KeyboardInterrupt:
        _clear_progress(ctx)
        note = f" ({ctx.interrupt_note})" if ctx.interrupt_note else ""
        ctx.note(f"{PROG}: interrupted{note}")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()  # `astro-tui logs … | head`: the reader is gone, which is fine
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - a bug: one line, traceback only with --debug
        return _fail(ctx, exc, f"unexpected error: {type(exc).__name__}: {exc}"
                     + ("" if ctx.debug else " (run with --debug for the traceback)"),
                     EXIT_ERROR)


def _hint(ctx: Ctx, exc: ApiError) -> str:
    if exc.kind in ("unauthorized", "forbidden") and ctx._profile is not None:
        return f" [profile '{ctx._profile.name}', auth {ctx._profile.auth}]"
    return ""


def _fail(ctx: Ctx, exc: BaseException, message: str, code: int) -> int:
    _clear_progress(ctx)
    secrets = ctx.known_secrets()
    if ctx.debug:
        text = "".join(traceback.format_exception(exc))  # frames and messages, never locals
        ctx.err.write(clean(redact_all(text, secrets), newline="\n"))
    ctx.note(f"{PROG}: error: " + redact_all(message, secrets))
    return code


_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


def redact_all(text: str, secrets: Iterable[str]) -> str:
    """Known secret values, Bearer/Basic credentials and JWT-shaped strings → ``***``."""
    return _JWT.sub("***", redact(text, secrets))


def _clear_progress(ctx: Ctx) -> None:
    if ctx.err_tty and ctx.progress_shown:
        ctx.err.write("\r\x1b[2K")
        ctx.progress_shown = False


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


# -- waiting out transient failures ---------------------------------------------------------------


class Patience:
    """Rides out transient errors (server down, 5xx, 429) while waiting or following, for up to
    ``limit`` seconds in a row; then the last error ends the command."""

    def __init__(self, ctx: Ctx, limit: float = 120.0) -> None:
        self.ctx = ctx
        self.limit = limit
        self.since: float | None = None

    def ok(self) -> None:
        if self.since is not None:
            self.ctx.note(f"{PROG}: the server answers again")
        self.since = None

    def failed(self, exc: ApiError) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
            self.ctx.warn(f"{exc.message}; retrying for up to {self.limit:.0f} s")
        if now - self.since > self.limit:
            raise exc


class Progress:
    """One self-overwriting status line on stderr, only when stderr is a terminal."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.enabled = ctx.err_tty

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        import shutil

        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        self.ctx.err.write("\r\x1b[2K" + clean(text, width, newline=" "))
        self.ctx.err.flush()
        self.ctx.progress_shown = True

    def clear(self) -> None:
        if self.enabled and self.ctx.progress_shown:
            self.ctx.err.write("\r\x1b[2K")
            self.ctx.err.flush()
            self.ctx.progress_shown = False
