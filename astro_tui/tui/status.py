"""The status bar's line: profile, Airflow version, connection health, staleness, read-only.

Built from the Watcher's read-only status; asking has no side effect (the Watcher starts its
probe by itself when a request is slow).
"""

from __future__ import annotations

from rich.text import Text

from astro_tui.airflow.errors import Forbidden, Unauthorized
from astro_tui.present.errors import error_line
from astro_tui.present.times import duration
from astro_tui.text import clean
from astro_tui.tui.context import UiContext
from astro_tui.watch.watcher import Watcher


def describe_error(err: BaseException | None) -> str:
    return clean(error_line(err), max_len=120, newline=" ")


def status_text(ctx: UiContext, watcher: Watcher, active: str, watched: int = 0) -> Text:
    """The line for the focused pane `active` ("dags", "runs", "tasks", "log"); `watched`:
    how many watches wait to alert."""
    status = watcher.status(active)
    text = Text()
    text.append(clean(ctx.profile_name, max_len=30), style="bold")
    if status.version is not None:
        text.append(f" · Airflow {status.version}")
    text.append(" · ")
    if not status.connected and status.error is None:
        text.append("◌ connecting…", style="yellow")
    elif isinstance(status.error, (Unauthorized, Forbidden)):
        # the server answers: it is not down, the credentials are the trouble
        hint = "token expired or wrong password?" if isinstance(status.error, Unauthorized) \
            else "this token may not read this"
        text.append("✖ not allowed: ", style="bold red")
        text.append(f"{describe_error(status.error)} ({hint})", style="red")
    elif status.error is not None:
        text.append("✖ down: ", style="bold red")
        text.append(describe_error(status.error), style="red")
    elif status.waiting > 5:
        text.append(f"◌ slow: waiting {duration(status.waiting)} for the server", style="yellow")
    elif status.slow:
        text.append("● slow", style="yellow")
    else:
        text.append("● ok", style="green")
    if status.connected:
        # the log pane reports the DAG list's age (a log that ended is not stale)
        kind = active if active in ("runs", "tasks") else "dags"
        age, interval, failing = watcher.age(kind)
        if age is not None and (failing or age > 2 * (interval or 1e9) + 5):
            text.append(f" · {active} updated {duration(age)} ago", style="yellow")
    cached_at = watcher.cache.cached_at
    if cached_at is not None:
        age = max(0.0, (ctx.now() - cached_at).total_seconds())
        text.append(f" · DAG list saved {duration(age)} ago, refreshing…", style="yellow")
    if watched:
        text.append(f" · ◉ {watched} watched", style="bold yellow")
    notice = ctx.current_notice()
    if notice:
        text.append(" · " + clean(notice, max_len=100, newline=" "), style="yellow")
    if ctx.read_only:
        text.append(" · read-only", style="bold magenta")
    return text
