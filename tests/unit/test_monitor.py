"""The monitor's reads (astro_tui.watch.inbox) and its headless commands (`failures`, `health`,
`import-errors`, `status DAG latest`) against a fake Airflow 3 (v2) and Airflow 2 (v1).

Response shapes: runs and task instances start from the bodies recorded from the real servers
(tests/fixtures/{v1,v2}/run_failed.json, tis_fail.json, health.json: Airflow 2.11.2 and 3.3.2),
changed field by field; the batch-list envelopes ({dag_runs|task_instances, total_entries}) and
import errors follow the published specs (shared/reference/openapi/airflow-3.3.2-v2.yaml
`DAGRunCollectionResponse`, `TaskInstanceCollectionResponse`, `ImportErrorResponse`;
airflow-2.11.2-v1.yaml `DAGRunCollection`, `TaskInstanceCollection`, `ImportError`).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from astro_tui.airflow.models import Health, TaskInstance
from astro_tui.commands import base
from astro_tui.watch import inbox as ib
from tests.unit import test_cli
from tests.unit.api_fake import FakeAirflow, jresp, problem
from tests.unit.test_cli import ANY, TOKEN, Fake, assert_one_line_error, body as fixture, cli_run

# the CLI tests' fixtures: a fake server per API version, the connection in the environment
env, fake, v2 = test_cli.env, test_cli.fake, test_cli.v2

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
API = {"v1": "/api/v1", "v2": "/api/v2"}
VERSION = {"v1": "2.11.2", "v2": "3.3.2"}


def req_json(request: httpx.Request):
    return json.loads(request.content) if request.content else None


def run_of(api: str, **changes):
    """A failed run as recorded (run_failed.json), with `changes` (and `run_id` for the id)."""
    run = copy.deepcopy(fixture(api, "run_failed"))
    if "run_id" in changes:
        run["dag_run_id"] = changes.pop("run_id")
    run.update(changes)
    return run


def ti_of(api: str, dag_id: str, run_id: str, task_id: str, map_index: int = -1,
          end: str = "2026-11-25T10:06:30+00:00", state: str = "failed"):
    """The failed `boom` TI as recorded (tis_fail.json), moved to another run / task / time."""
    boom = next(t for t in fixture(api, "tis_fail")["task_instances"] if t["task_id"] == "boom")
    return dict(copy.deepcopy(boom), dag_id=dag_id, dag_run_id=run_id, task_id=task_id,
                map_index=map_index, end_date=end, state=state)


class Server:
    """What the fake answers to the two batch routes: the failed runs, the running/queued runs,
    and every task instance; the TI route filters and pages like the real one."""

    def __init__(self, api: str) -> None:
        self.api = api
        a = run_of(api, dag_id="example_fail", run_id="manual__a")
        b = run_of(api, dag_id="example_mapped", run_id="manual__b",
                   end_date="2026-11-25T11:00:00+00:00")
        self.failed = [b, a]  # latest end first, as ordered by the server
        running = run_of(api, dag_id="example_long", run_id="manual__r", state="running",
                         start_date="2026-11-25T11:50:00+00:00", end_date=None)
        queued = run_of(api, dag_id="example_success", run_id="manual__q", state="queued",
                        start_date=None, end_date=None)
        if api == "v2":
            running["duration"] = queued["duration"] = None
            queued["queued_at"] = "2026-11-25T11:58:00Z"
        self.active = [queued, running]
        self.tis = [
            ti_of(api, "example_fail", "manual__a", "boom", end="2026-11-25T10:06:30+00:00"),
            ti_of(api, "example_fail", "manual__a", "ok", state="success"),
            # mapped: the instance that ended first is square[2], not square[0]
            ti_of(api, "example_mapped", "manual__b", "square", 0, "2026-11-25T10:59:09+00:00"),
            ti_of(api, "example_mapped", "manual__b", "square", 2, "2026-11-25T10:59:05+00:00"),
            # a same-named run of the other DAG: matched by the server, not one of ours
            ti_of(api, "example_mapped", "manual__a", "early", end="2026-11-25T09:00:00+00:00"),
        ]
        self.failed_total: int | None = None
        self.ti_total_extra = 0

    def runs(self, request: httpx.Request) -> httpx.Response:
        b = req_json(request)
        rows = self.failed if "failed" in b["states"] else self.active
        rows = rows[: b["page_limit"]]
        total = self.failed_total if "failed" in b["states"] and self.failed_total else len(rows)
        return jresp(200, {"dag_runs": rows, "total_entries": total})

    def tasks(self, request: httpx.Request) -> httpx.Response:
        b = req_json(request)
        rows = [t for t in self.tis
                if t["dag_id"] in b["dag_ids"]
                and ("dag_run_ids" not in b or t["dag_run_id"] in b["dag_run_ids"])
                and t["state"] in b.get("state", [t["state"]])]
        if b.get("order_by") == "end_date":
            rows.sort(key=lambda t: t["end_date"])
        offset, limit = b["page_offset"], min(b["page_limit"], 100)
        total = len(rows) + self.ti_total_extra  # extra: filler rows of a huge run, after
        page = [rows[i] if i < len(rows) else ti_of(self.api, "x", "y", f"t{i}")
                for i in range(offset, min(offset + limit, total))]
        return jresp(200, {"task_instances": page, "total_entries": total})

    def install(self, fake: FakeAirflow, prefix: str) -> None:
        fake.route("POST", prefix + "/dags/~/dagRuns/list", self.runs)
        fake.route("POST", prefix + "/dags/~/dagRuns/~/taskInstances/list", self.tasks)


@pytest.fixture(params=["v2", "v1"])
def api(request) -> str:
    return request.param


def client_for(api: str, version: str | None = None):
    f = FakeAirflow()
    server = Server(api)
    server.install(f, API[api])
    return f, server, f.client(version or VERSION[api])


# -- parse_since ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("30m", NOW - timedelta(minutes=30)),
    ("24h", NOW - timedelta(hours=24)),
    ("7d", NOW - timedelta(days=7)),
    (" 90s ", NOW - timedelta(seconds=90)),
    ("2026-11-24T08:00:00Z", datetime(2026, 11, 24, 8, tzinfo=timezone.utc)),
    ("2026-11-24T08:00:00+02:00", datetime(2026, 11, 24, 6, tzinfo=timezone.utc)),
    ("2026-11-24T08:00:00", datetime(2026, 11, 24, 8, tzinfo=timezone.utc)),  # no zone: UTC
])
def test_parse_since(text, expected):
    assert ib.parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "24", "h", "-3h", "2026-13-01"])
def test_parse_since_refuses_other_text(text):
    with pytest.raises(ValueError, match="30m, 24h, 7d"):
        ib.parse_since(text, NOW)


# -- read_failures ------------------------------------------------------------------------------------


async def test_failures_cost_three_requests_with_the_servers_own_filters(api):
    f, server, client = client_for(api)
    since = NOW - timedelta(hours=24)
    async with client:
        inbox = await ib.read_failures(client, since, limit=10)
    assert len(f.requests) == 3
    failed_q, active_q, tasks_q = (req_json(r) for r in f.requests)
    assert failed_q["states"] == ["failed"] and failed_q["order_by"] == "-end_date"
    assert failed_q["end_date_gte"] == since.isoformat() and failed_q["page_limit"] == 10
    assert active_q["states"] == ["running", "queued"] and "end_date_gte" not in active_q
    assert active_q["order_by"] == ("-run_after" if api == "v2" else "-execution_date")
    assert f.requests[2].url.path.endswith("/dags/~/dagRuns/~/taskInstances/list")
    assert tasks_q["dag_ids"] == ["example_fail", "example_mapped"]
    assert tasks_q["dag_run_ids"] == ["manual__a", "manual__b"]
    assert tasks_q["state"] == ["failed"]
    # v1's ListTaskInstanceForm has no order_by and rejects unknown keys (airflow-2.11.2-v1.yaml)
    assert tasks_q.get("order_by") == ("end_date" if api == "v2" else None)

    assert [(r.run.dag_id, r.run.run_id) for r in inbox.failed] == [
        ("example_mapped", "manual__b"), ("example_fail", "manual__a")]
    firsts = [r.first_failed for r in inbox.failed]
    assert [(t.task_id, t.map_index) for t in firsts if t] == [("square", 2), ("boom", -1)]
    assert [r.state for r in inbox.active] == ["queued", "running"]
    assert inbox.failed_total == 2 and inbox.active_total == 2 and inbox.tasks_complete
    assert inbox.since == since


async def test_no_failed_run_means_no_task_request(api):
    f, server, client = client_for(api)
    server.failed = []
    async with client:
        inbox = await ib.read_failures(client, NOW, limit=5)
    assert len(f.requests) == 2 and inbox.failed == () and len(inbox.active) == 2


async def test_many_failed_tasks_are_paged_but_bounded(api):
    f, server, client = client_for(api)
    server.ti_total_extra = 150  # 154 failed TIs: two pages
    async with client:
        inbox = await ib.read_failures(client, NOW, limit=5)
    assert len(f.calls("POST", "/taskInstances/list")) == 2 and inbox.tasks_complete
    assert inbox.failed[1].first_failed is not None

    f, server, client = client_for(api)
    server.ti_total_extra = 100_000  # a mapped task that failed everywhere
    async with client:
        inbox = await ib.read_failures(client, NOW, limit=5)
    assert len(f.calls("POST", "/taskInstances/list")) == ib.MAX_TASK_PAGES
    assert not inbox.tasks_complete and len(f.requests) == 2 + ib.MAX_TASK_PAGES


async def test_airflow_before_2_7_1_narrows_by_dag_and_start_instead_of_run_ids():
    f, server, client = client_for("v1", "2.6.3")
    async with client:
        inbox = await ib.read_failures(client, NOW, limit=5)
    tasks_q = req_json(f.calls("POST", "/taskInstances/list")[0])
    assert "dag_run_ids" not in tasks_q and tasks_q["dag_ids"] == ["example_fail",
                                                                   "example_mapped"]
    assert tasks_q["start_date_gte"] == "2026-11-25T10:06:22.033708+00:00"  # the earliest run
    # the same-named run of the other DAG is still not taken for ours
    assert [t.task_id for r in inbox.failed if (t := r.first_failed)] == ["square", "boom"]


def test_first_failed_ignores_other_states_and_puts_missing_end_dates_last():
    def ti(task, end, state="failed", mi=-1):
        return TaskInstance("d", "r", task, mi, state,
                            end_date=None if end is None else NOW + timedelta(seconds=end))

    assert ib.first_failed([]) is None
    assert ib.first_failed([ti("a", 1, "success"), ti("b", 2, "upstream_failed")]) is None
    assert ib.first_failed([ti("late", 9), ti("none", None), ti("early", 3)]).task_id == "early"
    assert ib.first_failed([ti("none", None), ti("z", None)]).task_id == "none"


# -- health -----------------------------------------------------------------------------------------


def test_judge_health_on_both_recordings():
    # Airflow 2.11.2: no triggerer, dag-processor inside the scheduler -> both null, still healthy
    v1 = Health.from_json(fixture("v1", "health"))
    comps = {c.name: c for c in ib.judge_health(v1, NOW)}
    assert list(comps) == list(ib.COMPONENTS)
    assert comps["triggerer"].status is None and comps["triggerer"].ok
    assert comps["dag_processor"].ok and comps["scheduler"].ok
    beat = datetime.fromisoformat("2026-11-25T10:06:12.990280+00:00")
    assert comps["scheduler"].heartbeat_age == pytest.approx((NOW - beat).total_seconds())
    v2h = Health.from_json(fixture("v2", "health"))
    assert all(c.ok for c in ib.judge_health(v2h, NOW))


@pytest.mark.parametrize("component, status, ok", [
    ("scheduler", "unhealthy", False),
    ("scheduler", None, False),  # required: no scheduler means nothing runs
    ("metadatabase", "unhealthy", False),
    ("triggerer", "unhealthy", False),
    ("triggerer", None, True),
    ("dag_processor", "degraded", False),  # anything but "healthy" from a running component
])
def test_judge_health_rules(component, status, ok):
    data = copy.deepcopy(fixture("v2", "health"))
    data[component]["status"] = status
    comps = {c.name: c for c in ib.judge_health(Health.from_json(data), NOW)}
    assert comps[component].ok is ok


async def test_read_health_counts_import_errors_with_one_item(api):
    f = FakeAirflow()
    health_path = "/api/v2/monitor/health" if api == "v2" else "/api/v1/health"
    f.route("GET", health_path, fixture(api, "health"))
    f.route("GET", API[api] + "/importErrors", {"import_errors": [], "total_entries": 7})
    async with f.client(VERSION[api]) as client:
        report = await ib.read_health(client, NOW)
    assert report.healthy and report.import_errors == 7 and report.import_errors_problem is None
    assert f.calls("GET", "/importErrors")[0].url.params["limit"] == "1"
    assert len(f.requests) == 2

    f.route("GET", API[api] + "/importErrors", problem(403, "Forbidden", "no DAG access"))
    async with f.client(VERSION[api]) as client:
        report = await ib.read_health(client, NOW)
    assert report.healthy and report.import_errors is None
    assert "no DAG access" in (report.import_errors_problem or "")


# -- the commands -----------------------------------------------------------------------------------


def route_inbox(fake: Fake) -> Server:
    server = Server(fake.api)
    server.install(fake, API[fake.api])
    return server


def test_failures_table(fake, capsys):
    route_inbox(fake)
    r = cli_run(capsys, "failures")
    assert r.code == 0, r.err
    header, *rows = r.out.splitlines()
    assert header.split() == ["DAG", "RUN", "STATE", "STARTED", "DURATION", "FIRST_FAILED_TASK"]
    cells = [row.split() for row in rows]
    assert [(c[0], c[2]) for c in cells] == [("example_mapped", "failed"),
                                             ("example_fail", "failed"),
                                             ("example_success", "queued"),
                                             ("example_long", "running")]
    assert cells[0][-1] == "square[2]" and cells[1][-1] == "boom"
    assert r.err == ""
    # --since reaches the server as end_date_gte
    cli_run(capsys, "failures", "--since", "2026-11-20T00:00:00Z", "--limit", "3")
    q = req_json(fake.calls("POST", "/dagRuns/list")[-2])
    assert q["end_date_gte"] == "2026-11-20T00:00:00+00:00" and q["page_limit"] == 3


def test_failures_json_shape_and_counts(fake, capsys):
    server = route_inbox(fake)
    server.failed_total = 40
    r = cli_run(capsys, "failures", "--json", "--limit", "2")
    assert r.code == 0
    doc = json.loads(r.out)
    assert set(doc) == {"profile", "since", "failed", "failed_total", "active", "active_total",
                        "tasks_complete"}
    assert {r["profile"] for r in doc["failed"] + doc["active"]} == {doc["profile"]}
    assert doc["failed_total"] == 40 and len(doc["failed"]) == 2
    first = doc["failed"][0]["first_failed_task"]
    assert first["task_id"] == "square" and first["map_index"] == 2
    assert first["label"] == "square[2]" and first["state"] == "failed"
    assert doc["failed"][1]["first_failed_task"]["label"] == "boom"
    assert doc["failed"][0]["dag_id"] == "example_mapped" and "run_type" in doc["failed"][0]
    running = next(a for a in doc["active"] if a["state"] == "running")
    assert running["elapsed"] > 0
    queued = next(a for a in doc["active"] if a["state"] == "queued")
    assert (queued["elapsed"] is None) == (fake.api == "v1")  # v1 runs have no queued_at
    r = cli_run(capsys, "failures", "--limit", "2")
    assert "showing 2 of 40 failed runs" in r.err


def test_failures_with_nothing_to_show(fake, capsys):
    server = route_inbox(fake)
    server.failed, server.active = [], []
    r = cli_run(capsys, "failures")
    assert r.code == 0 and r.out == ""
    assert "no failed runs since" in r.err and "nothing running or queued" in r.err
    assert len(fake.requests) == 2


@pytest.mark.parametrize("argv, needle", [
    (["failures", "--since", "yesterday"], "30m, 24h, 7d"),
    (["failures", "--limit", "0"], "must be 1 or more"),
])
def test_failures_usage_errors(fake, capsys, argv, needle):
    r = cli_run(capsys, *argv)
    assert r.code == 2 and needle in r.err and fake.requests == []


def test_failures_unreachable_exits_1(fake, capsys):
    def refuse(request):
        raise httpx.ConnectError("All connection attempts failed", request=request)

    fake.route("POST", fake.at("/dags/~/dagRuns/list"), refuse)
    assert_one_line_error(cli_run(capsys, "failures"), 1, "cannot reach airflow.test:443")


def route_health(fake: Fake, health: dict, import_errors: int = 0) -> None:
    fake.route("GET", fake.at("/monitor/health") if fake.api == "v2" else "/api/v1/health",
               health)
    fake.route("GET", fake.at("/importErrors"),
               {"import_errors": [], "total_entries": import_errors})


def test_health_healthy_exit_0(fake, capsys):
    route_health(fake, fixture(fake.api, "health"), import_errors=2)
    r = cli_run(capsys, "health")
    assert r.code == 0 and r.err == ""
    lines = r.out.splitlines()
    assert lines[0].split() == ["COMPONENT", "STATUS", "LAST_HEARTBEAT", "AGE"]
    rows = {line.split()[0]: line.split() for line in lines[1:5]}
    assert rows["scheduler"][1] == "healthy" and rows["triggerer"][1:] == ["n/a"]
    assert "import errors: 2" in r.out
    doc = json.loads(cli_run(capsys, "health", "--json").out)
    assert doc["healthy"] is True and doc["import_errors"] == 2
    assert doc["components"]["scheduler"]["status"] == "healthy"
    assert doc["components"]["scheduler"]["heartbeat_age_seconds"] > 0
    assert doc["components"]["triggerer"] == {"status": None, "ok": True,
                                              "latest_heartbeat": None,
                                              "heartbeat_age_seconds": None}


def test_health_unhealthy_scheduler_exit_5(fake, capsys):
    health = copy.deepcopy(fixture(fake.api, "health"))
    health["scheduler"]["status"] = "unhealthy"
    route_health(fake, health)
    r = cli_run(capsys, "health")
    assert r.code == base.EXIT_UNHEALTHY == 5
    assert "unhealthy: scheduler unhealthy, last heartbeat" in r.err
    r = cli_run(capsys, "health", "--json")
    assert r.code == 5 and json.loads(r.out)["healthy"] is False


def test_health_unreachable_exit_1(fake, capsys):
    def refuse(request):
        raise httpx.ConnectError("All connection attempts failed", request=request)

    fake.route("GET", fake.at("/monitor/health") if fake.api == "v2" else "/api/v1/health",
               refuse)
    assert_one_line_error(cli_run(capsys, "health"), 1, "cannot reach airflow.test:443")


def test_health_without_import_error_access_warns_but_keeps_the_exit_code(v2, capsys):
    v2.route("GET", v2.at("/monitor/health"), fixture("v2", "health"))
    v2.route("GET", v2.at("/importErrors"), problem(403, "Forbidden", "no access"))
    r = cli_run(capsys, "health")
    assert r.code == 0 and "import errors: unknown" in r.out
    assert "cannot count import errors" in r.err and TOKEN not in r.err


HOSTILE_TRACE = ("Traceback (most recent call last):\n  File \"/dags/broken.py\", line 3\n"
                 "\x1b]0;pwned\x07\x1b[2JRuntimeError: \u202eboom\u202c\n")


def test_import_errors_are_listed_and_sanitized(fake, capsys):
    item = {"import_error_id": 3, "timestamp": "2026-11-25T10:08:00+00:00",
            "filename": "/dags/broken\x1b[31m.py", "stack_trace": HOSTILE_TRACE}
    if fake.api == "v2":
        item["bundle_name"] = "dags-folder"
    other = dict(item, import_error_id=4, filename="/dags/a.py", stack_trace="SyntaxError: x")
    fake.route("GET", fake.at("/importErrors"), {"import_errors": [item, other],
                                                 "total_entries": 2})
    r = cli_run(capsys, "import-errors")
    assert r.code == 0
    for bad in ("\x1b", "\x07", "\u202e"):
        assert bad not in r.out
    lines = r.out.splitlines()
    assert lines[0].startswith("/dags/a.py  (2026-11-25 10:08:00Z")
    assert lines[1] == "    SyntaxError: x" and lines[2] == ""
    assert lines[3].startswith("/dags/broken")
    assert "    Traceback (most recent call last):" in lines
    assert any(line.startswith("    ") and "RuntimeError:" in line for line in lines)
    assert "2 files with import errors" in r.err
    doc = json.loads(cli_run(capsys, "import-errors", "--json").out)
    assert [e["import_error_id"] for e in doc] == [4, 3]
    assert doc[1]["stack_trace"] == HOSTILE_TRACE  # exact in JSON, escaped on the wire
    assert set(doc[0]) == {"import_error_id", "filename", "bundle_name", "timestamp",
                           "stack_trace"}


def test_import_errors_none(fake, capsys):
    fake.route("GET", fake.at("/importErrors"), fixture(fake.api, "import_errors"))
    r = cli_run(capsys, "import-errors")
    assert r.code == 0 and r.out == "" and "no import errors" in r.err
    assert json.loads(cli_run(capsys, "import-errors", "--json").out) == []


# -- status DAG latest ------------------------------------------------------------------------------


def route_latest(fake: Fake) -> str:
    run = fixture(fake.api, "run_failed")
    run_id = run["dag_run_id"]
    fake.route("GET", fake.at("/dags/example_fail/dagRuns"),
               {"dag_runs": [run], "total_entries": 12})
    fake.route("GET", fake.at(f"/dags/example_fail/dagRuns/{ANY}"),
               lambda req: jresp(200, run) if req.url.path.endswith(run_id)
               else jresp(404, {"detail": "no such run"}))
    fake.route("GET", fake.at(f"/dags/example_fail/dagRuns/{ANY}/taskInstances"),
               fixture(fake.api, "tis_fail"))
    return run_id


def test_status_latest_is_the_newest_run(fake, capsys):
    run_id = route_latest(fake)
    doc = json.loads(cli_run(capsys, "status", "example_fail", "latest", "--json").out)
    assert doc["run_id"] == run_id and doc["state"] == "failed"
    listed = fake.calls("GET", "/dags/example_fail/dagRuns")[0].url.params
    assert listed["limit"] == "1"
    assert listed["order_by"] == ("-run_after" if fake.api == "v2" else "-execution_date")
    r = cli_run(capsys, "status", "example_fail", "latest", "--wait", "--interval", "0.01")
    assert r.code == 3 and f"run {run_id}: failed" in r.err


def test_status_latest_of_a_dag_without_runs_or_unknown(fake, capsys):
    fake.route("GET", fake.at("/dags/quiet/dagRuns"), {"dag_runs": [], "total_entries": 0})
    fake.route("GET", fake.at("/dags/quiet/details"), fixture(fake.api, "dag_details_params"))
    assert_one_line_error(cli_run(capsys, "status", "quiet", "latest"), 1,
                          "DAG 'quiet' has no runs yet")
    fake.route("GET", fake.at("/dags/nope/dagRuns"),
               problem(404, "Not Found", "DAG nope not found") if fake.api == "v2"
               else {"dag_runs": [], "total_entries": 0})
    fake.route("GET", fake.at("/dags/nope/details"), problem(404, "Not Found", "no DAG"))
    assert_one_line_error(cli_run(capsys, "status", "nope", "latest"), 1,
                          "DAG 'nope' not found")


def test_help_lists_the_monitor_commands(env, capsys):
    r = cli_run(capsys, "--help")
    for name in ("failures", "health", "import-errors"):
        assert name in r.out
    r = cli_run(capsys, "health", "--help")
    assert r.code == 0 and "5 unhealthy" in r.out


# -- several profiles at once (issue 17) -----------------------------------------------------------


@pytest.fixture
def fleet(monkeypatch, env):
    """Three profiles: `af3` and `af2` are fake servers (v2 and v1 recordings), `gone` cannot be
    reached; `open_client` dispatches by profile (each profile has its own client)."""
    from astro_tui import session
    from astro_tui.airflow.auth import BearerAuth
    from astro_tui.airflow.client import AirflowClient
    from astro_tui.airflow.errors import Unreachable

    fakes = {"af3": test_cli.make_fake("v2", monkeypatch),
             "af2": test_cli.make_fake("v1", monkeypatch)}

    async def open_client(profile):
        if profile.name == "gone":
            raise Unreachable("cannot reach 127.0.0.1:9 (connection refused)")
        f = fakes[profile.name]
        return AirflowClient(test_cli.ROOT, test_cli._version(f.api), auth=BearerAuth(TOKEN),
                             transport=f.transport, backoff=0)

    monkeypatch.setattr(session, "open_client", open_client)
    (env / "config.toml").write_text("".join(
        f'[profiles.{n}]\nurl = "https://{n}.test"\n' for n in ("af3", "af2", "gone")))
    return fakes


def test_failures_of_several_profiles_merge_each_with_its_profile(fleet, capsys):
    servers = {name: route_inbox(f) for name, f in fleet.items()}
    servers["af3"].failed_total, servers["af2"].failed_total = 5, 7
    r = cli_run(capsys, "failures", "--json", "--profile", "af3", "--profile", "af2")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert {(x["profile"], x["dag_id"]) for x in doc["failed"]} == {
        (p, d) for p in ("af3", "af2") for d in ("example_mapped", "example_fail")}
    assert doc["failed_total"] == 5 + 7
    assert doc["profiles"]["af2"]["failed_total"] == 7 and doc["profiles"]["af3"]["ok"]
    # every profile of the file; one that cannot be reached is its own entry and exit 1
    r = cli_run(capsys, "failures", "--json", "--all-profiles")
    doc = json.loads(r.out)
    assert r.code == 1 and doc["profiles"]["gone"] == {
        "ok": False, "error": "cannot reach 127.0.0.1:9 (connection refused)"}
    assert {x["profile"] for x in doc["failed"]} == {"af3", "af2"}
    assert "profile 'gone': cannot reach 127.0.0.1:9" in r.err
    r = cli_run(capsys, "failures", "--all-profiles")
    header = r.out.splitlines()[0].split()
    assert header[:2] == ["PROFILE", "DAG"] and r.code == 1
    assert {line.split()[0] for line in r.out.splitlines()[1:]} == {"af3", "af2"}


def test_one_profile_commands_refuse_several(fleet, capsys):
    r = cli_run(capsys, "dags", "--profile", "af3", "--profile", "af2")
    assert r.code == 2 and "`dags` works on one profile" in r.err
    r = cli_run(capsys, "dags", "--all-profiles")
    assert r.code == 2 and "--all-profiles is for the TUI" in r.err


def test_health_of_several_profiles(fleet, capsys):
    route_health(fleet["af3"], fixture("v2", "health"))
    sick = copy.deepcopy(fixture("v1", "health"))
    sick["scheduler"]["status"] = "unhealthy"
    route_health(fleet["af2"], sick)
    r = cli_run(capsys, "health", "--json", "--profile", "af3", "--profile", "af2")
    doc = json.loads(r.out)
    assert r.code == 5 and doc["healthy"] is False
    assert doc["profiles"]["af3"]["healthy"] and not doc["profiles"]["af2"]["healthy"]
    assert "unhealthy (af2): scheduler unhealthy" in r.err
    r = cli_run(capsys, "health", "--all-profiles")
    assert r.code == 1 and "profile 'gone': cannot reach" in r.err  # unreachable wins over 5
    assert r.out.splitlines()[0].split()[:2] == ["PROFILE", "COMPONENT"]
