"""How often a Watcher polls what, and its bounds."""

from __future__ import annotations

from dataclasses import dataclass

#: How many recent runs (all DAGs) give each DAG its "last run" on a full refresh (lastrun.py).
LATEST_RUNS_WINDOW = 1000


@dataclass(frozen=True)
class Settings:
    dags_seconds: float = 30.0  # DAG list + latest run per DAG (full refresh)
    runs_seconds: float = 5.0  # runs changed anywhere (which also refreshes the selected DAG's)
    tasks_seconds: float = 3.0  # task instances of the selected run while it is active
    log_seconds: float = 2.0  # new lines of a running task's log
    health_seconds: float = 15.0  # the components' health (cheap, unauthenticated)
    import_errors_seconds: float = 60.0  # DAG files that fail to import
    #: the failure inbox, re-read at once when the changes poll sees a run fail, start or end
    inbox_seconds: float = 30.0
    inbox_window_seconds: float = 24 * 3600.0  # failures of the last 24 h
    inbox_limit: int = 25  # rows of each kind (failed, running or queued)
    runs_limit: int = 25  # runs shown for the selected DAG
    runs_window: int = LATEST_RUNS_WINDOW  # newest runs read on a full refresh
    #: requests of one deployment on the wire at once, all polls together (issue 13: an Airflow
    #: 3.3 api-server segfaults under concurrent requests at 5,000 DAGs, on SQLite and PostgreSQL)
    max_in_flight: int = 1

    @classmethod
    def from_poll_seconds(cls, seconds: float) -> Settings:
        """A profile's `poll_seconds` (default 5): how fresh run and task states are. A running
        log is read at least every 2 s; DAG metadata (which rarely changes) every 30 s at most."""
        if seconds == 5.0:
            return cls()
        return cls(dags_seconds=max(6 * seconds, 30.0), runs_seconds=seconds,
                   tasks_seconds=seconds, log_seconds=min(seconds, 2.0))
