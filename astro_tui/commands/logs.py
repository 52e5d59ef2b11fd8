"""`astro-tui logs DAG_ID RUN_ID TASK_ID [--try N] [--map-index I] [--follow] [--raw]`

Writes one task try's log to stdout, one entry per line (``TIMESTAMP LEVEL logger: text``, then
indented detail lines such as a traceback). Escape sequences and control bytes are removed when
stdout is a terminal; ``--raw`` (or a pipe) passes the text through unchanged. ``--json`` writes
one JSON object per entry (NDJSON). ``--follow`` streams new lines until the try's log ends.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterable
from datetime import timezone
from typing import Any

from astro_tui.airflow.errors import NotFound
from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import TERMINAL_TI_STATES, LogLine
from astro_tui.commands.base import (
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    PROG,
    TRANSIENT,
    CommandError,
    Ctx,
    Patience,
    UsageError,
)
from astro_tui.commands.output import dumps, line_json, positive_int, seconds_arg
from astro_tui.present.labels import task_label
from astro_tui.present.logs import QUIET_LOGGERS, short_logger
from astro_tui.text import clean

HELP = "print a task try's log (or follow it with --follow)"
DEFAULT_INTERVAL = 2.0
#: reads of a running try without --follow: enough to catch up, bounded for a chatty task
MAX_READS_RUNNING = 20
MAX_READS_FINISHED = 10_000
_NOT_STARTED = frozenset({None, "none", "scheduled", "queued"})


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("logs", parents=[common], help=HELP, description=HELP)
    p.add_argument("dag_id", metavar="DAG_ID")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("task_id", metavar="TASK_ID")
    p.add_argument("--try", dest="try_number", type=positive_int, metavar="N",
                   help="the try number (default: the latest try)")
    p.add_argument("--map-index", type=map_index_arg, default=-1, metavar="I",
                   help="the map index of a mapped task (default -1: not mapped), or `all`:"
                        " each mapped instance in turn")
    p.add_argument("-f", "--follow", action="store_true",
                   help="keep printing new lines until the try's log ends")
    p.add_argument("--raw", action="store_true",
                   help="pass the log text through unchanged (by default escape sequences are"
                        " removed when stdout is a terminal)")
    p.add_argument("--timeout", type=seconds_arg, metavar="SECONDS",
                   help="with --follow: give up after SECONDS (exit 4)")
    p.add_argument("--interval", type=seconds_arg, default=DEFAULT_INTERVAL, metavar="SECONDS",
                   help=f"with --follow: seconds between polls (default {DEFAULT_INTERVAL:g})")
    p.set_defaults(func=cmd_logs)


def format_line(line: LogLine) -> list[str]:
    """One log entry -> output lines (unsanitized): ``2026-01-31T10:00:00.123Z INFO  logger:
    text`` then detail lines indented by four spaces. Group ends are dropped."""
    if line.group == "end":
        return []
    if line.group == "start":
        return ["\u25be " + line.text]
    raw = getattr(line, "raw", None)  # a plain-text line exactly as sent (Airflow 2 logs)
    if raw is not None:
        return [raw.rstrip("\r"), *("    " + d for d in line.detail)]
    head = line.text
    stamp = None
    if line.timestamp is not None:
        ts = line.timestamp if line.timestamp.tzinfo else line.timestamp.replace(
            tzinfo=timezone.utc)
        stamp = ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
            "+00:00", "Z")
    if line.level is not None:
        parts = [stamp] if stamp else []
        parts.append(f"{line.level.upper():<5}")
        if line.logger and line.logger not in QUIET_LOGGERS:
            parts.append(short_logger(line.logger) + ":")
        parts.append(line.text)
        head = " ".join(parts)
    elif stamp and not line.text.lstrip().startswith("["):  # "[ts] text" lines keep their own
        head = f"{stamp} {line.text}"
    return [head, *("    " + d for d in line.detail)]


class Printer:
    def __init__(self, ctx: Ctx, sanitize: bool) -> None:
        self.ctx = ctx
        self.sanitize = sanitize
        self.count = 0

    def __call__(self, lines: Iterable[LogLine]) -> None:
        out = self.ctx.out
        for line in lines:
            self.count += 1
            if self.ctx.json:
                out.write(dumps(line_json(line)) + "\n")
                continue
            for text in format_line(line):
                out.write((clean(text, newline=" ") if self.sanitize else text) + "\n")
        out.flush()


def map_index_arg(text: str) -> int | str:
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a map index (a number, or all): {text!r}") from None


async def _mapped(client: Any, a: argparse.Namespace) -> list[int]:
    """The map indexes of the task in the run (empty: not mapped, or no such task)."""
    try:
        tis = await client.list_task_instances(a.dag_id, a.run_id)
    except NotFound:
        return []
    return sorted(t.map_index for t in tis if t.task_id == a.task_id and t.map_index >= 0)


def _ranges(indexes: list[int]) -> str:
    """0-3, 7, 9-10"""
    parts: list[str] = []
    start = prev = indexes[0]
    for i in [*indexes[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(parts)


async def cmd_logs(ctx: Ctx) -> int:
    a = ctx.args
    if a.timeout is not None and not a.follow:
        raise UsageError("--timeout needs --follow")
    if a.map_index == "all":
        if a.follow:
            raise UsageError("--map-index all cannot --follow (follow one map index)")
        return await _all_indexes(ctx)
    return await _one_log(ctx)


async def _all_indexes(ctx: Ctx) -> int:
    """Each mapped instance's log in turn, each under a header line."""
    a = ctx.args
    async with ctx.client() as client:
        indexes = await _mapped(client, a)
    if not indexes:
        raise CommandError(f"task {a.task_id} of run '{a.run_id}' of DAG '{a.dag_id}' is not"
                           " a mapped task (drop --map-index all)", EXIT_USAGE)
    for index in indexes:
        a.map_index = index
        ctx.print(f"==> {task_label(a.task_id, index)} <==", flush=True)
        await _one_log(ctx)
    return EXIT_OK


async def _one_log(ctx: Ctx) -> int:
    a = ctx.args
    printer = Printer(ctx, sanitize=ctx.out_tty and not a.raw)
    label = task_label(a.task_id, a.map_index)
    async with ctx.client() as client:
        follower = LogFollower(client, a.dag_id, a.run_id, a.task_id, a.try_number, a.map_index,
                               interval=a.interval)
        started = time.monotonic()
        try:
            lines = await follower.poll()
        except NotFound as exc:
            indexes = await _mapped(client, a) if a.map_index == -1 else []
            if indexes:  # a mapped task, asked without its map index
                raise CommandError(
                    f"task {a.task_id} is mapped ({len(indexes)} instances, map indexes"
                    f" {_ranges(indexes)}): pass --map-index I, or --map-index all for each"
                    " in turn", EXIT_USAGE) from None
            raise NotFound(f"task {label} of run '{a.run_id}' of DAG '{a.dag_id}' not found"
                           f" ({exc.message})", status=404) from None
        ti = follower.ti
        latest = max(ti.try_number or 0, 1) if ti else 1
        if a.try_number is not None and a.try_number > latest:
            raise CommandError(f"task {label} has no try {a.try_number} (the latest is"
                               f" {latest})")
        printer(lines)
        if a.follow:
            return await _follow(ctx, follower, printer, label, started)
        reads = 1
        cap = MAX_READS_FINISHED if ti and ti.state in TERMINAL_TI_STATES else MAX_READS_RUNNING
        while (not follower.finished and follower.mode != "poll" and reads < cap
               and (lines or reads < 2)):
            lines = await follower.poll()
            reads += 1
            printer(lines)
    state = follower.ti.state if follower.ti else None
    if printer.count == 0 and state in _NOT_STARTED:
        ctx.note(f"task {label} has not started"
                 f" ({f'state {state}' if state else 'not scheduled yet'}): no log yet")
    return EXIT_OK


async def _follow(ctx: Ctx, follower: LogFollower, printer: Printer, label: str,
                  started: float) -> int:
    timeout = ctx.args.timeout
    patience = Patience(ctx)
    told_waiting = False
    while not follower.finished:
        state = follower.ti.state if follower.ti else None
        if not told_waiting and printer.count == 0 and state in _NOT_STARTED:
            ctx.note(f"waiting for task {label} to start"
                     f" ({f'state {state}' if state else 'not scheduled yet'})")
            told_waiting = True
        elapsed = time.monotonic() - started
        if timeout is not None and elapsed >= timeout:
            ctx.note(f"{PROG}: timeout: task {label} is still {state or 'pending'} after"
                     f" {timeout:g} s")
            return EXIT_TIMEOUT
        delay = follower.interval
        if timeout is not None:
            delay = max(0.0, min(delay, timeout - elapsed))
        await asyncio.sleep(delay)
        try:
            lines = await follower.poll()
            patience.ok()
        except TRANSIENT as exc:
            patience.failed(exc)
            continue
        printer(lines)
    return EXIT_OK
