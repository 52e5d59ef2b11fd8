"""The app against the recorded fake deployment (tests/ui/log_fake.py), its running task writing a
log line every GROW seconds, every poll at POLL seconds: run in a real terminal by
test_log_terminal.py (`python -m tests.ui.log_follow_app`). Not a test itself."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timezone

from astro_tui.tui.app import AstroTuiApp
from astro_tui.watch.settings import Settings
from tests.ui.log_fake import LogFake

GROW = float(os.environ.get("LOG_FOLLOW_GROW", "0.5"))
POLL = float(os.environ.get("LOG_FOLLOW_POLL", "0.5"))
LAST = int(os.environ.get("LOG_FOLLOW_LAST", "300"))  # the task writes no line after this one


def main() -> None:
    fake = LogFake()
    fake.grow(30)
    # a line wider than the pane, as real logs have (paths, extras): a horizontal scrollbar
    fake.ticks[0]["event"] += " " + "-" * 200
    settings = Settings(dags_seconds=30, runs_seconds=POLL, tasks_seconds=POLL, log_seconds=POLL)
    app = AstroTuiApp(fake.connect, profile_name="fake", settings=settings,
                      now=lambda: datetime.now(timezone.utc), tz=timezone.utc)

    async def grow() -> None:
        while len(fake.ticks) < LAST:
            await asyncio.sleep(GROW)
            fake.grow(1)

    app.call_later(lambda: app.run_worker(grow()))
    app.run()


if __name__ == "__main__":
    main()
