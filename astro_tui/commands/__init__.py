"""Headless subcommands of ``astro-tui`` for scripts (cron, CI, shells): one module per group.

    dags · pause · unpause      astro_tui.commands.dags
    runs · status               astro_tui.commands.runs
    trigger                     astro_tui.commands.trigger
    logs                        astro_tui.commands.logs
    failures · health · import-errors   astro_tui.commands.monitor
    hitl list|respond           astro_tui.commands.hitl
    watch                       astro_tui.commands.watch
    profiles list|add|remove|test   astro_tui.commands.profiles
    profiles discover           astro_tui.commands.discover

Shared parts (exit codes, output, JSON shapes, error mapping) are in ``base``. No Textual here.
"""

from __future__ import annotations

import argparse

from astro_tui.commands import dags, discover, hitl, logs, monitor, profiles, runs, trigger, watch


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser,
                output: argparse.ArgumentParser) -> None:
    """Register every subcommand. ``common`` carries --profile/--url/--read-only/--json/--debug,
    ``output`` only --json/--debug (for commands that do not connect)."""
    dags.add_parsers(sub, common)
    runs.add_parsers(sub, common)
    trigger.add_parsers(sub, common)
    logs.add_parsers(sub, common)
    monitor.add_parsers(sub, common)
    hitl.add_parsers(sub, common)
    watch.add_parsers(sub, common)
    discover.add_parser(profiles.add_parsers(sub, common, output), output)
