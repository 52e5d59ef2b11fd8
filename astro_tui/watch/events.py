"""What a Watcher tells its subscribers, one class per event, and what they can subscribe to.

Topics are values (frozen dataclasses): two screens showing the runs of the same DAG share one
poll. Events carry the data they announce; the Watcher keeps its own copy (its cache).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from astro_tui.airflow.models import Dag, DagImportError, DagRun, DagWarning, Health, TaskInstance
from astro_tui.watch.inbox import Inbox

# -- topics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DagList:
    """Every DAG, with the latest run of each."""


@dataclass(frozen=True)
class RunsOf:
    """The newest runs of one DAG."""

    dag_id: str


@dataclass(frozen=True)
class TasksOf:
    """Every task instance of one run."""

    dag_id: str
    run_id: str


@dataclass(frozen=True)
class LogOf:
    """One try's log (None: the latest try), followed while the try runs."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int | None = None


@dataclass(frozen=True)
class HealthOf:
    """The deployment's components (metadatabase, scheduler, triggerer, dag-processor)."""


@dataclass(frozen=True)
class ImportErrorsOf:
    """The DAG files that fail to import, with their errors."""


@dataclass(frozen=True)
class InboxOf:
    """What failed in the last `window` seconds (with each run's first failed task), then what
    runs or is queued."""

    window: float = 24 * 3600.0


Topic = DagList | RunsOf | TasksOf | LogOf | HealthOf | ImportErrorsOf | InboxOf
#: topics shared by every subscriber (a log is followed per subscriber)
SharedTopic = DagList | RunsOf | TasksOf | HealthOf | ImportErrorsOf | InboxOf

_KINDS: dict[type, str] = {DagList: "dags", RunsOf: "runs", TasksOf: "tasks", LogOf: "log",
                           HealthOf: "health", ImportErrorsOf: "import_errors", InboxOf: "inbox"}


def topic_kind(topic: Topic) -> str:
    """"dags", "runs", "tasks", "log", "health" or "import_errors": the topic's poll's name."""
    return _KINDS[type(topic)]


# -- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Connected:
    """The Watcher has a working client (after start or a reconnect)."""

    version: str


@dataclass(frozen=True)
class DagsChanged:
    """The DAG list or the latest run of some DAG changed."""

    dags: Mapping[str, Dag]
    latest: Mapping[str, DagRun]
    #: each DAG's newest runs (up to 10, newest first) among those read so far: the strip
    recent: Mapping[str, Sequence[DagRun]] = field(default_factory=dict)
    #: the saved list of the last session (when it was saved), shown until the server's comes
    cached_at: datetime | None = None
    #: DAGs whose last run is not known yet (older than the newest runs read, and not read on
    #: its own yet), with that run's state where the server's filter told it: never shown as
    #: "never ran"
    unknown: Mapping[str, str | None] = field(default_factory=dict)
    #: the first read of the list is still going on: these are the pages read so far (shown at
    #: once on a big deployment), more DAGs and their runs come
    partial: bool = False


@dataclass(frozen=True)
class RunsChanged:
    dag_id: str
    runs: Sequence[DagRun]  # newest first
    total: int  # runs the DAG has in all (more than shown when over the limit)


@dataclass(frozen=True)
class TasksChanged:
    dag_id: str
    run_id: str
    tis: Sequence[TaskInstance]


@dataclass(frozen=True)
class LogRead:
    """New lines of a followed log, as the subscriber's sink made them (`data`).

    `partial`: more of the same read follows (a big log arrives in pieces). `finished`: the try
    is over and its whole log was read; polling has stopped."""

    topic: LogOf
    data: Any
    partial: bool
    finished: bool
    try_number: int | None  # the try being read (known after the first read)
    ti: TaskInstance | None  # its task instance, as last read


@dataclass(frozen=True)
class HealthChanged:
    """The components' health, as last read (heartbeats move on every read)."""

    health: Health
    read_at: datetime  # when it was read (heartbeat ages are counted from here)


@dataclass(frozen=True)
class ImportErrorsChanged:
    """The import errors or the DAG warnings changed (or were read for the first time)."""

    errors: Sequence[DagImportError]
    warnings: Sequence[DagWarning] = ()  # DAG warnings, read with the errors


@dataclass(frozen=True)
class InboxChanged:
    inbox: Inbox


@dataclass(frozen=True)
class RunEnded:
    """A run ended while the Watcher watched (to listeners; needs the DAG list subscribed,
    whose "changes" poll sees every run). Runs over before watching began never end here."""

    run: DagRun
    before: str | None  # its state when last seen (None: first seen already over)


@dataclass(frozen=True)
class PollFailed:
    """A poll failed; its subscribers keep their last data (now stale)."""

    kind: str  # "connect", "dags", "changes", "runs", "tasks", "log", "health",
    # "import_errors", "probe"
    topic: Topic | None
    error: BaseException


Event = (Connected | DagsChanged | RunsChanged | TasksChanged | LogRead | HealthChanged
         | ImportErrorsChanged | InboxChanged | RunEnded | PollFailed)
