"""Each DAG's last run, right whatever the number of DAGs and runs, at a bounded cost.

The TUI's Watcher and `astro-tui dags` share this code.

1. The window: the deployment's newest `LATEST_RUNS_WINDOW` runs (all DAGs, in pages of 100:
   one request on a deployment with fewer runs) give
   every DAG that has a run among them its last run. When the window holds every run of the
   deployment, a DAG without one never ran; otherwise it is *unknown* (`Cache.unknown`), never
   shown as "never ran".
2. Airflow 3 only: the DAG list filtered on the last run's state (``last_dag_run_state``, every
   3.x) tells, with a few paged requests, which DAGs' last run failed, runs or is queued, for
   every DAG (`FILTERED_STATES`; 3.0 does not see a queued run that never started). Airflow 2's
   DAG list has no run filter at all (nor any run field): there, only step 3 tells.
3. One request per DAG (its newest run, ``limit=1``) for the unknown DAGs that matter: those the
   filter says failed, run or are queued, and (TUI) the rows in view (`Watcher.want_latest`),
   each read once; the changes poll keeps them fresh afterwards (a new run shows up there).
   `astro-tui dags` reads at most `CLI_CAP` DAGs this way per call.

Not read this way: a DAG outside the window whose last run succeeded, while its row is not in
view (the TUI shows "…" until then; `dags` says how many were left unread).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.models import Dag, DagRun
from astro_tui.watch.cache import Cache
from astro_tui.watch.schedule import Poll
from astro_tui.watch.settings import LATEST_RUNS_WINDOW

#: the last-run states the Airflow 3 DAG list filter is asked about (success is left out: on a
#: big deployment it is most DAGs, pages and pages)
FILTERED_STATES = ("failed", "running", "queued")
#: DAGs read one by one per round of the Watcher's poll (other polls get their turn between)
ROUND = 8
#: DAGs read one by one per `astro-tui dags` call, at most
CLI_CAP = 200
#: runs per request of the window (the servers' default maximum page)
PAGE = 100
#: DAGs flagged by the filter that the Watcher reads one by one per full read, at most
FLAGGED = 200


@dataclass
class Window:
    """What one full read tells of the last runs."""

    runs: list[DagRun]  # the newest runs, newest first
    complete: bool  # every run is among them: a DAG without one never ran
    states: dict[str, str] = field(default_factory=dict)  # DAGs outside it: last run's state


async def read_window(client: AirflowClient, dag_ids: Sequence[str] | None = None, *,
                      window: int = LATEST_RUNS_WINDOW, pattern: str | None = None,
                      tags: Iterable[str] | None = None, paused: bool | None = None) -> Window:
    """The newest `window` runs (of `dag_ids`, or of every DAG); when there are more, and the
    server has the filter, the state of the last run of every failed/running/queued DAG outside
    them (the filter takes the DAG list's own `pattern`, `tags` and `paused`)."""
    runs, total = await newest_runs(client, dag_ids, window)
    found = Window(runs, total <= len(runs))
    if found.complete or not client.dialect.has_last_run_filter:
        return found
    seen = {r.dag_id for r in runs}
    for state in FILTERED_STATES:
        for dag in await client.list_dags(pattern, tags, paused, last_run_state=state):
            if dag.dag_id not in seen:
                found.states.setdefault(dag.dag_id, state)
    return found


async def newest_runs(client: AirflowClient, dag_ids: Sequence[str] | None,
                      window: int) -> tuple[list[DagRun], int]:
    """The newest `window` runs and the total, a page of `PAGE` at a time (one request while
    the deployment has fewer runs). One 1,000-run page per full read crashed Airflow 3.3.2's
    api-server (SQLite, segmentation fault in `get_list_dag_runs_batch`) on the second read
    in a row; pages of 100 did not."""
    runs, total = await client.list_runs_batch(dag_ids, limit=min(PAGE, window))
    seen = {(r.dag_id, r.run_id) for r in runs}
    while runs and len(runs) < min(window, total):
        page, total = await client.list_runs_batch(
            dag_ids, limit=min(PAGE, window - len(runs)), offset=len(runs))
        new = [r for r in page if (r.dag_id, r.run_id) not in seen]
        if not new:  # (the list shrank meanwhile)
            break
        runs += new
        seen.update((r.dag_id, r.run_id) for r in new)
    return runs, total


async def read_latest(client: AirflowClient, dag_id: str) -> DagRun | None:
    """A DAG's newest run (None: it never ran): one request."""
    runs, _ = await client.list_runs(dag_id, limit=1)
    return runs[0] if runs else None


def to_read(cache: Cache, first: Iterable[str] = ()) -> list[str]:
    """The unknown DAGs worth a request of their own: `first` (rows in view), then those whose
    last run the filter says failed, runs or is queued (by id)."""
    wanted = [d for d in dict.fromkeys(first) if d in cache.unknown]
    hinted = sorted(d for d, state in cache.unknown.items() if state is not None)
    return list(dict.fromkeys([*wanted, *hinted]))


async def read_many(client: AirflowClient, dag_ids: Sequence[str]) -> dict[str, DagRun | None]:
    """Each DAG's newest run; as many in flight as the client lets (its gate)."""
    found = await asyncio.gather(*(read_latest(client, d) for d in dag_ids))
    return dict(zip(dag_ids, found, strict=True))


@dataclass
class LastRuns:
    """Every listed DAG's last run, as `astro-tui dags` reports it."""

    cache: Cache
    unread: int  # unknown DAGs left unread (over the cap)
    requests: int  # DAGs read one by one


async def last_runs(client: AirflowClient, dags: Sequence[Dag], *, cap: int = CLI_CAP,
                    pattern: str | None = None, tags: Iterable[str] | None = None,
                    paused: bool | None = None, window: int = LATEST_RUNS_WINDOW) -> LastRuns:
    """The last run of each of `dags` (the DAG list read with these filters): the window, the
    filter, then up to `cap` DAGs one by one (the filter's first, then by id)."""
    narrowed = pattern or tags or paused is not None
    ids = [d.dag_id for d in dags]
    # A narrowed list: the window of its own DAGs' runs (a request body of ids, bounded)
    found = await read_window(client, ids if narrowed and len(ids) <= 500 else None,
                              window=window, pattern=pattern, tags=tags, paused=paused)
    cache = Cache()
    cache.load(dags, found.runs, found.complete, found.states)
    hinted = to_read(cache)
    targets = [*hinted, *(d for d in sorted(cache.unknown) if d not in hinted)]
    chosen = targets[:cap]
    for dag_id, run in (await read_many(client, chosen)).items():
        cache.resolved(dag_id, run)
    return LastRuns(cache, len(targets) - len(chosen), len(chosen))


class LastRunReader:
    """The Watcher's reader of unknown DAGs' last runs: a poll that reads `ROUND` DAGs at a
    time while some are wanted, each DAG once (the changes poll keeps it fresh afterwards).
    Wanting DAGs already known, read or on the way costs nothing: scrolling asks for no more
    than the rows that are new to it."""

    def __init__(self, cache: Cache, publish: Callable[[], None],
                 failed: Callable[[BaseException], None], clock: Callable[[], float]) -> None:
        self.cache = cache
        self._publish = publish
        self._failed = failed
        self._pending: dict[str, None] = {}  # in order: rows in view first
        self._asked: set[str] = set()  # read (or on the way): never again
        self.requests = 0  # DAGs read one by one so far
        self.poll = Poll("lastrun", None, self._answer, clock=clock)

    def start(self, client: AirflowClient) -> None:
        self.poll.retarget(lambda: self._fetch(client), interval=None)

    def want(self, dag_ids: Iterable[str]) -> None:
        """Read these DAGs' last runs, where unknown (the rows in view)."""
        if self._add(dag_ids, first=True):
            self.poll.poke()

    def loaded(self) -> None:
        """After a full read: the DAGs the filter flagged are read too, at most `FLAGGED` per
        full read (thousands of failed DAGs outside the window: their state shows at once,
        their runs come over several full reads)."""
        if self._add(to_read(self.cache), limit=FLAGGED):
            self.poll.poke()

    def _add(self, dag_ids: Iterable[str], first: bool = False, limit: int | None = None) -> bool:
        new = [d for d in dag_ids if d in self.cache.unknown and d not in self._asked
               and d not in self._pending][:limit]
        if first:
            self._pending = dict.fromkeys([*new, *self._pending])
        else:
            self._pending.update(dict.fromkeys(new))
        return bool(new)

    async def _fetch(self, client: AirflowClient) -> dict[str, DagRun | None]:
        batch = [d for d in self._pending if d in self.cache.unknown][:ROUND]
        for dag_id in list(self._pending):
            if dag_id in batch or dag_id not in self.cache.unknown:
                del self._pending[dag_id]
        self._asked.update(batch)
        try:
            found = await read_many(client, batch)
        except BaseException:
            self._asked.difference_update(batch)  # asked again with the next want
            raise
        self.requests += len(batch)
        return found

    def _answer(self, data: Any, error: BaseException | None) -> None:
        if error is not None:
            self._failed(error)
            return
        changed = False
        for dag_id, run in data.items():
            changed = self.cache.resolved(dag_id, run) or changed
        if changed:
            self._publish()
        if any(d in self.cache.unknown for d in self._pending):
            self.poll.poke()  # the next round, right after this one
