"""The "runs changed since" poll: one cheap query that keeps every run state fresh.

Once the DAG list is loaded, it asks every `runs_seconds` for the runs (of any DAG) updated since
its last answer (minus 30 s of clock slack between us and the server), and hands them to the
Watcher, which tells the cache and the feeds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.models import DagRun
from astro_tui.watch.schedule import Poll

#: the server's clock may be behind ours: ask for a little more than since the last answer
CLOCK_SLACK = timedelta(seconds=30)
#: changed runs read per poll (more than this many changing within one interval is rare)
CHANGES_LIMIT = 100


class Changes:
    """`seen(runs, recovered)` after every good answer; `failed(error)` after a bad one."""

    def __init__(
        self,
        interval: float,
        client: Callable[[], AirflowClient | None],
        now: Callable[[], datetime],
        seen: Callable[[list[DagRun], bool], None],
        failed: Callable[[BaseException], None],
        clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._now = now
        self._seen = seen
        self._failed = failed
        self._since: datetime | None = None
        self._failing = False
        self.poll = Poll("changes", interval, self._answer, clock=clock)

    def start(self, loaded_at: datetime) -> None:
        """The DAG list was read as of `loaded_at`: from now on ask only for what changed."""
        if self._since is None:
            self._since = loaded_at - CLOCK_SLACK
            self.poll.retarget(self._fetch, delay=self.poll.interval or 0.0)

    def stop(self) -> None:
        self.poll.retarget(None)
        self._since = None

    async def _fetch(self) -> tuple[datetime, list[DagRun]]:
        client = self._client()
        assert client is not None
        started = self._now()
        runs, _ = await client.list_runs("~", limit=CHANGES_LIMIT, updated_at_gte=self._since)
        return started, runs

    def _answer(self, data: Any, error: BaseException | None) -> None:
        recovered = self._failing and error is None
        self._failing = error is not None
        if error is not None:
            self._failed(error)
            return
        started, runs = data
        self._since = started - CLOCK_SLACK
        self._seen(runs, recovered)
