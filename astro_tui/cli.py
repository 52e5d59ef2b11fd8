"""Command line entry point: `astro-tui` opens the TUI."""

from __future__ import annotations

import argparse
import signal
import sys

from astro_tui import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="astro-tui",
        description=(
            "A terminal UI for Apache Airflow (Astro or OSS, Airflow 2 and 3): a live monitor of "
            "DAGs, runs, task instances and logs."
        ),
        epilog=(
            "Connection, by precedence: flags, then the environment (ASTRO_AIRFLOW_URL + "
            "ASTRO_API_TOKEN for Astro; AIRFLOW_API_URL + AIRFLOW_USERNAME/AIRFLOW_PASSWORD or "
            "AIRFLOW_AUTH_TOKEN for OSS Airflow), then the profile file (config.toml in the "
            "platformdirs config dir, or ASTRO_TUI_CONFIG)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"astro-tui {__version__}")
    parser.add_argument("--profile", help="name of a profile in the config file")
    parser.add_argument("--url", help="Airflow base URL (overrides the profile)")
    parser.add_argument(
        "--read-only", action="store_true", default=None,
        help="hide every action that changes Airflow (trigger, pause, clear, mark)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    # An SSH drop must end the app, even under wrappers that ignore SIGHUP.
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    args = build_parser().parse_args(argv)

    from astro_tui.config import ConfigError, resolve_profile

    try:
        profile = resolve_profile(cli_url=args.url, cli_profile=args.profile,
                                  read_only=args.read_only)
    except ConfigError as exc:
        print(f"astro-tui: {exc}", file=sys.stderr)
        return 2

    from astro_tui.session import open_client
    from astro_tui.tui.app import AstroTuiApp

    app = AstroTuiApp(
        lambda: open_client(profile),
        profile_name=profile.name,
        read_only=profile.read_only,
    )
    app.run()
    return app.return_code or 0
