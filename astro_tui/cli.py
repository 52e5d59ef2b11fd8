"""Command line entry point: `astro-tui` opens the TUI; subcommands are for scripts.

    astro-tui [--profile P] [--url U] [--read-only]          the TUI
    astro-tui dags | runs | trigger | status | logs | pause | unpause | profiles …

Exit codes of the subcommands: 0 ok, 1 API or network error, 2 usage or config error, 3 the run
failed (--wait), 4 timeout, 5 a component is unhealthy (health), 130 interrupted. See
astro_tui/commands/.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from functools import partial

from astro_tui import __version__

SUPPRESS = argparse.SUPPRESS

EPILOG = """\
Each command has --help; --profile, --url, --read-only, --json and --debug go before or after it.

exit codes: 0 ok, 1 API or network error, 2 usage or config error, 3 run failed (--wait),
4 timeout, 5 a component is unhealthy (health), 130 interrupted.

Connection, by precedence: flags, then the environment (ASTRO_AIRFLOW_URL + ASTRO_API_TOKEN for
Astro; AIRFLOW_API_URL + AIRFLOW_USERNAME/AIRFLOW_PASSWORD or AIRFLOW_AUTH_TOKEN for OSS Airflow),
then the profile file (config.toml in the platformdirs config dir, or ASTRO_TUI_CONFIG).
"""


def _connection_options(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--profile", action="append", default=default, metavar="NAME",
                   help="name of a profile in the config file (repeat it to watch several "
                        "deployments at once: the TUI, failures, health, watch --failures)")
    p.add_argument("--all-profiles", action="store_true",
                   default=default if default is SUPPRESS else False,
                   help="watch every profile of the config file at once")
    p.add_argument("--url", default=default, help="Airflow base URL (overrides the profile)")
    p.add_argument("--read-only", action="store_true", default=default if default is SUPPRESS
                   else None,
                   help="hide every action that changes Airflow (trigger, pause, clear, mark)"
                        " and make the commands refuse them")


def _output_options(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--json", action="store_true", default=default,
                   help="print stable JSON instead of tables")
    p.add_argument("--debug", action="store_true", default=default,
                   help="print a (redacted) traceback on errors")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="astro-tui",
        description=(
            "A terminal UI for Apache Airflow (Astro or OSS, Airflow 2 and 3): a live monitor of\n"
            "DAGs, runs, task instances and logs. With a command, it runs headless for scripts."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"astro-tui {__version__}")
    parser.add_argument("--fresh", action="store_true",
                        help="start clean: do not reopen the last session's DAG, run, task and"
                             " watches (it is still saved on quit)")
    parser.add_argument("--notify", choices=("failures", "all", "off"), default=None,
                        help="the TUI alerts (toast, bell, desktop notification) on every run "
                             "that newly fails, or ends, anywhere in the deployment (default: "
                             "the profile's `notify`, else off)")
    _connection_options(parser, None)
    _output_options(parser, False)

    # The same options after the command: SUPPRESS keeps a value given before it.
    output = argparse.ArgumentParser(add_help=False)
    _output_options(output, SUPPRESS)
    common = argparse.ArgumentParser(add_help=False, parents=[output])
    _connection_options(common, SUPPRESS)

    from astro_tui.commands import add_parsers

    sub = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    add_parsers(sub, common, output)
    return parser


def _early_paint(argv: list[str]) -> Callable[[], None]:
    """Opening the TUI (no command): paint the saved DAG list before the full parser (which
    imports every command) and the app are imported. Any doubt: paint nothing."""
    top = argparse.ArgumentParser(add_help=False)
    _connection_options(top, None)
    top.add_argument("--notify")
    try:
        known, rest = top.parse_known_args(argv)
    except SystemExit:
        return lambda: None
    if rest:  # a command, --help, --version, --json …: not the TUI
        return lambda: None
    from astro_tui.config import ConfigError, one_profile_name, resolve_profile

    if known.all_profiles or len(set(known.profile or ())) > 1:
        return lambda: None  # the fleet: no single saved list to paint
    try:
        profile = resolve_profile(cli_url=known.url, cli_profile=one_profile_name(known.profile))
    except ConfigError:
        return lambda: None
    from astro_tui.prepaint import prepaint

    return prepaint(profile.name)


def main(argv: list[str] | None = None) -> int:
    # An SSH drop must end the app, even under wrappers that ignore SIGHUP.
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    argv = sys.argv[1:] if argv is None else argv
    undo = _early_paint([a for a in argv if a != "--fresh"])
    started: list[bool] = []  # the app took the terminal (and gives it back itself)
    try:
        return _main(argv, started)
    finally:
        if not started:
            undo()


def _main(argv: list[str], started: list[bool]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)

    if args.command is not None:
        from astro_tui.commands.base import run

        return run(args)
    if args.json:
        parser.print_usage(sys.stderr)
        print("astro-tui: error: --json needs a command (dags, runs, trigger, status, logs, ...)",
              file=sys.stderr)
        return 2

    from astro_tui.config import ConfigError, resolve_profiles

    try:
        profiles = resolve_profiles(args.profile, args.all_profiles, cli_url=args.url,
                                    read_only=args.read_only, notify=args.notify)
    except ConfigError as exc:
        print(f"astro-tui: {exc}", file=sys.stderr)
        return 2

    from astro_tui.session import open_client
    from astro_tui.state import SessionStore
    from astro_tui.tui.app import AstroTuiApp, Settings
    from astro_tui.watch.fleet import Deployment
    from astro_tui.watch.saved import DagListStore

    profile, *more = profiles
    # The other deployments of the fleet (issue 17): one Watcher each, switched live (d / D).
    others = [Deployment(p.name, partial(open_client, p), Settings.from_poll_seconds(
        p.poll_seconds), p.read_only, p.notify, p.notify_command, DagListStore(p.name))
        for p in more]
    app = AstroTuiApp(
        lambda: open_client(profile),
        profile_name=profile.name,
        read_only=profile.read_only,
        settings=Settings.from_poll_seconds(profile.poll_seconds),
        landing="overview",
        notify=profile.notify,
        notify_command=profile.notify_command,
        session=SessionStore(profile.name),
        restore=not args.fresh,
        handle_hangup=True,
        saved_dags=DagListStore(profile.name),
        others=others,
    )
    started.append(True)
    app.run()
    return app.return_code or 0
