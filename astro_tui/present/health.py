"""How a component's health is named on screen and in the CLI."""

from __future__ import annotations

#: the word for a component that reports no status: not running, or not set up (no triggerer,
#: or Airflow 2's dag-processor inside the scheduler)
NOT_REPORTED = "n/a"


def health_word(status: str | None) -> str:
    """``healthy``, ``unhealthy`` (or whatever the server said), ``n/a`` for no status.
    Not sanitized: callers sanitize."""
    return status or NOT_REPORTED
