"""A stateful fake Airflow 3 deployment for UI tests, built from JSON recorded from a real server
(tests/fixtures/ui/deployment_v2.json, see record_deployment.py).

Tests change its state (a run finishes, the server goes down, rows reorder) and the app sees it
through its real client and polling code, via httpx.MockTransport. Every request is logged.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from astro_tui.airflow.auth import Airflow3PasswordAuth
from astro_tui.airflow.client import AirflowClient

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ui" / "deployment_v2.json"
ROOT = "http://airflow.test"
# The recorded deployment's "now": a little after its last run.
NOW = datetime(2026, 11, 25, 10, 9, 0, tzinfo=timezone.utc)


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


class FakeDeployment:
    def __init__(self, fixture: Path = FIXTURE) -> None:
        data = json.loads(fixture.read_text())
        self.version = data["version"]
        self.dags: list[dict] = data["dags"]["dags"]
        self.details: dict[str, dict] = data["details"]
        self.runs: list[dict] = data["runs"]["dag_runs"]
        self.tis: dict[str, list[dict]] = {k: v["task_instances"] for k, v in data["tis"].items()}
        self.logs: dict[str, dict] = data["logs"]
        self.down = False
        self.requests: list[httpx.Request] = []
        self.changed_runs: list[dict] = []  # what `updated_at_gte` polls return next

    # -- state changes for tests ---------------------------------------------------------------

    def run(self, dag_id: str, run_id: str | None = None) -> dict:
        for r in self.runs:
            if r["dag_id"] == dag_id and (run_id is None or r["dag_run_id"] == run_id):
                return r
        raise KeyError(dag_id)

    def add_run(self, dag_id: str, run_id: str, state: str, run_after: str) -> dict:
        template = copy.deepcopy(self.run("example_params"))
        template.update(dag_id=dag_id, dag_run_id=run_id, state=state, run_after=run_after,
                        start_date=run_after, end_date=None, duration=None, logical_date=None)
        self.runs.insert(0, template)
        self.tis[f"{dag_id} {run_id}"] = []
        self.changed_runs.append(template)
        return template

    def set_run_state(self, dag_id: str, run_id: str, state: str) -> None:
        run = self.run(dag_id, run_id)
        run["state"] = state
        self.changed_runs.append(run)

    def count(self, path_part: str, method: str = "GET") -> int:
        return sum(1 for r in self.requests if r.method == method and path_part in r.url.path)

    # -- transport -----------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        path = request.url.raw_path.decode().split("?")[0]
        parts = [unquote(p) for p in path.strip("/").split("/")]
        params = request.url.params
        if path == "/auth/token":
            return _json(201, {"access_token": "eyJhbGciOiJIUzUxMiJ9.e30.fake"})
        if parts[:2] != ["api", "v2"]:
            return httpx.Response(200, text="<html>SPA</html>",
                                  headers={"content-type": "text/html"})
        rest = parts[2:]
        if rest == ["version"]:
            return _json(200, self.version)
        if rest == ["dags"]:
            return self._page(self.dags, "dags", params)
        if len(rest) == 3 and rest[0] == "dags" and rest[2] == "details":
            return _json(200, self.details[rest[1]])
        if rest == ["dags", "~", "dagRuns", "list"] and request.method == "POST":
            return _json(200, {"dag_runs": self.runs, "total_entries": len(self.runs)})
        if len(rest) == 3 and rest[0] == "dags" and rest[2] == "dagRuns":
            if rest[1] == "~":
                changed, self.changed_runs = self.changed_runs, []
                return _json(200, {"dag_runs": changed, "total_entries": len(changed)})
            runs = [r for r in self.runs if r["dag_id"] == rest[1]]
            return self._page(runs, "dag_runs", params)
        if len(rest) >= 5 and rest[0] == "dags" and rest[2] == "dagRuns" and rest[4] == (
                "taskInstances"):
            return self._task_instances(rest[1], rest[3], rest[5:], params)
        return _json(404, {"detail": "Not Found"})

    def _page(self, items: list, key: str, params) -> httpx.Response:
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 50))
        return _json(200, {key: items[offset:offset + limit], "total_entries": len(items)})

    def _task_instances(self, dag_id: str, run_id: str, rest: list[str], params):
        tis = self.tis.get(f"{dag_id} {run_id}", [])
        if not rest:
            return self._page(tis, "task_instances", params)
        task_id = rest[0]
        map_index = int(params.get("map_index", -1))
        if len(rest) >= 2 and rest[1] != "logs":
            map_index = int(rest[1])
        if len(rest) >= 3 and rest[1] == "logs":
            log = self.logs.get(f"{dag_id} {run_id} {task_id} {map_index} {rest[2]}")
            if log is None:
                return _json(404, {"detail": "TaskInstance not found"})
            return _json(200, log)
        for ti in tis:
            if ti["task_id"] == task_id and ti["map_index"] == map_index:
                return _json(200, ti)
        return _json(404, {"detail": "TaskInstance not found"})

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)

    async def connect(self) -> AirflowClient:
        """What the app's connect factory does, against this fake."""
        auth = Airflow3PasswordAuth(ROOT, "admin", "admin")
        return await AirflowClient.connect(ROOT, auth=auth, transport=self.transport,
                                           attempts=1)


def make_app(fake: FakeDeployment, **kwargs):
    from astro_tui.tui.app import AstroTuiApp, Settings

    settings = kwargs.pop("settings", Settings(dags_seconds=30, runs_seconds=0.2,
                                               tasks_seconds=0.2, log_seconds=0.2))
    return AstroTuiApp(fake.connect, profile_name="test", settings=settings,
                       now=lambda: NOW, tz=timezone.utc, **kwargs)


RUN_ID = re.compile(r"manual__\S+")
