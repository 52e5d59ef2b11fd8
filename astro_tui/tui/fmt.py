"""Formatting of times and durations for the panes. `now` is always passed in (snapshot tests)."""

from __future__ import annotations

from datetime import datetime, timezone


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, s = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{s:02d}s"
    hours, m = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{m:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def fmt_time(dt: datetime | None, now: datetime, tz: timezone | None = None) -> str:
    """Short local time: "09:59:32" today, "11-24 09:59" this year, else the date."""
    if dt is None:
        return ""
    local = dt.astimezone(tz)
    here = now.astimezone(tz)
    if local.date() == here.date():
        return local.strftime("%H:%M:%S")
    if local.year == here.year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d")


def run_duration(start: datetime | None, end: datetime | None, duration: float | None,
                 now: datetime) -> float | None:
    """The API's duration, or the time since start for a run or task still going."""
    if duration is not None:
        return duration
    if start is None:
        return None
    return ((end or now) - start).total_seconds()
