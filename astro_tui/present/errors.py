"""One line for an error, the same in the status bar, a toast and the CLI's stderr."""

from __future__ import annotations

from astro_tui.airflow.errors import ApiError, Forbidden

#: what a 403 means to the user
FORBIDDEN = "your token cannot do this"


def error_message(err: BaseException) -> str:
    """What went wrong, in words: a 403 plainly, API errors by their message, others by type.
    Used where the context already says what was attempted ("Trigger failed: …")."""
    if isinstance(err, Forbidden):
        return f"{FORBIDDEN} ({err.message})"
    if isinstance(err, ApiError):
        return err.message
    return f"{type(err).__name__}: {err}"


def error_line(err: BaseException | None) -> str:
    """The kind and the message, for a status line: ``Unreachable: connection refused``.
    Not sanitized or cut: callers do that for their medium."""
    if err is None:
        return ""
    message = err.message if isinstance(err, ApiError) else str(err)
    return f"{type(err).__name__}: {message}"
