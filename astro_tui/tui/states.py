"""One colour and one glyph per Airflow state, used by every pane.

The state name is always shown as text too, so nothing depends on colour alone (16-colour
terminals, NO_COLOR). The colours are plain ANSI names, which every terminal maps to something
readable.
"""

from __future__ import annotations

from rich.text import Text

# state -> (glyph, style)
STATE_STYLES: dict[str, tuple[str, str]] = {
    "success": ("●", "green"),
    "failed": ("✖", "bold red"),
    "running": ("▶", "bold cyan"),
    "queued": ("…", "blue"),
    "scheduled": ("◌", "blue"),
    "up_for_retry": ("↻", "yellow"),
    "up_for_reschedule": ("↻", "cyan"),
    "restarting": ("↻", "magenta"),
    "upstream_failed": ("⊘", "bold yellow"),
    "skipped": ("»", "magenta"),
    "deferred": ("◷", "bright_magenta"),
    "removed": ("–", "dim"),
    "none": ("○", "dim"),
}

ACTIVE_RUN_STATES = frozenset({"queued", "running"})
ACTIVE_TI_STATES = frozenset(
    {"running", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "restarting",
     "deferred", "none"}
)


def state_text(state: str | None, *, glyph: bool = True) -> Text:
    """A coloured state label: "● success". Unknown states are shown plainly, sanitized."""
    from astro_tui.text import clean

    name = clean(state) if state else "none"
    mark, style = STATE_STYLES.get(name, ("?", ""))
    return Text(f"{mark} {name}" if glyph else name, style=style)
