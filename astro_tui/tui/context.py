"""What every screen needs to know about the session, handed down instead of read from the app."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

#: how long a notice stays on the status line
NOTICE_SECONDS = 30.0


@dataclass(frozen=True)
class UiContext:
    profile_name: str
    read_only: bool
    now: Callable[[], datetime]  # injected in tests (snapshots)
    tz: tzinfo | None  # None: the local zone
    #: (one line, until when on time.monotonic): shown on the status line for a while
    notices: list[tuple[str, float]] = field(default_factory=list)

    def notice(self, text: str, seconds: float = NOTICE_SECONDS) -> None:
        self.notices.append((text, time.monotonic() + seconds))

    def current_notice(self) -> str | None:
        now = time.monotonic()
        self.notices[:] = [n for n in self.notices if n[1] > now]
        return self.notices[0][0] if self.notices else None
