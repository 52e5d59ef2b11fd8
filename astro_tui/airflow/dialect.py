"""Everything that differs between the Airflow 2 REST API (v1) and the Airflow 3 one (v2).

The client asks its dialect for an :class:`Op` (method, path segments, query, body, whether it may
be retried) and for the parsing of version-specific answers; it never branches on the version
itself. Path segments are quoted by the client, one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from astro_tui.airflow import logs
from astro_tui.airflow.errors import Unsupported
from astro_tui.airflow.models import LogChunk, Version

__all__ = ["Op", "Dialect", "DialectV1", "DialectV2", "dialect_for"]

FollowMode = Literal["text", "token", "poll"]


@dataclass(frozen=True, slots=True)
class Op:
    """One HTTP call, described independently of the transport."""

    method: str
    path: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    #: reads (GET and the batch-list POST) may be retried; writes never are
    retry: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def _iso(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetimes sent to Airflow must be timezone-aware")
    return value.isoformat()


def _run_path(dag_id: str, run_id: str, *rest: str) -> tuple[str, ...]:
    return ("dags", dag_id, "dagRuns", run_id, *rest)


class Dialect:
    """What both versions share; subclasses override what differs."""

    api_major: int = 0
    api_prefix: str = ""
    #: page size we ask for (both servers clamp at [api] maximum_page_limit, 100 by default)
    page_size: int = 100
    #: ``order_by`` that lists a DAG's runs newest first
    runs_newest_first: str = ""
    #: ``order_by`` that lists runs by when they ended, latest first (same on v1 and v2)
    runs_last_ended: str = "-end_date"
    #: query key that hides DAGs the parser no longer sees
    dags_active_filter: tuple[str, str] = ("", "")
    #: Accept header of the log call
    log_accept: str = "application/json"
    #: health paths, relative to the root URL, tried in order
    health_paths: tuple[str, ...] = ()
    #: the DAG list filters on the state of each DAG's last run (``last_dag_run_state``): every
    #: Airflow 3 (3.0.6 and 3.3.2 specs); Airflow 2's ``/api/v1/dags`` has no run filter at all
    has_last_run_filter: bool = False

    def __init__(self, version: Version) -> None:
        self.version = version

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.version})"

    # -- DAGs ---------------------------------------------------------------------------------
    def list_dags(
        self,
        *,
        offset: int,
        limit: int,
        pattern: str | None = None,
        tags: Iterable[str] | None = None,
        paused: bool | None = None,
        last_run_state: str | None = None,
    ) -> Op:
        key, value = self.dags_active_filter
        params: dict[str, Any] = {"limit": limit, "offset": offset, "order_by": "dag_id", key: value}
        if pattern:
            params["dag_id_pattern"] = pattern
        if tags:
            params["tags"] = list(tags)
        if paused is not None:
            params["paused"] = "true" if paused else "false"
        if last_run_state is not None:
            if not self.has_last_run_filter:
                raise Unsupported(f"the DAG list has no last-run filter on Airflow {self.version}")
            # 3.0: "last" = the newest run that has started (a queued run that never started is
            # not seen); 3.3: the newest run (highest id).
            params["last_dag_run_state"] = last_run_state
        return Op("GET", ("dags",), params, retry=True)

    def get_dag_details(self, dag_id: str) -> Op:
        return Op("GET", ("dags", dag_id, "details"), retry=True)

    def get_dag(self, dag_id: str) -> Op:
        """One DAG, with the fields of the DAG list (v1 and v2 alike)."""
        return Op("GET", ("dags", dag_id), retry=True)

    def list_dag_versions(self, *, limit: int) -> Op | None:
        """Every DAG's versions (None: the server keeps none; Airflow 2)."""
        return None

    def set_paused(self, dag_id: str, paused: bool) -> Op:
        return Op("PATCH", ("dags", dag_id), {"update_mask": "is_paused"}, {"is_paused": paused})

    def list_import_errors(self, *, offset: int, limit: int) -> Op:
        return Op("GET", ("importErrors",), {"limit": limit, "offset": offset}, retry=True)

    def list_dag_warnings(self, *, offset: int, limit: int) -> Op:
        """DAG warnings (an asset conflict, a pool that does not exist, …): v1 and v2 alike."""
        return Op("GET", ("dagWarnings",), {"limit": limit, "offset": offset}, retry=True)

    # -- runs ---------------------------------------------------------------------------------
    def list_runs(
        self,
        dag_id: str,
        *,
        limit: int,
        offset: int,
        states: Iterable[str] | None = None,
        updated_at_gte: datetime | None = None,
    ) -> Op:
        params: dict[str, Any] = {
            "limit": limit,
            "offset": offset,
            "order_by": self.runs_newest_first,
        }
        if states:
            params["state"] = list(states)
        if updated_at_gte is not None:
            params["updated_at_gte"] = _iso(updated_at_gte)
        return Op("GET", ("dags", dag_id, "dagRuns"), params, retry=True)

    def list_runs_batch(
        self,
        dag_ids: Iterable[str] | None,
        *,
        limit: int,
        offset: int,
        states: Iterable[str] | None = None,
        start_date_gte: datetime | None = None,
        end_date_gte: datetime | None = None,
        order_by: str | None = None,
    ) -> Op:
        body: dict[str, Any] = {
            "order_by": order_by or self.runs_newest_first,
            "page_offset": offset,
            "page_limit": limit,
        }
        if dag_ids is not None:
            body["dag_ids"] = list(dag_ids)
        if states:
            body["states"] = list(states)
        if start_date_gte is not None:
            body["start_date_gte"] = _iso(start_date_gte)
        if end_date_gte is not None:
            body["end_date_gte"] = _iso(end_date_gte)
        return Op("POST", ("dags", "~", "dagRuns", "list"), json=body, retry=True)

    def get_run(self, dag_id: str, run_id: str) -> Op:
        return Op("GET", _run_path(dag_id, run_id), retry=True)

    def trigger(
        self,
        dag_id: str,
        conf: Mapping[str, Any] | None,
        *,
        logical_date: datetime | None = None,
        run_id: str | None = None,
        note: str | None = None,
    ) -> Op:
        body = self._trigger_body(logical_date)
        body["conf"] = dict(conf or {})
        if run_id:
            body["dag_run_id"] = run_id
        if note is not None:
            body["note"] = note
        return Op("POST", ("dags", dag_id, "dagRuns"), json=body)

    def _trigger_body(self, logical_date: datetime | None) -> dict[str, Any]:
        raise NotImplementedError

    def set_run_state(self, dag_id: str, run_id: str, state: str) -> Op:
        return Op("PATCH", _run_path(dag_id, run_id), json={"state": state})

    # -- task instances -----------------------------------------------------------------------
    def list_task_instances(self, dag_id: str, run_id: str, *, limit: int, offset: int) -> Op:
        return Op(
            "GET",
            _run_path(dag_id, run_id, "taskInstances"),
            {"limit": limit, "offset": offset},
            retry=True,
        )

    def list_task_instances_batch(
        self,
        dag_ids: Iterable[str],
        run_ids: Iterable[str],
        *,
        limit: int,
        offset: int,
        states: Iterable[str] | None = None,
        start_date_gte: datetime | None = None,
    ) -> Op:
        """TIs of several runs in one call (``POST /dags/~/dagRuns/~/taskInstances/list``).

        The server matches ``dag_ids`` and ``run_ids`` separately (run ids are unique per DAG
        only): callers keep the (dag_id, run_id) pairs they asked for. ``start_date_gte`` is
        only a narrowing for servers that cannot filter by run id."""
        body: dict[str, Any] = {
            "dag_ids": list(dag_ids),
            "dag_run_ids": list(run_ids),
            "page_offset": offset,
            "page_limit": limit,
        }
        if states:
            body["state"] = list(states)
        path = ("dags", "~", "dagRuns", "~", "taskInstances", "list")
        return Op("POST", path, json=body, retry=True)

    def get_task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> Op:
        path = _run_path(dag_id, run_id, "taskInstances", task_id)
        if map_index >= 0:
            path += (str(map_index),)
        return Op("GET", path, retry=True)

    def clear_task_instances(
        self,
        dag_id: str,
        run_id: str,
        task_ids: Iterable[str],
        *,
        dry_run: bool,
        include_downstream: bool = False,
        include_upstream: bool = False,
        only_failed: bool = False,
    ) -> Op:
        # Both servers default dry_run and only_failed to true: always send explicit values.
        body = {
            "dry_run": bool(dry_run),
            "dag_run_id": run_id,
            "task_ids": list(task_ids),
            "only_failed": bool(only_failed),
            "only_running": False,
            "include_upstream": bool(include_upstream),
            "include_downstream": bool(include_downstream),
            "include_future": False,
            "include_past": False,
            # v1 defaults to False (a finished run would stay finished and never re-run the
            # cleared tasks); v2 defaults to True. Explicit on both.
            "reset_dag_runs": True,
        }
        return Op("POST", ("dags", dag_id, "clearTaskInstances"), json=body)

    def set_task_state(
        self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int
    ) -> Op:
        raise NotImplementedError

    def clear_run(self, dag_id: str, run_id: str, *, dry_run: bool, only_failed: bool = False) -> Op:
        """Clear every task of a run (``dry_run`` defaults to true on the server: always sent).

        A dry run answers with the task instances that would be cleared; a real clear answers
        with the run (whole-run route) or the cleared task instances (v1 ``only_failed``)."""
        body = {"dry_run": bool(dry_run), "only_failed": bool(only_failed)}
        return Op("POST", _run_path(dag_id, run_id, "clear"), json=body)

    # -- human-in-the-loop (Airflow 3.1+) -------------------------------------------------------
    @property
    def has_hitl(self) -> bool:
        """Whether the server has the HITL endpoints (Airflow 3.1+; never Airflow 2 or 3.0)."""
        return False

    def list_hitl(self, *, pending: bool, limit: int, offset: int) -> Op:
        raise Unsupported(f"human-in-the-loop needs Airflow 3.1 or later (server: {self.version})")

    def get_hitl(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> Op:
        raise Unsupported(f"human-in-the-loop needs Airflow 3.1 or later (server: {self.version})")

    def respond_hitl(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        chosen_options: Iterable[str],
        params_input: Mapping[str, Any] | None,
    ) -> Op:
        raise Unsupported(f"human-in-the-loop needs Airflow 3.1 or later (server: {self.version})")

    # -- logs ---------------------------------------------------------------------------------
    def read_log(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        try_number: int,
        *,
        map_index: int = -1,
        token: str | None = None,
        full_content: bool = False,
    ) -> Op:
        params: dict[str, Any] = {"map_index": map_index}
        if full_content:
            params["full_content"] = "true"
        if token:
            params["token"] = token
        path = _run_path(dag_id, run_id, "taskInstances", task_id, "logs", str(try_number))
        return Op("GET", path, params, retry=True, headers={"Accept": self.log_accept})

    def parse_log(self, payload: Mapping[str, Any]) -> LogChunk:
        raise NotImplementedError

    def follow_mode(self) -> FollowMode:
        """How :class:`~astro_tui.airflow.logs.LogFollower` tails a running task's log."""
        raise NotImplementedError


class DialectV1(Dialect):
    """Airflow 2.x, ``/api/v1`` (connexion)."""

    api_major = 1
    api_prefix = "/api/v1"
    runs_newest_first = "-execution_date"
    dags_active_filter = ("only_active", "true")
    health_paths = ("/api/v1/health", "/health")

    def _trigger_body(self, logical_date: datetime | None) -> dict[str, Any]:
        # v1 rejects "logical_date": null (400); leaving it out means "now".
        return {} if logical_date is None else {"logical_date": _iso(logical_date)}

    def set_task_state(
        self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int
    ) -> Op:
        path = _run_path(dag_id, run_id, "taskInstances", task_id)
        if map_index >= 0:
            path += (str(map_index),)
        # v1's single-TI PATCH defaults to dry_run=true: say false explicitly.
        return Op("PATCH", path, json={"new_state": state, "dry_run": False})

    def clear_run(self, dag_id: str, run_id: str, *, dry_run: bool, only_failed: bool = False) -> Op:
        if not only_failed:
            # v1's body has "dry_run" only (marshmallow rejects unknown keys with a 400).
            return Op("POST", _run_path(dag_id, run_id, "clear"), json={"dry_run": bool(dry_run)})
        # "only failed" exists only on clearTaskInstances: every task of the run, failed ones.
        body = {
            "dry_run": bool(dry_run),
            "dag_run_id": run_id,
            "only_failed": True,
            "only_running": False,
            "include_upstream": False,
            "include_downstream": False,
            "include_future": False,
            "include_past": False,
            "reset_dag_runs": True,
        }
        return Op("POST", ("dags", dag_id, "clearTaskInstances"), json=body)

    def list_task_instances_batch(
        self,
        dag_ids: Iterable[str],
        run_ids: Iterable[str],
        *,
        limit: int,
        offset: int,
        states: Iterable[str] | None = None,
        start_date_gte: datetime | None = None,
    ) -> Op:
        # ListTaskInstanceForm has no order_by (and rejects unknown keys with a 400);
        # dag_run_ids is "New in version 2.7.1": before, the DAGs and a start time narrow it.
        op = super().list_task_instances_batch(
            dag_ids, run_ids, limit=limit, offset=offset, states=states
        )
        if self.version.as_tuple < (2, 7, 1):
            del op.json["dag_run_ids"]
            if start_date_gte is not None:
                op.json["start_date_gte"] = _iso(start_date_gte)
        return op

    def parse_log(self, payload: Mapping[str, Any]) -> LogChunk:
        text = logs.v1_content_text(payload.get("content"))
        token = payload.get("continuation_token") or None
        return LogChunk(logs.text_to_lines(text), token, logs.v1_end_of_log(token))

    def follow_mode(self) -> FollowMode:
        return "text"


class DialectV2(Dialect):
    """Airflow 3.x, ``/api/v2`` (FastAPI)."""

    api_major = 2
    api_prefix = "/api/v2"
    runs_newest_first = "-run_after"
    dags_active_filter = ("exclude_stale", "true")
    health_paths = ("/api/v2/monitor/health",)
    has_last_run_filter = True

    def _trigger_body(self, logical_date: datetime | None) -> dict[str, Any]:
        # The key is mandatory on every 3.x checked; null means "now".
        return {"logical_date": None if logical_date is None else _iso(logical_date)}

    def set_run_state(self, dag_id: str, run_id: str, state: str) -> Op:
        return Op("PATCH", _run_path(dag_id, run_id), {"update_mask": "state"}, {"state": state})

    def list_dag_versions(self, *, limit: int) -> Op | None:
        # `~`: every DAG's versions (3.0.6 and 3.3.2 specs); a DAG file whose DAG changed gets
        # a new version when it is parsed, so the total moves with any DAG's structure.
        return Op("GET", ("dags", "~", "dagVersions"), {"limit": limit}, retry=True)

    def list_task_instances(self, dag_id: str, run_id: str, *, limit: int, offset: int) -> Op:
        op = super().list_task_instances(dag_id, run_id, limit=limit, offset=offset)
        op.params["order_by"] = "map_index"  # the default, but explicit: stable paging
        return op

    def list_task_instances_batch(
        self,
        dag_ids: Iterable[str],
        run_ids: Iterable[str],
        *,
        limit: int,
        offset: int,
        states: Iterable[str] | None = None,
        start_date_gte: datetime | None = None,
    ) -> Op:
        op = super().list_task_instances_batch(
            dag_ids, run_ids, limit=limit, offset=offset, states=states
        )
        op.json["order_by"] = "end_date"  # the first to end first: stable paging too
        return op

    def set_task_state(
        self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int
    ) -> Op:
        # Not a dry run by default on v2 (the preview is a separate /dry_run route).
        params = {"update_mask": "new_state", "map_index": map_index}
        return Op(
            "PATCH",
            _run_path(dag_id, run_id, "taskInstances", task_id),
            params,
            {"new_state": state},
        )

    @property
    def has_hitl(self) -> bool:
        return self.version.as_tuple >= (3, 1, 0)

    def hitl_pending_states(self) -> tuple[str, ...]:
        """TI states of a task parked for a person: deferred (the HITL trigger, 3.1/3.2) and,
        from 3.3, awaiting_input (a provider older than the server may still defer)."""
        if self.version.as_tuple >= (3, 3, 0):
            return ("deferred", "awaiting_input")
        return ("deferred",)

    def list_hitl(self, *, pending: bool, limit: int, offset: int) -> Op:
        if not self.has_hitl:
            return super().list_hitl(pending=pending, limit=limit, offset=offset)
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if pending:
            # What the Airflow UI calls pending: no answer yet and the task still waits (an
            # unanswered request of a task that failed or was cleared is not pending).
            params["response_received"] = "false"
            params["state"] = list(self.hitl_pending_states())
        return Op("GET", _run_path("~", "~", "hitlDetails"), params, retry=True)

    def _hitl_path(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> tuple[str, ...]:
        return _run_path(dag_id, run_id, "taskInstances", task_id, str(map_index), "hitlDetails")

    def get_hitl(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> Op:
        if not self.has_hitl:
            return super().get_hitl(dag_id, run_id, task_id, map_index)
        return Op("GET", self._hitl_path(dag_id, run_id, task_id, map_index), retry=True)

    def respond_hitl(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int,
        chosen_options: Iterable[str],
        params_input: Mapping[str, Any] | None,
    ) -> Op:
        if not self.has_hitl:
            return super().respond_hitl(
                dag_id, run_id, task_id, map_index, chosen_options, params_input
            )
        body = {"chosen_options": list(chosen_options), "params_input": dict(params_input or {})}
        return Op("PATCH", self._hitl_path(dag_id, run_id, task_id, map_index), json=body)

    def parse_log(self, payload: Mapping[str, Any]) -> LogChunk:
        token = payload.get("continuation_token") or None
        return LogChunk(logs.entries_to_lines(payload.get("content")), token, token is None)

    def follow_mode(self) -> FollowMode:
        # Tailing with the token repeats the whole log on 3.0–3.1 and answers 500 on 3.2.x;
        # it works from 3.3.1 (3.3.0 unconfirmed: treated like 3.2).
        return "token" if self.version.as_tuple >= (3, 3, 1) else "poll"


def dialect_for(version: Version) -> Dialect:
    return DialectV2(version) if version.major >= 3 else DialectV1(version)
