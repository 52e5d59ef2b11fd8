"""A stateful fake Airflow 3 deployment for UI tests, built from JSON recorded from a real server
(tests/fixtures/ui/deployment_v2.json, see record_deployment.py).

Tests change its state (a run finishes, the server goes down, rows reorder) and the app sees it
through its real client and polling code, via httpx.MockTransport. Every request is logged.
"""

from __future__ import annotations

import copy
import json
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


def _at_least(value: str | None, bound: str | None) -> bool:
    """A time filter (`*_gte`): None bounds nothing; a run without the time does not match."""
    if bound is None:
        return True
    if value is None:
        return False
    parse = lambda v: datetime.fromisoformat(v.replace("Z", "+00:00"))  # noqa: E731
    return parse(value) >= parse(bound)


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
        # (method, path fragment) -> (status, body): answer every matching request with an error
        self.errors: dict[tuple[str, str], tuple[int, Any]] = {}
        # The task graph the recording does not have (for clear's downstream/upstream).
        self.downstream: dict[str, dict[str, list[str]]] = {
            "example_fail": {"ok": ["boom", "never"], "boom": ["never"]},
        }
        self.triggered = 0
        # Shapes of Airflow 3.3.2's HealthInfoResponse and ImportErrorResponse
        # (../shared/reference/openapi/airflow-3.3.2-v2.yaml), at the recording's time.
        self.health: dict[str, Any] = {
            "metadatabase": {"status": "healthy"},
            "scheduler": {"status": "healthy",
                          "latest_scheduler_heartbeat": "2026-11-25T10:08:57.120000+00:00"},
            "triggerer": {"status": "healthy",
                          "latest_triggerer_heartbeat": "2026-11-25T10:08:58.450000+00:00"},
            "dag_processor": {"status": "healthy",
                              "latest_dag_processor_heartbeat": "2026-11-25T10:08:56.900000+00:00"},
        }
        self.import_errors: list[dict[str, Any]] = []
        # how many DAG versions the server keeps (GET /dags/~/dagVersions' total_entries): one
        # per DAG until a test changes a DAG's code
        self.dag_versions = len(self.dags)
        self.dag_warnings: list[dict[str, Any]] = []  # DagWarningResponse (3.3.2 spec)
        # Human-in-the-loop requests (HITLDetail of the 3.3.2 spec; see hitl_request) and the
        # answers PATCHed to them
        self.hitl: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []

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

    def last_states(self) -> dict[str, str]:
        """Each DAG's newest run's state (what the DAG list's `last_dag_run_state` filters)."""
        newest: dict[str, dict] = {}
        for r in self.runs:
            if r["dag_id"] not in newest or r["run_after"] > newest[r["dag_id"]]["run_after"]:
                newest[r["dag_id"]] = r
        return {k: r["state"] for k, r in newest.items()}

    def count(self, path_part: str, method: str = "GET") -> int:
        return sum(1 for r in self.requests if r.method == method and path_part in r.url.path)

    def writes(self) -> list[httpx.Request]:
        """Requests that change something. Reads that use POST (the JWT login and the batch
        `.../list` queries) are not writes."""
        return [r for r in self.requests if r.method in ("PATCH", "PUT", "DELETE") or (
            r.method == "POST" and r.url.path != "/auth/token"
            and not r.url.path.endswith("/list"))]

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
        for (method, part), (status, body) in self.errors.items():
            if request.method == method and part in path:
                return _json(status, body)
        if request.method in ("POST", "PATCH") and rest[-1:] != ["list"]:
            return self._write(request, rest, params)
        if rest == ["version"]:
            return _json(200, self.version)
        if rest == ["monitor", "health"]:
            return _json(200, self.health)
        if rest == ["importErrors"]:
            return self._page(self.import_errors, "import_errors", params)
        if rest == ["dagWarnings"]:
            return self._page(self.dag_warnings, "dag_warnings", params)
        if rest == ["dags", "~", "dagRuns", "~", "hitlDetails"]:
            pending = [h for h in self.hitl if not h["response_received"]]
            return self._page(pending, "hitl_details", params)
        if rest == ["dags"]:
            dags = self.dags
            state = params.get("last_dag_run_state")  # (3.3: "last" is the newest run)
            if state is not None:
                last = self.last_states()
                dags = [d for d in dags if last.get(d["dag_id"]) == state]
            if params.get("paused") is not None:
                want = params["paused"] == "true"
                dags = [d for d in dags if d["is_paused"] == want]
            return self._page(dags, "dags", params)
        if rest == ["dags", "~", "dagVersions"]:
            # DAGVersionCollectionResponse (3.3.2 spec): only the total is read
            return _json(200, {"dag_versions": [], "total_entries": self.dag_versions})
        if len(rest) == 2 and rest[0] == "dags":
            dag = next((d for d in self.dags if d["dag_id"] == rest[1]), None)
            return _json(404, {"detail": "Not Found"}) if dag is None else _json(200, dag)
        if len(rest) == 3 and rest[0] == "dags" and rest[2] == "details":
            return _json(200, self.details[rest[1]])
        if rest == ["dags", "~", "dagRuns", "list"] and request.method == "POST":
            return self._runs_batch(json.loads(request.content or b"{}"))
        if rest == ["dags", "~", "dagRuns", "~", "taskInstances", "list"]:
            return self._tis_batch(json.loads(request.content or b"{}"))
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

    def _runs_batch(self, body: dict) -> httpx.Response:
        """POST /dags/~/dagRuns/list (DAGRunsBatchBody of the 3.3.2 spec): the filters the app
        sends (dag_ids, states, start/end_date_gte), ordered, paged."""
        runs = [r for r in self.runs
                if (body.get("dag_ids") is None or r["dag_id"] in body["dag_ids"])
                and (not body.get("states") or r["state"] in body["states"])
                and _at_least(r.get("start_date"), body.get("start_date_gte"))
                and _at_least(r.get("end_date"), body.get("end_date_gte"))]
        order = body.get("order_by") or "-run_after"
        field = order.lstrip("-")
        runs.sort(key=lambda r: r.get(field) or "", reverse=order.startswith("-"))
        offset, limit = body.get("page_offset", 0), body.get("page_limit", 100)
        return _json(200, {"dag_runs": runs[offset:offset + limit], "total_entries": len(runs)})

    def _tis_batch(self, body: dict) -> httpx.Response:
        """POST /dags/~/dagRuns/~/taskInstances/list (TaskInstancesBatchBody, 3.3.2 spec)."""
        found = [ti for key, tis in self.tis.items() for ti in tis
                 if ti["dag_id"] in body.get("dag_ids", [ti["dag_id"]])
                 and ti["dag_run_id"] in body.get("dag_run_ids", [ti["dag_run_id"]])
                 and (not body.get("state") or ti["state"] in body["state"])]
        offset, limit = body.get("page_offset", 0), body.get("page_limit", 100)
        return _json(200, {"task_instances": found[offset:offset + limit],
                           "total_entries": len(found)})

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

    # -- writes --------------------------------------------------------------------------------

    def _write(self, request: httpx.Request, rest: list[str], params) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        method = request.method
        if method == "PATCH" and len(rest) == 2 and rest[0] == "dags":
            return self._pause(rest[1], bool(body.get("is_paused")))
        if method == "POST" and len(rest) == 3 and rest[2] == "dagRuns":
            return self._trigger(rest[1], body)
        if method == "POST" and len(rest) == 3 and rest[2] == "clearTaskInstances":
            return self._clear(rest[1], body["dag_run_id"], body)
        if method == "POST" and len(rest) == 5 and rest[4] == "clear":
            return self._clear(rest[1], rest[3], body)
        if method == "PATCH" and len(rest) == 4 and rest[2] == "dagRuns":
            run = self.run(rest[1], rest[3])
            self.set_run_state(rest[1], rest[3], body["state"])
            return _json(200, run)
        if method == "PATCH" and rest[-1:] == ["hitlDetails"]:
            return self._answer(rest[1], rest[3], rest[5], int(rest[6]), body)
        if method == "PATCH" and len(rest) >= 6 and rest[4] == "taskInstances":
            map_index = int(params.get("map_index", -1))
            for ti in self.tis.get(f"{rest[1]} {rest[3]}", []):
                if ti["task_id"] == rest[5] and ti["map_index"] == map_index:
                    ti["state"] = body["new_state"]
                    return _json(200, {"task_instances": [ti], "total_entries": 1})
            return _json(404, {"detail": "TaskInstance not found"})
        return _json(404, {"detail": "Not Found"})

    def hitl_request(self, dag_id: str, run_id: str, task_id: str, subject: str,
                     options: list[str], params: dict[str, Any] | None = None) -> dict:
        """A pending request (HITLDetail, Airflow 3.3.2 spec), its task awaiting input."""
        ti = {**self.tis[next(iter(self.tis))][0], "dag_id": dag_id, "dag_run_id": run_id,
              "task_id": task_id, "map_index": -1, "state": "awaiting_input", "end_date": None,
              "operator": "HITLOperator"}
        request = {
            "task_instance": ti, "options": options, "subject": subject,
            "body": "Please look at the numbers first.", "defaults": None, "multiple": False,
            "params": {name: {"value": value, "description": None, "schema": {}}
                       for name, value in (params or {}).items()},
            "assigned_users": [], "created_at": "2026-11-25T10:08:00Z",
            "responded_by_user": None, "responded_at": None, "chosen_options": None,
            "params_input": {}, "response_received": False,
        }
        self.hitl.append(request)
        return request

    def _answer(self, dag_id: str, run_id: str, task_id: str, map_index: int,
                body: dict) -> httpx.Response:
        for h in self.hitl:
            ti = h["task_instance"]
            if (ti["dag_id"], ti["dag_run_id"], ti["task_id"], ti["map_index"]) == (
                    dag_id, run_id, task_id, map_index):
                if h["response_received"]:
                    return _json(409, {"detail": "Human-in-the-loop detail has already been "
                                                 "updated"})
                h.update(response_received=True, chosen_options=body["chosen_options"],
                         params_input=body.get("params_input") or {},
                         responded_at="2026-11-25T10:09:00Z")
                self.answers.append({"key": (dag_id, run_id, task_id, map_index), **body})
                return _json(200, {"responded_by": {"id": "1", "name": "admin"},
                                   "responded_at": h["responded_at"],
                                   "chosen_options": body["chosen_options"],
                                   "params_input": h["params_input"]})
        return _json(404, {"detail": "not found"})

    def _pause(self, dag_id: str, paused: bool) -> httpx.Response:
        dag = next(d for d in self.dags if d["dag_id"] == dag_id)
        dag["is_paused"] = paused
        self.details[dag_id]["is_paused"] = paused
        return _json(200, dag)

    def _trigger(self, dag_id: str, body: dict) -> httpx.Response:
        if "logical_date" not in body:  # Airflow 3: the key is required (null = now)
            return _json(422, {"detail": [{"type": "missing", "loc": ["body", "logical_date"],
                                           "msg": "Field required"}]})
        conf = body.get("conf") or {}
        for name, spec in (self.details[dag_id].get("params") or {}).items():
            kind = (spec.get("schema") or {}).get("type")
            value = conf.get(name)
            if name in conf and kind == "integer" and (type(value) is not int):
                return _json(400, {"detail": f"Invalid input for param {name}: {value!r} is not "
                                             "of type 'integer'\n\nFailed validating 'type'"})
        self.triggered += 1
        run_id = body.get("dag_run_id") or f"manual__2026-11-25T10:10:{self.triggered:02d}+00:00"
        if any(r["dag_id"] == dag_id and r["dag_run_id"] == run_id for r in self.runs):
            return _json(409, {"detail": {"reason": "Unique constraint violation",
                                          "statement": "hidden", "orig_error": "hidden",
                                          "message": "Serious error when handling your request."}})
        run = self.add_run(dag_id, run_id, "queued", "2026-11-25T10:10:00Z")
        run.update(conf=conf, note=body.get("note"), logical_date=body.get("logical_date"),
                   start_date=None)
        return _json(200, run)

    def _clear(self, dag_id: str, run_id: str, body: dict) -> httpx.Response:
        tis = self.tis.get(f"{dag_id} {run_id}", [])
        wanted = set(body.get("task_ids") or [t["task_id"] for t in tis])
        graph = self.downstream.get(dag_id, {})
        for task in list(wanted):
            if body.get("include_downstream"):
                wanted |= set(graph.get(task, []))
            if body.get("include_upstream"):
                wanted |= {up for up, downs in graph.items() if task in downs}
        hit = [t for t in tis if t["task_id"] in wanted and (
            not body.get("only_failed") or t["state"] in ("failed", "upstream_failed"))]
        if body.get("dry_run", True):
            return _json(200, {"task_instances": hit, "total_entries": len(hit)})
        for ti in hit:
            ti.update(state=None, end_date=None)
        self.set_run_state(dag_id, run_id, "queued")
        if "include_downstream" not in body:  # the whole-run route answers with the run
            return _json(200, self.run(dag_id, run_id))
        return _json(200, {"task_instances": hit, "total_entries": len(hit)})

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

