"""How an alert reaches the person in the TUI: a toast, a terminal bell, and a desktop
notification through the terminal (OSC 9 and OSC 777, wrapped for tmux's passthrough when
`$TMUX` is set). The text was sanitized when the alert was made (notify.py); the toast escapes
Rich markup too.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.widget import Widget

from astro_tui.notify import Alert, desktop_sequence
from astro_tui.text import escape_markup
from astro_tui.watch.alerts import Alerts, Watch

BEL = "\x07"


class TerminalAlerts:
    def __init__(self, app: App[object], *, tmux: bool,
                 write: Callable[[str], None] | None = None) -> None:
        """`write` sends raw bytes to the terminal (default: the app's driver)."""
        self._app = app
        self._tmux = tmux
        self._write = write or self._driver_write

    def __call__(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            bad = alert.state in ("failed", "upstream_failed") or (
                alert.run is None and "failed" in alert.title)
            self._app.notify(escape_markup(alert.body, max_len=240, newline=" "),
                             title=escape_markup(alert.title, max_len=120, newline=" "),
                             severity="error" if bad else "information", timeout=15)
        self._write(BEL + "".join(desktop_sequence(a, tmux=self._tmux) for a in alerts))

    def _driver_write(self, data: str) -> None:
        driver = self._app._driver  # (Textual's own bell and clipboard write there too)
        if driver is not None and not self._app.is_headless:
            driver.write(data)


def toggle_watch(widget: Widget, alerts: Alerts, watch: Watch | None, over: str | None) -> None:
    """`a`: watch it (or stop); an item already over (`over`: its final state) has nothing to
    wait for. One line in a toast either way."""
    if watch is None:
        return
    label = escape_markup(watch.label(), max_len=120, newline=" ")
    if over is not None and not alerts.watching(watch):
        widget.notify(f"{label} is already {escape_markup(over)}: nothing to wait for.",
                      timeout=4)
    elif alerts.toggle(watch):
        what = "its next run ends" if watch.kind == "dag" else "it ends"
        widget.notify(f"◉ {label}: an alert when {what}.", timeout=4)
    else:
        widget.notify(f"{label}: no alert.", timeout=4)
