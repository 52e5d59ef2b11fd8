"""Which runs end now, from every run the Watcher's "changes" poll sees.

A run ends when it was last seen queued or running and is now over (success, failed, …), or
when it is first seen already over and ended after watching began. Runs that were over before
watching began never end here: a monitor started next to yesterday's failures must not ring.
A run that goes from one final state to another (marked success after failing) did not end
again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from astro_tui.airflow.models import DagRun
from astro_tui.present.states import ACTIVE_RUN_STATES

_UNSEEN = "\0unseen"


def is_over(run: DagRun) -> bool:
    return run.state is not None and run.state not in ACTIVE_RUN_STATES


class Ends:
    def __init__(self) -> None:
        self.since: datetime | None = None  # None: not watching yet
        self._state: dict[tuple[str, str], str | None] = {}

    def begin(self, since: datetime, known: Iterable[DagRun]) -> None:
        """Watching begins at `since` (the server's time, roughly); `known` runs are seen."""
        if self.since is None:
            self.since = since
        for run in known:
            self._state.setdefault((run.dag_id, run.run_id), run.state)

    def feed(self, runs: Iterable[DagRun]) -> list[tuple[DagRun, str | None]]:
        """(run, its state before) for each run that ended since it was last seen."""
        ended: list[tuple[DagRun, str | None]] = []
        if self.since is None:
            return ended
        for run in runs:
            key = (run.dag_id, run.run_id)
            before = self._state.get(key, _UNSEEN)
            self._state[key] = run.state
            if before == run.state or not is_over(run):
                continue
            if before == _UNSEEN:
                end = run.end_date
                if end is None or end < self.since:
                    continue
                ended.append((run, None))
            elif before is None or before in ACTIVE_RUN_STATES:
                ended.append((run, before))
        return ended
