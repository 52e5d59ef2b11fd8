"""Durations and times. ``now`` is always passed in, so snapshots and tests are deterministic."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo


def duration(seconds: float | None) -> str:
    """``5s``, ``3m07s``, ``2h05m``, ``3d04h``; empty for None."""
    if seconds is None:
        return ""
    whole = max(0, int(round(seconds)))
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{mins:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def elapsed(start: datetime | None, end: datetime | None, api_duration: float | None,
            now: datetime) -> float | None:
    """The API's duration, or the time since start for a run or task still going."""
    if api_duration is not None:
        return api_duration
    if start is None:
        return None
    return ((end or now) - start).total_seconds()


def short_time(dt: datetime | None, now: datetime, tz: tzinfo | None = None) -> str:
    """Local time, short: ``09:59:32`` today, ``11-24 09:59`` this year, else the date."""
    if dt is None:
        return ""
    local = dt.astimezone(tz)
    here = now.astimezone(tz)
    if local.date() == here.date():
        return local.strftime("%H:%M:%S")
    if local.year == here.year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z: ``2026-01-31T10:00:00.123456Z``."""
    if value is None:
        return None
    return _utc(value).isoformat().replace("+00:00", "Z")


def utc_time(value: datetime | None) -> str:
    """Table form of a time in the CLI: ``2026-01-31 10:00:00Z`` (UTC), or empty."""
    if value is None:
        return ""
    return _utc(value).strftime("%Y-%m-%d %H:%M:%SZ")
