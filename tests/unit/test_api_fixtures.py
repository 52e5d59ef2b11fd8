"""Parsing of JSON recorded from the real Airflow 3.3.2 (v2) and 2.11.2 (v1) servers, and from
the oldest supported minors, 2.9.3 (v1-2.9) and 3.0.6 (v2-3.0): tolerant parsing of what an old
server leaves out.

Fixtures: tests/fixtures/v1, v2, v1-2.9 and v2-3.0, made by tests/fixtures/record_api.py.
"""

import json
from pathlib import Path

import httpx
import pytest

from astro_tui.airflow import Airflow3PasswordAuth, AirflowClient, errors as E
from astro_tui.airflow.dialect import dialect_for
from astro_tui.airflow.logs import decode_token, header_length, v1_content_text
from astro_tui.airflow.models import Dag, DagDetails, DagRun, Health, TaskInstance, Version

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VERSIONS = ["v1", "v2", "v1-2.9", "v2-3.0"]


def api_of(name: str) -> str:
    """"v1-2.9" -> "v1": which API a fixture directory was recorded from."""
    return name.split("-", 1)[0]


def load(api: str, name: str) -> dict:
    return json.loads((FIXTURES / api / f"{name}.json").read_text())


def as_response(record: dict) -> httpx.Response:
    method, path = record["request"].split(" ", 1)
    content = record["body"]
    raw = json.dumps(content).encode() if "json" in record["content_type"] else content.encode()
    return httpx.Response(record["status"], content=raw,
                          headers={"content-type": record["content_type"]},
                          request=httpx.Request(method, "http://airflow.test" + path))


def dialect(api: str):
    return dialect_for(Version.parse(load(api, "version")["body"]["version"]))


@pytest.mark.parametrize("api", VERSIONS)
def test_version_and_health(api):
    version = Version.parse(load(api, "version")["body"]["version"])
    assert version.major == (2 if api_of(api) == "v1" else 3)
    health = Health.from_json(load(api, "health")["body"])
    assert health.healthy and health.status_of("scheduler") == "healthy"


@pytest.mark.parametrize("api", VERSIONS)
def test_dags(api):
    body = load(api, "dags")["body"]
    dags = [Dag.from_json(d) for d in body["dags"]]
    assert body["total_entries"] == len(dags) >= 9
    by_id = {d.dag_id: d for d in dags}
    assert by_id["example_mapped"].tags == ["demo", "mapped"] or set(by_id["example_mapped"].tags) == {"demo", "mapped"}
    assert by_id["example_params"].schedule == "Never, external triggers only"
    assert by_id["example_cron"].schedule and by_id["example_cron"].schedule != "Never, external triggers only"
    # The long-id twins (recorded from 2.9 and 3.0 only) set no owner: Airflow says "airflow".
    twins = {d.dag_id for d in dags if d.dag_id.startswith("example_warehouse_")}
    assert all(by_id[t].owners == ["airflow"] for t in twins)
    assert all(d.owners == ["team"] for d in dags if d.dag_id not in {"example_hostile", *twins})


@pytest.mark.parametrize("api", VERSIONS)
def test_dag_details_params(api):
    raw = load(api, "dag_details_params")["body"]
    # Airflow 2 and 3.0 name the Param class; 3.1+ says where the value came from instead.
    marker = "source" if api == "v2" else "__class"
    assert marker in raw["params"]["count"]  # the version-specific extra key is really there
    details = DagDetails.from_json(raw)
    assert details.default_conf() == {"name": "world", "count": 3, "flag": False, "color": "red"}
    assert details.params["count"].schema == {"type": "integer", "minimum": 1, "maximum": 100}
    assert details.params["color"].schema["enum"] == ["red", "green", "blue"]
    cron = DagDetails.from_json(load(api, "dag_details_cron")["body"])
    assert cron.next_run is not None and cron.params == {}


@pytest.mark.parametrize("api", VERSIONS)
def test_runs(api):
    trig = DagRun.from_json(load(api, "trigger_params")["body"])
    assert trig.state == "queued" and trig.conf == {"name": "fixture", "count": 2}
    assert trig.run_after is not None and trig.run_id.startswith("manual__")
    if api_of(api) == "v2":
        assert trig.logical_date is None and trig.triggered_by == "rest_api"
    else:
        assert trig.logical_date is not None and trig.external_trigger is True
    ok = DagRun.from_json(load(api, "run_success")["body"])
    assert ok.state == "success" and ok.duration and ok.duration > 0
    assert DagRun.from_json(load(api, "run_failed")["body"]).state == "failed"
    listed = load(api, "runs_list")["body"]
    runs = [DagRun.from_json(r) for r in listed["dag_runs"]]
    assert runs and listed["total_entries"] >= len(runs)
    assert runs == sorted(runs, key=lambda r: r.run_after, reverse=True)
    batch = [DagRun.from_json(r) for r in load(api, "runs_batch")["body"]["dag_runs"]]
    assert len(batch) == 2 and {r.dag_id for r in batch} <= {"example_mapped", "example_params"}


@pytest.mark.parametrize("api", VERSIONS)
def test_task_instances(api):
    tis = {t.task_id: t for t in map(TaskInstance.from_json, load(api, "tis_fail")["body"]["task_instances"])}
    assert tis["ok"].state == "success" and tis["boom"].state == "failed"
    assert tis["boom"].try_number == 2 and tis["boom"].max_tries == 1
    assert tis["never"].state == "upstream_failed" and tis["never"].try_number == 0
    mapped = [TaskInstance.from_json(t) for t in load(api, "tis_mapped")["body"]["task_instances"]]
    assert sorted(t.map_index for t in mapped if t.task_id == "square") == [0, 1, 2]
    if api == "v2":
        assert tis["ok"].operator == "@task"
    else:  # no operator_name before 3.1: the operator's class, as on Airflow 2
        assert tis["ok"].operator == "_PythonDecoratedOperator"
    cleared = [TaskInstance.from_json(t) for t in load(api, "clear_dry_run")["body"]["task_instances"]]
    assert {t.task_id for t in cleared} == {"boom", "never"}


@pytest.mark.parametrize("api", VERSIONS)
def test_logs(api):
    d = dialect(api)
    params = d.parse_log(load(api, "log_params")["body"])
    assert params.end_of_log
    assert any(l.text.startswith("CONF=") and '"name": "fixture"' in l.text for l in params.lines)
    assert any(l.group == "start" for l in params.lines) and any(l.group == "end" for l in params.lines)
    boom = d.parse_log(load(api, "log_boom")["body"])
    text = "\n".join(t for l in boom.lines for t in l.lines())
    assert "RuntimeError: example_fail: intentional failure" in text
    assert "Traceback (most recent call last):" in text
    assert any(l.level == "error" for l in boom.lines)


@pytest.mark.parametrize("api", VERSIONS)
def test_running_log_chunks_join_without_repeats(api):
    d = dialect(api)
    first = load(api, "log_running_first")["body"]
    nxt = load(api, "log_running_next")["body"]
    assert first["continuation_token"] and not decode_token(first["continuation_token"])["end_of_log"]
    if api_of(api) == "v1":
        tail = v1_content_text(nxt["content"])
        assert tail.startswith("\n")  # continuation chunks start with a newline: join raw
        joined = v1_content_text(first["content"]) + tail
        lines = [l.text for l in d.parse_log({"content": repr([("h", joined)])}).lines]
    elif api == "v2-3.0":
        # 3.0's token is useless for following: the next read repeats the whole log (without the
        # header, here 2 entries, not 4), so the follower polls the whole log ("poll" mode).
        assert d.follow_mode() == "poll"
        assert header_length(first["content"]) == 2 and header_length(nxt["content"]) == 0
        body = first["content"][2:]
        assert nxt["content"][: len(body)] == body
        lines = [l.text for l in d.parse_log(nxt).lines]
    else:
        assert header_length(first["content"]) == 4 and header_length(nxt["content"]) == 0
        lines = [l.text for l in d.parse_log(first).lines + d.parse_log(nxt).lines]
    ticks = [t for t in lines if t.startswith("tick ")]
    assert ticks == sorted(set(ticks), key=lambda t: int(t.split()[1]))
    assert ticks[0] == "tick 1 of 6"
    finished = d.parse_log(load(api, "log_finished_no_token")["body"])
    assert finished.end_of_log
    assert [l.text for l in finished.lines if l.text.startswith("tick ")] == [f"tick {i} of 6" for i in range(1, 7)]


ERRORS = [
    ("v1", "error_404_dag", E.NotFound, "The DAG with dag_id: no_such_dag was not found"),
    ("v1", "error_trigger_body", E.Invalid, "'None' is not an instance of 'str'"),
    ("v1", "error_400_param", E.Invalid, "Invalid input for param count"),
    ("v1", "error_409_duplicate", E.Conflict, "already exists"),
    ("v1", "error_bad_basic", E.Forbidden, "Forbidden"),
    ("v1", "error_no_auth", E.Forbidden, "Forbidden"),
    ("v1", "error_v2_on_airflow2", E.NotAirflow, "URL is probably wrong"),
    ("v2", "error_404_dag", E.NotFound, "was not found"),
    ("v2", "error_trigger_body", E.Invalid, "body.logical_date: Field required"),
    ("v2", "error_400_param", E.Invalid, "Invalid input for param count"),
    ("v2", "error_409_duplicate", E.Conflict, "Unique constraint violation"),
    ("v2", "error_no_auth", E.Unauthorized, "Not authenticated"),
    ("v2", "error_bad_token", E.Forbidden, "Invalid JWT token"),
    ("v2", "error_v1_on_airflow3", E.NotFound, "/api/v1 has been removed"),
    ("v2", "login_wrong_password", E.Unauthorized, "Invalid credentials"),
    ("v2", "spa_html_200", E.NotAirflow, "login page"),
]


# The oldest minors answer the same errors in the same words (or the client words them): every
# case recorded from 2.11/3.3 is checked on 2.9/3.0 too.
# 2.9 answers a missing or wrong basic auth with 401 (2.11: 403).
OLD_ERRORS = {("v1-2.9", "error_bad_basic"): (E.Unauthorized, "Unauthorized"),
              ("v1-2.9", "error_no_auth"): (E.Unauthorized, "Unauthorized")}
ERRORS += [(old, name, *OLD_ERRORS.get((old, name), (cls, text)))
           for old in ("v1-2.9", "v2-3.0") for api, name, cls, text in list(ERRORS)
           if api == api_of(old)]


@pytest.mark.parametrize("api, name, cls, text", ERRORS)
def test_recorded_errors(api, name, cls, text):
    err = E.error_from_response(as_response(load(api, name)))
    assert type(err) is cls
    assert text in err.message
    assert "\n" not in err.message and len(err.message) <= 300


async def test_password_auth_against_recorded_airflow2_gives_a_hint():
    record = load("v1", "login_token_on_airflow2")

    def handler(request):
        if request.url.path == "/auth/token":
            return as_response(record)
        return httpx.Response(500)
    auth = Airflow3PasswordAuth("http://airflow.test", "admin", "admin")
    with pytest.raises(E.Unauthorized) as info:
        await AirflowClient.connect("http://airflow.test", auth=auth,
                                    transport=httpx.MockTransport(handler))
    assert "basic auth" in info.value.message


def test_fields_the_oldest_versions_leave_out_are_filled_in():
    # 3.0.6 sends no run duration (3.1+ does): the model computes it from start and end.
    raw = load("v2-3.0", "run_success")["body"]
    assert "duration" not in raw and "duration" in load("v2", "run_success")["body"]
    run = DagRun.from_json(raw)
    assert run.duration == pytest.approx((run.end_date - run.start_date).total_seconds())
    # ... nor a TI's operator_name: the operator's class stands in.
    ti = load("v2-3.0", "tis_fail")["body"]["task_instances"][0]
    assert "operator_name" not in ti and TaskInstance.from_json(ti).operator == ti["operator"]
    # ... nor a DAG's last_parse_duration or is_favorite, which the models do not need.
    dag = load("v2-3.0", "dags")["body"]["dags"][0]
    assert "last_parse_duration" not in dag and Dag.from_json(dag).dag_id == dag["dag_id"]
    details = load("v2-3.0", "dag_details_params")["body"]
    assert "is_favorite" not in details and DagDetails.from_json(details).params
    # 2.9.3's TIs have no executor field.
    ti2 = load("v1-2.9", "tis_fail")["body"]["task_instances"][0]
    assert "executor" not in ti2 and TaskInstance.from_json(ti2).task_id == ti2["task_id"]
