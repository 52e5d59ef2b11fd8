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
#: Runs remembered at most: an all-day monitor of a busy deployment sees tens of thousands. Over
#: it, the runs that ended longest ago are forgotten (down to three quarters), and a run first
#: seen over that ended no later than them is not new either.
MAX_KNOWN = 20_000


def is_over(run: DagRun) -> bool:
    return run.state is not None and run.state not in ACTIVE_RUN_STATES


class Ends:
    def __init__(self) -> None:
        self.since: datetime | None = None  # None: not watching yet
        self._state: dict[tuple[str, str], str | None] = {}
        self._ended: dict[tuple[str, str], datetime] = {}  # of the runs last seen over
        self.floor: datetime | None = None  # the latest end among the runs forgotten

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
            over = is_over(run)
            if over and run.end_date is not None:
                self._ended[key] = run.end_date
            else:
                self._ended.pop(key, None)
            if before == run.state or not over:
                continue
            if before == _UNSEEN:
                end = run.end_date
                if end is None or end < self.since or (self.floor is not None
                                                       and end <= self.floor):
                    continue
                ended.append((run, None))
            elif before is None or before in ACTIVE_RUN_STATES:
                ended.append((run, before))
        if len(self._state) > MAX_KNOWN:
            self._forget()
        return ended

    def _forget(self) -> None:
        """Forget the runs that ended longest ago, down to three quarters of MAX_KNOWN."""
        excess = len(self._state) - MAX_KNOWN * 3 // 4
        oldest = sorted(self._ended.items(), key=lambda item: item[1])[:max(0, excess)]
        for key, end in oldest:
            del self._state[key], self._ended[key]
            self.floor = end if self.floor is None else max(self.floor, end)
