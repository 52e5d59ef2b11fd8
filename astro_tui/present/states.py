"""Airflow states: which are active, and one glyph and one colour name per state.

The state name is always shown as text too, so nothing depends on colour alone (16-colour
terminals, NO_COLOR). The colours are plain ANSI names (Rich style strings), which every
terminal maps to something readable.
"""

from __future__ import annotations

#: state -> (glyph, style)
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
    # Airflow 3.3+: a human-in-the-loop task waits for a person. A hand-writing glyph that no
    # other state uses (one cell wide, text presentation), so NO_COLOR still tells it apart.
    "awaiting_input": ("✎", "bold bright_yellow"),
    "removed": ("–", "dim"),
    "none": ("○", "dim"),
}
UNKNOWN_STATE = ("?", "")

#: run states in which a run still changes
ACTIVE_RUN_STATES = frozenset({"queued", "running"})
#: task instance states after which a try changes no more (a clear starts a new try)
FINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


def state_word(state: str | None) -> str:
    """The name shown for a state (None is "none"). Not sanitized: callers sanitize."""
    return state or "none"


def state_style(state: str | None) -> tuple[str, str]:
    """(glyph, style) of a state; unknown states get "?" and no style."""
    return STATE_STYLES.get(state_word(state), UNKNOWN_STATE)


def run_is_active(state: str | None) -> bool:
    """Whether a run can still change: queued, running, or not known yet (None)."""
    return state is None or state in ACTIVE_RUN_STATES
