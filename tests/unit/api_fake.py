"""A tiny fake Airflow server on httpx.MockTransport, for the API-layer unit tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx

from astro_tui.airflow import AirflowClient, Version

Handler = Callable[[httpx.Request], httpx.Response]
ROOT = "http://airflow.test"


def jresp(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def problem(status: int, title: str, detail: str | None) -> httpx.Response:
    body = {"type": "https://airflow.apache.org/...#section/Errors", "title": title,
            "status": status, "detail": detail}
    return httpx.Response(status, content=json.dumps(body).encode(),
                          headers={"content-type": "application/problem+json"})


def html(status: int = 200) -> httpx.Response:
    return httpx.Response(status, text="<!doctype html><html><body>Airflow</body></html>",
                          headers={"content-type": "text/html; charset=utf-8"})


class FakeAirflow:
    """Routes ``(METHOD, raw path regex)`` to handlers and records every request."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[httpx.Request] = []

    def route(self, method: str, path: str, handler: Handler | httpx.Response | Any) -> None:
        if isinstance(handler, httpx.Response):
            resp = handler
            handler = lambda req, resp=resp: httpx.Response(  # noqa: E731
                resp.status_code, content=resp.content, headers=resp.headers)
        elif not callable(handler):
            body = handler
            handler = lambda req, body=body: jresp(200, body)  # noqa: E731
        self.routes.append((method, re.compile(path + "$"), handler))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raw = request.url.raw_path.split(b"?")[0].decode()
        for method, pattern, handler in reversed(self.routes):
            if method == request.method and pattern.match(raw):
                return handler(request)
        return jresp(404, {"detail": "Not Found"})

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def calls(self, method: str | None = None, contains: str = "") -> list[httpx.Request]:
        return [r for r in self.requests
                if (method is None or r.method == method) and contains in r.url.raw_path.decode()]

    def client(self, version: str = "3.3.2", **kw: Any) -> AirflowClient:
        kw.setdefault("backoff", 0)
        return AirflowClient(ROOT, Version.parse(version), transport=self.transport, **kw)


def body(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None


# Shapes as observed on Airflow 3.3.2 (v2) and 2.11.2 (v1): shared/reference/airflow-local.md §5.

V2_DAG = {
    "dag_id": "example_params", "dag_display_name": "example_params", "is_paused": True,
    "is_stale": False, "last_parsed_time": "2026-11-25T08:30:00.000001Z", "last_parse_duration": 0.21,
    "bundle_name": "dags-folder", "relative_fileloc": "example_params.py",
    "fileloc": "/x/dags/example_params.py", "description": "Typed params",
    "timetable_summary": None, "timetable_description": "Never, external triggers only",
    "tags": [{"name": "demo", "dag_id": "example_params", "dag_display_name": "example_params"}],
    "max_active_tasks": 16, "max_active_runs": 16, "has_import_errors": False,
    "next_dagrun_logical_date": None, "next_dagrun_run_after": None, "owners": ["team"],
    "is_backfillable": False, "file_token": "abc", "allowed_run_types": None,
}

V1_DAG = {
    "dag_id": "example_biglog", "dag_display_name": "example_biglog", "default_view": "grid",
    "description": "Writes lines", "file_token": "x", "fileloc": "/x/dags/example_biglog.py",
    "has_import_errors": False, "is_active": True, "is_paused": True, "is_subdag": False,
    "last_parsed_time": "2026-11-25T08:30:00+00:00", "max_active_runs": 16,
    "next_dagrun": None, "next_dagrun_create_after": None, "owners": ["team"],
    "root_dag_id": None, "schedule_interval": None, "tags": [{"name": "demo"}],
    "timetable_description": "Never, external triggers only",
}

V2_RUN = {
    "dag_run_id": "manual__2026-11-25T08:32:23.270397+00:00", "dag_id": "example_params",
    "logical_date": None, "queued_at": "2026-11-25T08:32:23.3Z",
    "start_date": "2026-11-25T08:32:24Z", "end_date": "2026-11-25T08:32:26.5Z", "duration": 2.5,
    "data_interval_start": None, "data_interval_end": None,
    "run_after": "2026-11-25T08:32:23.270397Z", "run_type": "manual", "state": "success",
    "triggered_by": "rest_api", "triggering_user_name": "admin",
    "conf": {"name": "demo", "count": 2}, "note": None, "dag_versions": [{"id": "v"}],
    "bundle_version": None, "partition_key": None,
}

V1_RUN = {
    "conf": {}, "dag_id": "example_success", "dag_run_id": "manual__2026-11-25T08:36:21.365077+00:00",
    "data_interval_end": "2026-11-25T08:36:21.365077+00:00",
    "data_interval_start": "2026-11-25T08:36:21.365077+00:00", "end_date": "2026-11-25T08:36:30+00:00",
    "execution_date": "2026-11-25T08:36:21.365077+00:00", "external_trigger": True,
    "last_scheduling_decision": None, "logical_date": "2026-11-25T08:36:21.365077+00:00",
    "note": None, "run_type": "manual", "start_date": "2026-11-25T08:36:22+00:00", "state": "success",
}

V2_TI = {
    "id": "01a211d5", "task_id": "extract", "dag_id": "example_success",
    "dag_run_id": "manual__x", "map_index": -1, "logical_date": None,
    "run_after": "2026-11-25T08:32:23Z", "start_date": "2026-11-25T08:32:29Z",
    "end_date": "2026-11-25T08:32:29.116Z", "duration": 0.116, "state": "success",
    "try_number": 1, "max_tries": 0, "task_display_name": "extract", "hostname": "127.0.0.1",
    "operator": "_PythonDecoratedOperator", "operator_name": "@task", "rendered_map_index": None,
    "dag_version": {"id": "v"},
}

V1_TI = {
    "dag_id": "example_success", "dag_run_id": "manual__x", "duration": 0.5,
    "end_date": "2026-11-25T08:36:30+00:00", "execution_date": "2026-11-25T08:36:21+00:00",
    "map_index": -1, "max_tries": 0, "operator": "_PythonDecoratedOperator",
    "rendered_map_index": None, "sla_miss": None, "start_date": "2026-11-25T08:36:29.5+00:00",
    "state": "success", "task_display_name": "extract", "task_id": "extract", "try_number": 1,
}
