"""What every screen needs to know about the session, handed down instead of read from the app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo


@dataclass(frozen=True)
class UiContext:
    profile_name: str
    read_only: bool
    now: Callable[[], datetime]  # injected in tests (snapshots)
    tz: tzinfo | None  # None: the local zone
