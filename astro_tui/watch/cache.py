"""A Watcher's picture of the deployment: every DAG and the latest run of each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from astro_tui.airflow.models import Dag, DagRun
from astro_tui.watch.events import DagsChanged


def newer(run: DagRun, than: DagRun | None) -> bool:
    """Whether `run` is at least as recent as `than` (the same run counts as newer)."""
    if than is None or run.run_id == than.run_id:
        return True

    def when(r: DagRun) -> datetime:
        return r.run_after or r.logical_date or r.start_date or datetime.min.replace(
            tzinfo=timezone.utc)

    return when(run) >= when(than)


#: runs kept per DAG for its recent-runs strip
RECENT = 10


def _when(run: DagRun) -> datetime:
    return run.run_after or run.logical_date or run.start_date or datetime.min.replace(
        tzinfo=timezone.utc)


class Cache:
    """The DAGs (from the last full read), each one's latest run and its `RECENT` newest runs
    (kept fresh in between from every run read: no request of their own).

    A DAG without a latest run either never ran or ran before the newest runs read (the window,
    watch/lastrun.py): `unknown` holds the second kind until its last run is read, with the
    state of that run where the server's filter told it (Airflow 3), else None."""

    def __init__(self) -> None:
        self.dags: dict[str, Dag] = {}
        self.latest: dict[str, DagRun] = {}
        self.recent: dict[str, list[DagRun]] = {}  # newest first
        #: DAGs whose last run is not known yet -> its state if the server's filter told it
        self.unknown: dict[str, str | None] = {}
        #: DAGs read one by one and found without any run
        self.never: set[str] = set()
        #: the data came from the saved list (watch/saved.py), not the server: when it was
        #: saved (None once the server's list is read)
        self.cached_at: datetime | None = None
        #: DAGs with a new latest run since the last full read: their next run has moved
        #: (DagListFeed re-reads them one by one)
        self.moved: set[str] = set()

    def event(self) -> DagsChanged:
        """All of it, as the DAG list's subscribers receive it."""
        return DagsChanged(dict(self.dags), dict(self.latest),
                           {k: tuple(v) for k, v in self.recent.items()}, self.cached_at,
                           dict(self.unknown))

    def seed(self, saved_at: datetime, dags: dict[str, Dag], latest: dict[str, DagRun],
             recent: dict[str, list[DagRun]],
             unknown: dict[str, str | None] | None = None) -> None:
        """The saved list, until the server's is read (which replaces it whole)."""
        self.dags, self.latest = dict(dags), dict(latest)
        self.recent = {k: sorted(v, key=_when, reverse=True)[:RECENT] for k, v in recent.items()}
        self.unknown = {k: v for k, v in (unknown or {}).items() if k in dags and k not in latest}
        self.cached_at = saved_at

    def load(self, dags: Iterable[Dag], runs: Iterable[DagRun], complete: bool = True,
             states: dict[str, str] | None = None) -> None:
        """A full read: the DAGs and a batch of recent runs (all DAGs). `complete`: the batch
        holds every run (a DAG without one never ran); `states`: the last run's state of DAGs
        outside the batch, as the server's filter tells (Airflow 3)."""
        if self.cached_at is not None:  # the saved list goes whole: nothing of it is kept
            self.cached_at = None
            self.latest, self.recent, self.unknown = {}, {}, {}
        self.dags = {d.dag_id: d for d in dags}
        self.moved = set()
        runs = list(runs)
        recent: dict[str, list[DagRun]] = {}
        for run in runs:
            recent.setdefault(run.dag_id, []).append(run)
        for dag_id, known in self.recent.items():  # runs read since the batch was asked for
            if dag_id in self.dags:
                recent.setdefault(dag_id, []).extend(known)
        self.recent = {}
        for dag_id, found in recent.items():
            self._keep(dag_id, found)
        latest: dict[str, DagRun] = {}
        for run in runs:
            if newer(run, latest.get(run.dag_id)):
                latest[run.dag_id] = run
        # runs read since the batch was asked for (by a runs feed) may be newer than its own;
        # a DAG's last run read before and now older than the batch is still its last run
        for dag_id, run in self.latest.items():
            batch = latest.get(dag_id)
            if dag_id in self.dags and (batch is None or (
                    newer(run, batch) and run.run_id != batch.run_id)):
                latest[dag_id] = run
        self.latest = latest
        if complete:
            self.never = {d for d in self.dags if d not in latest}
        self.unknown = {} if complete else {
            d: (states or {}).get(d) for d in self.dags if d not in latest and d not in self.never}

    def resolved(self, dag_id: str, run: DagRun | None) -> bool:
        """A DAG's newest run, read on its own (None: it has none); whether anything changed."""
        if dag_id not in self.dags:
            return False
        was_unknown = dag_id in self.unknown
        self.unknown.pop(dag_id, None)
        if run is not None:
            return self.note(run) or was_unknown
        if dag_id in self.latest:
            return was_unknown
        changed = was_unknown or dag_id not in self.never
        self.never.add(dag_id)
        return changed

    def _keep(self, dag_id: str, runs: Iterable[DagRun]) -> bool:
        """Merge `runs` into the DAG's recent runs (a run read again replaces its old copy);
        whether they changed."""
        by_id = {r.run_id: r for r in self.recent.get(dag_id, ())}
        for run in runs:
            old = by_id.get(run.run_id)
            if old is None or old != run:
                by_id[run.run_id] = run
        kept = sorted(by_id.values(), key=_when, reverse=True)[:RECENT]
        if kept == self.recent.get(dag_id):
            return False
        self.recent[dag_id] = kept
        return True

    def note_runs(self, dag_id: str, runs: Iterable[DagRun]) -> bool:
        """A page of the DAG's newest runs, or runs that changed: whether the recent runs or
        the latest run changed."""
        if dag_id not in self.dags:
            return False
        runs = list(runs)
        if not runs:  # the DAG's newest runs: none at all
            return self.resolved(dag_id, None)
        changed = False
        for run in runs:
            changed = self.note(run) or changed
        return changed

    def note(self, run: DagRun) -> bool:
        """Keep `run` among its DAG's recent runs, and as its latest if it is; whether either
        changed."""
        if run.dag_id not in self.dags:
            return False
        changed = self._keep(run.dag_id, [run])
        self.never.discard(run.dag_id)
        if run.dag_id in self.unknown:  # (a run seen changing: its newest, nearly always)
            del self.unknown[run.dag_id]
            changed = True
        if not newer(run, self.latest.get(run.dag_id)):
            return changed
        before = self.latest.get(run.dag_id)
        if before is None or before.run_id != run.run_id:
            self.moved.add(run.dag_id)
        changed = changed or before != run
        self.latest[run.dag_id] = run
        return changed

    def replace_dags(self, dags: Iterable[Dag]) -> bool:
        """DAGs read again one by one (their runs stay); whether any of them changed."""
        changed = False
        for dag in dags:
            if dag.dag_id in self.dags and self.dags[dag.dag_id] != dag:
                self.dags[dag.dag_id] = dag
                changed = True
        return changed
