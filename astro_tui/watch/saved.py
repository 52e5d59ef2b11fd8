"""The last DAG list, kept per profile, so that the next start paints at once.

``<state dir>/cache/<profile>.json`` (astro_tui/state.py's folder), written atomically with mode
0600 on quit: the DAGs, each one's latest run and its recent runs, in the API's own shapes (read
back by the models' tolerant parsers). Run confs and notes are left out (a conf can hold what a
user would not keep on disk); so is everything else that is not shown in the lists. On start the
Watcher shows it marked with its age (`DagsChanged.cached_at`) until the server's list arrives.
A missing, damaged or foreign file is no cache, silently: the server's list comes anyway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from astro_tui.airflow.models import Dag, DagRun
from astro_tui.config import write_private
from astro_tui.paths import profile_file
from astro_tui.present.times import iso

VERSION = 1
#: the recent runs kept, all DAGs together (the newest): a bounded file at any size
MAX_RECENT_RUNS = 2000


@dataclass(frozen=True)
class SavedDags:
    saved_at: datetime
    dags: dict[str, Dag]
    latest: dict[str, DagRun]
    recent: dict[str, list[DagRun]]
    #: DAGs whose last run was not known (Cache.unknown): shown as not known, not as never ran
    unknown: dict[str, str | None] = field(default_factory=dict)


def dag_json(d: Dag) -> dict[str, Any]:
    return {"dag_id": d.dag_id, "dag_display_name": d.display_name, "is_paused": d.is_paused,
            "description": d.description, "owners": d.owners, "tags": d.tags,
            "timetable_description": d.schedule, "next_dagrun_run_after": iso(d.next_run),
            "has_import_errors": d.has_import_errors, "fileloc": d.fileloc}


def run_json(r: DagRun) -> dict[str, Any]:
    return {"dag_id": r.dag_id, "dag_run_id": r.run_id, "state": r.state,
            "run_type": r.run_type, "logical_date": iso(r.logical_date),
            "run_after": iso(r.run_after), "start_date": iso(r.start_date),
            "end_date": iso(r.end_date), "duration": r.duration,
            "triggered_by": r.triggered_by, "queued_at": iso(r.queued_at)}


class DagListStore:
    def __init__(self, profile: str, path: Path | None = None) -> None:
        self.profile = profile
        self.path = path or profile_file(profile, "cache")

    def save(self, saved_at: datetime, dags: Mapping[str, Dag], latest: Mapping[str, DagRun],
             recent: Mapping[str, Iterable[DagRun]],
             unknown: Mapping[str, str | None] | None = None) -> None:
        """Raises OSError when it cannot be written."""
        runs = sorted((r for rs in recent.values() for r in rs),
                      key=lambda r: r.run_after or r.start_date or saved_at, reverse=True)
        doc = {"version": VERSION, "profile": self.profile, "saved_at": iso(saved_at),
               "dags": [dag_json(d) for d in dags.values()],
               "latest": [run_json(r) for r in latest.values()],
               "recent": [run_json(r) for r in runs[:MAX_RECENT_RUNS]],
               # (an addition to version 1: a file without it knows of none)
               "unknown": dict(unknown or {})}
        write_private(self.path, json.dumps(doc, separators=(",", ":")))

    def load(self) -> SavedDags | None:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or doc.get("version") != VERSION \
                    or doc.get("profile") != self.profile:
                return None
            saved_at = datetime.fromisoformat(str(doc["saved_at"]).replace("Z", "+00:00"))
            dags = [Dag.from_json(d) for d in doc["dags"]]
            latest = [DagRun.from_json(r) for r in doc["latest"]]
            recent_runs = [DagRun.from_json(r) for r in doc["recent"]]
            unknown = doc.get("unknown") or {}
            if not isinstance(unknown, dict):
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        known = {d.dag_id: d for d in dags if d.dag_id}
        recent: dict[str, list[DagRun]] = {}
        for run in recent_runs:
            if run.dag_id in known:
                recent.setdefault(run.dag_id, []).append(run)
        return SavedDags(saved_at, known, {r.dag_id: r for r in latest if r.dag_id in known},
                         recent, {str(k): v if isinstance(v, str) else None
                                  for k, v in unknown.items() if k in known})
