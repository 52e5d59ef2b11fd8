"""Command line entry point: `astro-tui` opens the TUI; subcommands are for scripts."""

from __future__ import annotations

import argparse
import signal
import sys

from astro_tui import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="astro-tui",
        description=(
            "A terminal UI for Apache Airflow (Astro or OSS, Airflow 2 and 3). "
            "Without a subcommand it opens the live monitor."
        ),
        epilog=(
            "Connection: --url/--profile, or the environment variables ASTRO_AIRFLOW_URL and "
            "ASTRO_API_TOKEN (Astro), or AIRFLOW_USERNAME/AIRFLOW_PASSWORD (OSS Airflow)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"astro-tui {__version__}")
    parser.add_argument("--profile", help="name of a profile in the config file")
    parser.add_argument("--url", help="Airflow base URL (overrides the profile)")
    parser.add_argument(
        "--read-only", action="store_true", help="hide trigger, pause, clear and mark"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    # An SSH drop must end the app, even under wrappers that ignore SIGHUP.
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    parser = build_parser()
    parser.parse_args(argv)
    print("astro-tui: the TUI is not built yet; see README.md", file=sys.stderr)
    return 0
