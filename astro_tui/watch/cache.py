"""A Watcher's picture of the deployment: every DAG and the latest run of each."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

from astro_tui.airflow.models import Dag, DagRun


def newer(run: DagRun, than: DagRun | None) -> bool:
    """Whether `run` is at least as recent as `than` (the same run counts as newer)."""
    if than is None or run.run_id == than.run_id:
        return True

    def when(r: DagRun) -> datetime:
        return r.run_after or r.logical_date or r.start_date or datetime.min.replace(
            tzinfo=timezone.utc)

    return when(run) >= when(than)


class Cache:
    """The DAGs (from the last full read) and each one's latest run (kept fresh in between)."""

    def __init__(self) -> None:
        self.dags: dict[str, Dag] = {}
        self.latest: dict[str, DagRun] = {}

    def load(self, dags: Iterable[Dag], runs: Iterable[DagRun]) -> None:
        """A full read: the DAGs and a batch of recent runs (all DAGs)."""
        self.dags = {d.dag_id: d for d in dags}
        latest: dict[str, DagRun] = {}
        for run in runs:
            if newer(run, latest.get(run.dag_id)):
                latest[run.dag_id] = run
        # runs read since the batch was asked for (by a runs feed) may be newer than its own
        for dag_id, run in self.latest.items():
            if dag_id in self.dags and newer(run, latest.get(dag_id)) and \
                    run.run_id != (latest.get(dag_id) or run).run_id:
                latest[dag_id] = run
        self.latest = latest

    def note(self, run: DagRun) -> bool:
        """Keep `run` as its DAG's latest if it is; whether the latest run changed."""
        if run.dag_id not in self.dags or not newer(run, self.latest.get(run.dag_id)):
            return False
        changed = self.latest.get(run.dag_id) != run
        self.latest[run.dag_id] = run
        return changed
