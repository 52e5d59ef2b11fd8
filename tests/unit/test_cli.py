"""The headless CLI (`astro-tui dags|runs|trigger|status|logs|pause|unpause|profiles`): argument
parsing, exit codes, JSON shapes, read-only refusal, no tracebacks, no secrets — against a fake
Airflow (httpx.MockTransport) that answers with JSON recorded from the real servers."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from astro_tui import __version__, cli, session
from astro_tui.airflow import AirflowClient, BearerAuth
from astro_tui.commands import base
from astro_tui.config import resolve_secret
from tests.unit.api_fake import FakeAirflow, jresp, problem

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ROOT = "https://airflow.test"
TOKEN = "tok-Secret-4f9a8b7c6d5e"
API = {"v1": "/api/v1", "v2": "/api/v2"}
VERSION = {"v1": "2.11.2", "v2": "3.3.2"}
ANY = r"[^/]+"


def body(api: str, name: str):
    return json.loads((FIXTURES / api / f"{name}.json").read_text())["body"]


@pytest.fixture
def env(monkeypatch, tmp_path):
    for var in list(os.environ):
        if var.startswith(("ASTRO_", "AIRFLOW_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ASTRO_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AIRFLOW_API_URL", ROOT)
    monkeypatch.setenv("AIRFLOW_AUTH_TOKEN", TOKEN)
    return tmp_path


class Fake(FakeAirflow):
    api = "v2"
    opened: list

    def at(self, path: str) -> str:
        return API[self.api] + path


def make_fake(api: str, monkeypatch) -> Fake:
    """A fake server speaking `api`; `open_client` connects to it with the env's token."""
    f = Fake()
    f.api = api
    f.opened = []

    async def open_client(profile):
        f.opened.append(profile)
        auth = BearerAuth(resolve_secret(profile.secret)) if profile.secret else None
        return AirflowClient(ROOT, _version(f.api), auth=auth, transport=f.transport,
                             backoff=0)

    monkeypatch.setattr(session, "open_client", open_client)
    return f


@pytest.fixture(params=["v2", "v1"])
def fake(request, monkeypatch, env) -> Fake:
    """Each API version in turn (Airflow 3.3.2 and 2.11.2 recordings)."""
    return make_fake(request.param, monkeypatch)


@pytest.fixture
def v2(monkeypatch, env) -> Fake:
    """Airflow 3 only, where one version is enough."""
    return make_fake("v2", monkeypatch)


def _version(api: str):
    from astro_tui.airflow.models import Version

    return Version.parse(VERSION[api])


def cli_run(capsys, *argv: str):
    code = cli.main(list(argv))
    cap = capsys.readouterr()
    return SimpleNamespace(code=code, out=cap.out, err=cap.err)


def assert_one_line_error(result, code: int, *needles: str) -> None:
    assert result.code == code, result
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert TOKEN not in result.err + result.out


# -- parsing, help, the TUI path --------------------------------------------------------------------


def test_no_command_opens_the_tui_on_the_overview(monkeypatch, env, capsys):
    import astro_tui.tui.app as app_module

    seen = {}

    class FakeApp:
        return_code = 0

        def __init__(self, factory, profile_name, read_only, settings, landing, notify,
                     notify_command, session, restore, handle_hangup, saved_dags, others):
            seen.update(profile=profile_name, read_only=read_only, landing=landing)
            seen["others"] = [(d.name, d.read_only, d.saved.profile) for d in others]
            seen["runs_seconds"] = settings.runs_seconds
            seen.update(notify=notify, restore=restore, hangup=handle_hangup,
                        session=session.profile)
            assert saved_dags.profile == session.profile

        def run(self):
            seen["ran"] = True

    monkeypatch.setattr(app_module, "AstroTuiApp", FakeApp)
    assert cli.main([]) == 0 and seen == {
        "profile": "env", "read_only": False, "ran": True, "runs_seconds": 5.0, "others": [],
        "landing": "overview", "notify": "off", "restore": True, "hangup": True, "session": "env"}
    assert cli.main(["--read-only", "--url", "https://other.test"]) == 0
    assert seen["read_only"] is True
    assert cli.main(["--notify", "failures", "--fresh"]) == 0
    assert seen["notify"] == "failures" and seen["restore"] is False
    assert cli.main(["--notify", "loud"]) == 2
    assert cli.main(["--profile", "nope"]) == 2
    assert "unknown profile 'nope'" in capsys.readouterr().err
    assert seen.pop("others") == []
    # the fleet (issue 17): several --profile, or every profile of the file
    (env / "config.toml").write_text(
        '[profiles.prod]\nurl = "https://prod.test"\nread_only = true\n'
        '[profiles.dev]\nurl = "https://dev.test"\n')
    assert cli.main(["--profile", "dev", "--profile", "prod", "--profile", "dev"]) == 0
    assert seen["profile"] == "dev" and seen.pop("others") == [("prod", True, "prod")]
    assert cli.main(["--all-profiles"]) == 0
    assert seen["profile"] == "prod" and seen["others"] == [("dev", False, "dev")]
    assert cli.main(["--all-profiles", "--profile", "dev"]) == 2
    assert "do not mix" in capsys.readouterr().err
    assert cli.main(["--all-profiles", "--url", "https://x.test"]) == 2
    assert "--url names one Airflow" in capsys.readouterr().err


def test_version_and_help(env, capsys):
    r = cli_run(capsys, "--version")
    assert r.code == 0 and __version__ in r.out
    r = cli_run(capsys, "--help")
    assert r.code == 0
    for name in ("dags", "runs", "trigger", "status", "logs", "pause", "unpause", "profiles"):
        assert name in r.out
    assert "exit codes" in r.out
    for argv in (["trigger", "--help"], ["logs", "-h"], ["profiles", "add", "--help"]):
        assert cli_run(capsys, *argv).code == 0


@pytest.mark.parametrize("argv, needle", [
    (["frobnicate"], "invalid choice"),
    (["trigger"], "DAG_ID"),
    (["trigger", "d", "--conf", "{}", "--conf-file", "x"], "not allowed with"),
    (["runs", "d", "--limit", "0"], "must be 1 or more"),
    (["trigger", "d", "--timeout", "-3", "--wait"], "positive"),
    (["dags", "--paused", "--active"], "not allowed with"),
    (["profiles"], "required"),
    (["logs", "d", "r"], "TASK_ID"),
    (["watch", "d", "--timeout", "0"], "positive"),
])
def test_usage_errors_exit_2(env, capsys, argv, needle):
    r = cli_run(capsys, *argv)
    assert r.code == 2 and needle in r.err and "Traceback" not in r.err


@pytest.mark.parametrize("argv, needle", [
    (["trigger", "d", "--conf", '{"a": 1,}'], "--conf: line 1, column 9"),
    (["trigger", "d", "--conf", "[1, 2]"], "must be a JSON object"),
    (["trigger", "d", "--conf-file", "/no/such/file.json"], "cannot read conf file"),
    (["trigger", "d", "--timeout", "5"], "--timeout needs --wait"),
    (["trigger", "d", "--logical-date", "yesterday"], "ISO 8601"),
    (["status", "d", "r", "--timeout", "5"], "--timeout needs --wait"),
    (["logs", "d", "r", "t", "--timeout", "5"], "--timeout needs --follow"),
    (["watch"], "watch needs DAG_ID and RUN_ID"),
    (["watch", "d"], "watch needs DAG_ID and RUN_ID"),
    (["watch", "d", "r", "--all"], "--all goes with --failures"),
    (["watch", "--failures", "d"], "takes no DAG or run"),
    (["runs", "d", "--state", "running,weird"], "unknown run state 'weird'"),
    (["--profile", "nope", "dags"], "unknown profile 'nope'"),
    (["dags", "--url", "http://a.test:99999"], "invalid port"),
])
def test_bad_input_is_a_usage_error_with_one_line(fake, capsys, argv, needle):
    r = cli_run(capsys, *argv)
    assert_one_line_error(r, 2, needle)
    assert fake.requests == []  # refused before any request


def test_json_without_a_command_is_a_usage_error(env, capsys):
    r = cli_run(capsys, "--json")
    assert r.code == 2 and "--json needs a command" in r.err


# -- dags ---------------------------------------------------------------------------------------------


def route_runs_window(fake: Fake, complete: bool = True) -> list[dict]:
    """The newest-runs batch: the recorded two runs (of 3: `complete=False`)."""
    runs = body(fake.api, "runs_batch")["dag_runs"]
    fake.route("POST", fake.at("/dags/~/dagRuns/list"),
               {"dag_runs": runs, "total_entries": len(runs) + (0 if complete else 1)})
    return runs


def test_dags_table_json_and_options_before_or_after_the_command(fake, capsys):
    fake.route("GET", fake.at("/dags"), body(fake.api, "dags"))
    route_runs_window(fake)
    r = cli_run(capsys, "dags")
    assert r.code == 0 and r.err == ""
    header, *rows = r.out.splitlines()
    assert header.split() == ["DAG_ID", "PAUSED", "SCHEDULE", "TAGS", "OWNERS", "NEXT_RUN",
                              "LAST_RUN", "LAST_RUN_ID", "LAST_RUN_AT"]
    assert any(row.startswith("example_params ") for row in rows)
    # every run is in the window: a DAG without one there never ran (no request of its own)
    assert not fake.calls("GET", "/dagRuns")
    for argv in (["dags", "--json"], ["--json", "dags"]):
        r = cli_run(capsys, *argv)
        dags = json.loads(r.out)
        assert {d["dag_id"] for d in dags} >= {"example_params", "example_fail", "example_long"}
        assert set(dags[0]) == {"dag_id", "display_name", "is_paused", "description", "owners",
                                "tags", "schedule", "next_run", "has_import_errors", "fileloc",
                                "last_run_state", "last_run_known", "last_run"}
        fail = next(d for d in dags if d["dag_id"] == "example_fail")
        assert fail["last_run"] is None and fail["last_run_known"] is True
        params = next(d for d in dags if d["dag_id"] == "example_params")
        assert "demo" in params["tags"] and params["owners"] == ["team"]
    for argv in (["--url", "https://other.test", "dags"], ["dags", "--url", "https://other.test"]):
        cli_run(capsys, *argv)
        assert fake.opened[-1].url == "https://other.test"


def test_dags_filters_reach_the_server(fake, capsys):
    fake.route("GET", fake.at("/dags"), {"dags": [], "total_entries": 0})
    r = cli_run(capsys, "dags", "--pattern", "lo", "--tag", "demo", "--tag", "big", "--paused")
    assert r.code == 0 and r.out == "" and "no DAGs match" in r.err
    params = fake.calls("GET", "/dags")[-1].url.params
    assert params["dag_id_pattern"] == "lo" and params.get_list("tags") == ["demo", "big"]
    assert params["paused"] == "true"
    cli_run(capsys, "dags", "--active")
    assert fake.calls("GET", "/dags")[-1].url.params["paused"] == "false"


def last_run_server(fake: Fake, dags: list[dict], runs: dict[str, dict]) -> None:
    """/dags answers the last-run filter (v2) from `runs` (each DAG's newest run); a DAG's own
    runs (limit=1) too."""

    def list_dags(request: httpx.Request) -> httpx.Response:
        state = request.url.params.get("last_dag_run_state")
        found = [d for d in dags if state is None or (
            d["dag_id"] in runs and runs[d["dag_id"]]["state"] == state)]
        return jresp(200, {"dags": found, "total_entries": len(found)})

    def dag_runs(request: httpx.Request) -> httpx.Response:
        dag_id = request.url.path.split("/")[4]
        mine = [runs[dag_id]] if dag_id in runs else []
        return jresp(200, {"dag_runs": mine, "total_entries": len(mine)})

    fake.route("GET", fake.at("/dags"), list_dags)
    fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns"), dag_runs)


def test_dags_reads_last_runs_older_than_the_window(fake, capsys):
    """Issue 19: a DAG whose last run is older than the newest runs read still says "failed",
    with its run id; a DAG found without runs "never" ran; one request per DAG outside the
    window, none for those in it."""
    dags = body(fake.api, "dags")["dags"]
    window = route_runs_window(fake, complete=False)
    failed = body(fake.api, "run_failed")
    last_run_server(fake, dags, {"example_fail": failed})
    r = cli_run(capsys, "dags", "--json")
    assert r.code == 0 and r.err == "", r.err
    got = {d["dag_id"]: d for d in json.loads(r.out)}
    fail = got["example_fail"]
    assert fail["last_run_state"] == "failed" and fail["last_run_known"] is True
    assert fail["last_run"]["run_id"] == failed["dag_run_id"]
    assert fail["last_run"]["start_date"].startswith("2026-11-25T10:06")
    in_window = {r["dag_id"] for r in window}
    for dag_id, d in got.items():
        if dag_id not in in_window | {"example_fail"}:
            assert d["last_run"] is None and d["last_run_known"] and d["last_run_state"] is None
    outside = len(dags) - len(in_window)
    assert len(fake.calls("GET", "/dagRuns")) == outside
    for dag_id in in_window:
        assert not fake.calls("GET", f"/dags/{dag_id}/dagRuns")
    filtered = [c for c in fake.calls("GET", "/dags") if "last_dag_run_state" in c.url.params]
    assert len(filtered) == (3 if fake.api == "v2" else 0)  # failed, running, queued (AF3)
    r = cli_run(capsys, "dags")
    row = next(line for line in r.out.splitlines() if line.startswith("example_fail "))
    assert row.split()[-4:-2] == ["failed", failed["dag_run_id"]]


def test_dags_reads_at_most_max_reads_dags_and_says_how_to_narrow(fake, capsys):
    dags = body(fake.api, "dags")["dags"]
    route_runs_window(fake, complete=False)
    last_run_server(fake, dags, {"example_fail": body(fake.api, "run_failed")})
    r = cli_run(capsys, "dags", "--json", "--max-reads", "1")
    assert r.code == 0
    lines = r.err.splitlines()
    assert len(lines) == 1 and "of 6 DAGs" in lines[0] and "--pattern" in lines[0], r.err
    assert len(fake.calls("GET", "/dagRuns")) == 1
    got = {d["dag_id"]: d for d in json.loads(r.out)}
    unread = [d for d in got.values() if not d["last_run_known"]]
    assert len(unread) == 6 and all(d["last_run"] is None for d in unread)
    if fake.api == "v2":  # the filter's failed DAG is read first
        assert got["example_fail"]["last_run_known"]
        assert got["example_fail"]["last_run"]["state"] == "failed"
    r = cli_run(capsys, "dags", "--max-reads", "0")
    row = next(line for line in r.out.splitlines() if line.startswith("example_cron "))
    assert row.split()[-2:] == ["?", "?"]


def test_pattern_means_containing_not_a_sql_like(fake, capsys):
    """Issue 18, papercut 2: "_" is a LIKE wildcard on the server, so `--pattern lab_` also
    brought example_branch_labels."""
    dags = [{"dag_id": i, "is_paused": False, "tags": [], "owners": []}
            for i in ("example_branch_labels", "my_lab_dag", "LAB_X")]
    fake.route("GET", fake.at("/dags"), {"dags": dags, "total_entries": 3})
    route_runs_window(fake)
    r = cli_run(capsys, "dags", "--pattern", "lab_", "--json")
    assert sorted(d["dag_id"] for d in json.loads(r.out)) == ["LAB_X", "my_lab_dag"]
    assert fake.calls("GET", "/dags")[-1].url.params["dag_id_pattern"] == "lab_"


def test_hostile_text_in_tables_is_sanitized(v2, capsys):
    dag = dict(body("v2", "dags")["dags"][0], dag_id="evil\x1b]0;pwned\x07\x1b[2J",
               description="x", tags=[{"name": "\x1b[31mred"}])
    v2.route("GET", v2.at("/dags"), {"dags": [dag], "total_entries": 1})
    route_runs_window(v2)
    r = cli_run(capsys, "dags")
    assert "\x1b" not in r.out and "\x07" not in r.out and "evil" in r.out
    r = cli_run(capsys, "dags", "--json")
    assert "\x1b" not in r.out and json.loads(r.out)[0]["dag_id"].startswith("evil\x1b")


# -- runs / status ------------------------------------------------------------------------------------


def test_runs_json_shape_state_filter_and_paging(fake, capsys):
    page = body(fake.api, "runs_list")
    fake.route("GET", fake.at("/dags/example_params/dagRuns"),
               lambda req: jresp(200, {**page, "total_entries": 250}))
    r = cli_run(capsys, "runs", "example_params", "--json", "--state", "success,failed",
                "--limit", "5")
    runs = json.loads(r.out)
    assert r.code == 0 and runs and set(runs[0]) == {
        "dag_id", "run_id", "state", "run_type", "logical_date", "run_after", "start_date",
        "end_date", "duration", "conf", "note"}
    call = fake.calls("GET", "/dagRuns")[0].url.params
    assert call.get_list("state") == ["success", "failed"]
    r = cli_run(capsys, "runs", "example_params")
    assert r.out.splitlines()[0].split()[:2] == ["RUN_ID", "STATE"]


def test_runs_of_an_unknown_dag_is_an_error_on_both_versions(fake, capsys):
    fake.route("GET", fake.at("/dags/nope/dagRuns"), {"dag_runs": [], "total_entries": 0})
    fake.route("GET", fake.at("/dags/nope/details"), problem(404, "Not Found", "DAG not found"))
    assert_one_line_error(cli_run(capsys, "runs", "nope"), 1, "DAG 'nope' not found")


def route_failed_run(fake: Fake) -> str:
    run = body(fake.api, "run_failed")
    run_id = run["dag_run_id"]
    fake.route("GET", fake.at(f"/dags/example_fail/dagRuns/{ANY}"), run)
    fake.route("GET", fake.at(f"/dags/example_fail/dagRuns/{ANY}/taskInstances"),
               body(fake.api, "tis_fail"))
    return run_id


def test_status_human_and_json(fake, capsys):
    run_id = route_failed_run(fake)
    r = cli_run(capsys, "status", "example_fail", run_id)
    assert r.code == 0
    assert "state" in r.out and "failed" in r.out
    assert "tasks: 1 failed, 1 upstream_failed, 1 success" in r.out
    assert any(line.startswith("boom") and "2/2" in line for line in r.out.splitlines())
    doc = json.loads(cli_run(capsys, "status", "example_fail", run_id, "--json").out)
    assert doc["state"] == "failed" and doc["run_id"] == run_id
    assert doc["task_states"] == {"failed": 1, "upstream_failed": 1, "success": 1}
    assert {t["task_id"] for t in doc["tasks"]} == {"ok", "boom", "never"}
    assert set(doc["tasks"][0]) == {"task_id", "map_index", "state", "try_number", "max_tries",
                                    "start_date", "end_date", "duration", "operator"}


def test_status_of_an_unknown_run(fake, capsys):
    fake.route("GET", fake.at(f"/dags/d/dagRuns/{ANY}"), problem(404, "Not Found", "no run"))
    assert_one_line_error(cli_run(capsys, "status", "d", "r1"), 1,
                          "run 'r1' of DAG 'd' not found")


def test_status_wait_exit_3_on_a_failed_run(fake, capsys):
    run_id = route_failed_run(fake)
    r = cli_run(capsys, "status", "example_fail", run_id, "--wait", "--interval", "0.01")
    assert r.code == 3
    assert "failed tasks: boom (try 2)" in r.err
    assert f"logs example_fail {run_id}" in r.err.replace("'", "") and "--try 2" in r.err


# -- trigger ------------------------------------------------------------------------------------------


def route_trigger(fake: Fake, *, paused: bool = False, states=("success",)) -> dict:
    """DAG details, PATCH (pause), POST (trigger), and GET of the run going through `states`."""
    details = dict(body(fake.api, "dag_details_params"), is_paused=paused)
    created = body(fake.api, "trigger_params")
    run_id = created["dag_run_id"]
    fake.route("GET", fake.at("/dags/example_params/details"), details)
    fake.route("PATCH", fake.at("/dags/example_params"),
               lambda req: jresp(200, dict(details, is_paused=json.loads(req.content)["is_paused"])))
    fake.route("POST", fake.at("/dags/example_params/dagRuns"),
               lambda req: jresp(200, dict(created, conf=json.loads(req.content)["conf"])))
    sequence = list(states)

    def get_run(req):
        state = sequence.pop(0) if len(sequence) > 1 else sequence[0]
        return jresp(200, dict(created, state=state))

    fake.route("GET", fake.at(f"/dags/example_params/dagRuns/{ANY}"), get_run)
    fake.route("GET", fake.at(f"/dags/example_params/dagRuns/{ANY}/taskInstances"),
               {"task_instances": [], "total_entries": 0})
    return {"run_id": run_id}


def sent(fake: Fake, method: str, path: str) -> list[dict]:
    return [json.loads(r.content) for r in fake.calls(method, path)]


def test_trigger_prints_only_the_run_id_and_sends_the_conf(fake, capsys, tmp_path):
    ids = route_trigger(fake)
    r = cli_run(capsys, "trigger", "example_params", "--conf", '{"name": "x", "count": 2}',
                "--run-id", "my_run", "--note", "from cron", "--logical-date",
                "2026-01-31T10:00:00")
    assert r.code == 0 and r.out == ids["run_id"] + "\n" and r.err == ""
    posted = sent(fake, "POST", "/dagRuns")[-1]
    assert posted["conf"] == {"name": "x", "count": 2}
    assert posted["dag_run_id"] == "my_run" and posted["note"] == "from cron"
    assert posted["logical_date"].startswith("2026-01-31T10:00:00")
    conf_file = tmp_path / "conf.json"
    conf_file.write_text('{"name": "from file"}')
    assert cli_run(capsys, "trigger", "example_params", "--conf-file", str(conf_file)).code == 0
    assert sent(fake, "POST", "/dagRuns")[-1]["conf"] == {"name": "from file"}


def test_trigger_conf_from_stdin_and_json_output(v2, capsys, monkeypatch):
    route_trigger(v2)
    monkeypatch.setattr("sys.stdin", io.StringIO('{"count": 7}'))
    r = cli_run(capsys, "trigger", "example_params", "--conf-file", "-", "--json")
    doc = json.loads(r.out)
    assert r.code == 0 and doc["conf"] == {"count": 7} and doc["state"] == "queued"
    assert "tasks" not in doc


def test_trigger_refuses_a_conf_the_server_would_refuse_before_any_write(v2, capsys):
    route_trigger(v2, paused=True)
    r = cli_run(capsys, "trigger", "example_params", "--unpause",
                "--conf", '{"count": 500, "color": "pink"}')
    assert r.code == 2
    # every broken param, by name and rule; the last line says why nothing was sent
    assert "conf: color: 'pink' is not one of" in r.err and "(enum)" in r.err
    assert "conf: count: 500 is greater than the maximum of 100 (maximum)" in r.err
    assert "nothing was sent (--no-validate sends it anyway)" in r.err
    assert v2.calls("POST", "/dagRuns") == [] and v2.calls("PATCH") == []  # not even the unpause
    r = cli_run(capsys, "trigger", "example_params", "--no-validate",
                "--conf", '{"count": 500, "color": "pink"}')
    assert r.code == 0 and "sent anyway: --no-validate" in r.err
    assert sent(v2, "POST", "/dagRuns")[-1]["conf"] == {"count": 500, "color": "pink"}


def test_trigger_a_paused_dag_warns_and_unpause_unpauses(fake, capsys):
    route_trigger(fake, paused=True)
    r = cli_run(capsys, "trigger", "example_params")
    assert r.code == 0 and "is paused" in r.err and "--unpause" in r.err
    assert fake.calls("PATCH") == []
    r = cli_run(capsys, "trigger", "example_params", "--unpause")
    assert r.code == 0 and "is paused" not in r.err and "unpaused example_params" in r.err
    assert sent(fake, "PATCH", "/dags/example_params") == [{"is_paused": False}]


def test_trigger_wait_success_failure_and_timeout(fake, capsys):
    route_trigger(fake, states=("queued", "running", "success"))
    r = cli_run(capsys, "trigger", "example_params", "--wait", "--interval", "0.01")
    assert r.code == 0 and "success" in r.err
    assert "\r" not in r.err  # no progress line when stderr is not a terminal

    route_trigger(fake, states=("running", "failed"))
    r = cli_run(capsys, "trigger", "example_params", "--wait", "--interval", "0.01")
    assert r.code == 3 and "failed" in r.err

    route_trigger(fake, states=("queued",))
    r = cli_run(capsys, "trigger", "example_params", "--wait", "--interval", "0.01",
                "--timeout", "0.05", "--json")
    assert r.code == 4 and "timeout" in r.err and "keeps going" in r.err
    doc = json.loads(r.out)
    assert doc["state"] == "queued" and doc["tasks"] == [] and doc["task_states"] == {}


def test_wait_shows_progress_only_on_a_terminal(v2, monkeypatch, capsys):
    route_trigger(v2, states=("queued", "running", "running", "success"))

    class TtyErr(io.StringIO):
        def isatty(self):
            return True

    err = TtyErr()
    out = io.StringIO()
    args = cli.build_parser().parse_args(["trigger", "example_params", "--wait", "--interval",
                                          "0.01"])
    assert base.run(args, out=out, err=err) == 0
    assert "\r\x1b[2K" in err.getvalue() and "running" in err.getvalue()
    assert out.getvalue().strip() == route_trigger(v2)["run_id"]


def test_wait_rides_out_a_server_blip(v2, capsys):
    route_trigger(v2)
    calls = {"n": 0}
    original = v2.routes[-2][2]  # the GET-run handler

    def flaky(req):
        calls["n"] += 1
        return jresp(503, {"detail": "down"}) if calls["n"] <= 4 else original(req)

    v2.route("GET", v2.at(f"/dags/example_params/dagRuns/{ANY}"), flaky)
    r = cli_run(capsys, "trigger", "example_params", "--wait", "--interval", "0.01")
    assert r.code == 0 and "retrying" in r.err and "answers again" in r.err


@pytest.mark.parametrize("argv", [
    ["--read-only", "trigger", "example_params"],
    ["trigger", "example_params", "--read-only", "--unpause"],
    ["pause", "example_params", "--read-only"],
    ["--read-only", "unpause", "example_params"],
])
def test_read_only_refuses_writes_with_exit_2_and_no_request(fake, capsys, argv):
    r = cli_run(capsys, *argv)
    assert_one_line_error(r, 2, "--read-only", "refusing to")
    assert fake.requests == []


def test_read_only_profile_refuses_writes(fake, capsys, env):
    (env / "config.toml").write_text(
        '[profiles.prod]\nurl = "https://airflow.test"\nread_only = true\n')
    r = cli_run(capsys, "--profile", "prod", "trigger", "example_params")
    assert_one_line_error(r, 2, "profile 'prod' is read-only", "refusing to trigger")
    assert fake.requests == []


# -- pause / unpause ----------------------------------------------------------------------------------


def test_pause_and_unpause(fake, capsys):
    route_trigger(fake)
    r = cli_run(capsys, "pause", "example_params")
    assert r.code == 0 and r.out == "example_params paused\n"
    r = cli_run(capsys, "unpause", "example_params", "--json")
    assert r.code == 0 and json.loads(r.out)["is_paused"] is False
    assert sent(fake, "PATCH", "/dags/example_params") == [{"is_paused": True},
                                                          {"is_paused": False}]
    fake.route("PATCH", fake.at("/dags/nope"), problem(404, "Not Found", "no such DAG"))
    assert_one_line_error(cli_run(capsys, "pause", "nope"), 1, "DAG 'nope' not found")


# -- logs ---------------------------------------------------------------------------------------------


def route_log(fake: Fake, name: str, task: str, tis: str, **ti_changes) -> str:
    log = body(fake.api, name)
    ti_list = body(fake.api, tis)["task_instances"]
    ti = dict(next(t for t in ti_list if t["task_id"] == task), **ti_changes)
    fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/{task}"), ti)
    fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/{task}/logs/{ANY}"), log)
    return ti["dag_run_id"]


def test_logs_print_the_try_with_timestamps_levels_and_details(fake, capsys):
    run_id = route_log(fake, "log_boom", "boom", "tis_fail")
    r = cli_run(capsys, "logs", "example_fail", run_id, "boom", "--try", "2")
    assert r.code == 0, r.err
    assert "example_fail: intentional failure" in r.out
    lines = r.out.splitlines()
    assert any(" ERROR " in line for line in lines)
    assert any(line.startswith("    ") for line in lines) or fake.api == "v1"
    assert fake.calls("GET", "/logs/2")


def route_mapped(fake: Fake) -> None:
    """A run whose task `square` is mapped over 0-2 and 5 (its unmapped TI path is a 404)."""
    base = body(fake.api, "tis_fail")["task_instances"][0]
    tis = [dict(base, task_id="square", map_index=i, state="success", try_number=1)
           for i in (0, 1, 2, 5)] + [dict(base, task_id="total", map_index=-1)]
    fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances"),
               {"task_instances": tis, "total_entries": len(tis)})
    log = body(fake.api, "log_params")
    for i in (0, 1, 2, 5):
        fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/square/{i}"),
                   dict(tis[min(i, 3)], map_index=i))
        fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/square/logs/1"),
                   log)


def test_logs_of_a_mapped_task_without_its_index_say_so(fake, capsys):
    """Issue 18, papercut 1: it said "not found"."""
    route_mapped(fake)
    r = cli_run(capsys, "logs", "example_mapped", "r", "square")
    assert_one_line_error(r, 2, "task square is mapped (4 instances, map indexes 0-2, 5):"
                                " pass --map-index I, or --map-index all")
    r = cli_run(capsys, "logs", "example_mapped", "r", "nosuch")
    assert_one_line_error(r, 1, "task nosuch of run 'r' of DAG 'example_mapped' not found")


def test_logs_map_index_all_prints_each_instance_in_turn(fake, capsys):
    route_mapped(fake)
    r = cli_run(capsys, "logs", "example_mapped", "r", "square", "--map-index", "all")
    assert r.code == 0, r.err
    headers = [line for line in r.out.splitlines() if line.startswith("==> ")]
    assert headers == [f"==> square[{i}] <==" for i in (0, 1, 2, 5)]
    assert r.out.count("CONF=") == 4
    r = cli_run(capsys, "logs", "example_mapped", "r", "total", "--map-index", "all")
    assert_one_line_error(r, 2, "is not a mapped task")
    r = cli_run(capsys, "logs", "d", "r", "t", "--map-index", "al")
    assert r.code == 2 and "not a map index" in r.err


def test_logs_contain_the_conf_on_both_versions(fake, capsys):
    log = body(fake.api, "log_params")
    ti = dict(body(fake.api, "tis_fail")["task_instances"][0], task_id="show_conf",
              state="success", try_number=1)
    fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/show_conf"), ti)
    fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/show_conf/logs/1"), log)
    r = cli_run(capsys, "logs", "example_params", "r", "show_conf")
    assert r.code == 0 and 'CONF={"count": 2, "name": "fixture"}' in r.out


def test_logs_sanitize_on_a_terminal_and_raw_passes_through(v2, capsys):
    ti = dict(body("v2", "tis_fail")["task_instances"][0], state="success", try_number=1)
    v2.route("GET", v2.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/ok"), ti)
    hostile = {"content": [{"timestamp": "2026-11-25T10:00:00Z", "level": "info",
                            "logger": "task.stdout", "event": "\x1b[31mred\x1b[0m \x1b]0;t\x07"}],
               "continuation_token": None}
    v2.route("GET", v2.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/ok/logs/1"), hostile)

    def run_with(argv, tty):
        class Out(io.StringIO):
            def isatty(self):
                return tty

        out = Out()
        args = cli.build_parser().parse_args(argv)
        assert base.run(args, out=out, err=io.StringIO()) == 0
        return out.getvalue()

    argv = ["logs", "d", "r", "ok"]
    assert run_with(argv, tty=True) == "2026-11-25T10:00:00.000Z INFO  red \n"
    assert "\x1b[31mred" in run_with(argv, tty=False)  # piped: unchanged
    assert "\x1b[31mred" in run_with(argv + ["--raw"], tty=True)
    ndjson = run_with(argv + ["--json"], tty=True)
    entry = json.loads(ndjson)
    assert entry["text"].startswith("\x1b[31mred") and "\x1b" not in ndjson
    assert set(entry) == {"timestamp", "level", "logger", "text", "detail", "group", "extras"}


def test_logs_errors(fake, capsys):
    run_id = route_log(fake, "log_boom", "boom", "tis_fail")
    r = cli_run(capsys, "logs", "example_fail", run_id, "boom", "--try", "5")
    assert_one_line_error(r, 1, "has no try 5", "latest is 2")
    fake.route("GET", fake.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/nope"),
               problem(404, "Not Found", "no TI"))
    assert_one_line_error(cli_run(capsys, "logs", "d", "r", "nope"), 1, "task nope of run 'r'")


def test_logs_of_a_task_not_started_yet(fake, capsys):
    route_log(fake, "log_boom", "boom", "tis_fail", state="queued", try_number=1)
    r = cli_run(capsys, "logs", "d", "r", "boom")
    assert r.code == 0 and r.out == "" and "has not started (state queued)" in r.err
    assert fake.calls("GET", "/logs/") == []


def test_logs_follow_streams_until_the_end(v2, capsys):
    """Three polls: running with two lines, running with one more, success with the last."""
    states = iter(["running", "running", "success", "success"])
    ti = body("v2", "tis_fail")["task_instances"][0]
    v2.route("GET", v2.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/ok"),
             lambda req: jresp(200, dict(ti, state=next(states), try_number=1)))
    entry = lambda n: {"timestamp": f"2026-11-25T10:00:0{n}Z", "level": "info",  # noqa: E731
                       "logger": "x", "event": f"tick {n}"}
    pages = {None: ([entry(1), entry(2)], "t1"), "t1": ([entry(3)], "t2"), "t2": ([entry(4)], None)}

    def log(req):
        content, token = pages[req.url.params.get("token")]
        return jresp(200, {"content": content, "continuation_token": token})

    v2.route("GET", v2.at(f"/dags/{ANY}/dagRuns/{ANY}/taskInstances/ok/logs/1"), log)
    r = cli_run(capsys, "logs", "d", "r", "ok", "--follow", "--interval", "0.01")
    assert r.code == 0, r.err
    assert [line.split()[-1] for line in r.out.splitlines()] == ["1", "2", "3", "4"]


def test_logs_follow_timeout_exit_4(v2, capsys):
    route_log(v2, "log_boom", "boom", "tis_fail", state="queued", try_number=1)
    r = cli_run(capsys, "logs", "d", "r", "boom", "-f", "--interval", "0.01", "--timeout", "0.05")
    assert r.code == 4 and "waiting for task boom to start" in r.err and "timeout" in r.err


# -- API errors: exit 1, one line, no traceback, no secret ------------------------------------------


def test_unreachable_server(fake, capsys):
    def refuse(request):
        raise httpx.ConnectError("All connection attempts failed", request=request)

    fake.route("GET", fake.at("/dags"), refuse)
    assert_one_line_error(cli_run(capsys, "dags"), 1, "cannot reach airflow.test:443")


def test_auth_errors_name_the_profile_but_never_the_secret(fake, capsys):
    fake.route("GET", fake.at("/dags"),
               lambda req: jresp(401, {"detail": f"bad token {req.headers['authorization']}"}))
    r = cli_run(capsys, "dags")
    assert_one_line_error(r, 1, "401", "profile 'env'")
    r = cli_run(capsys, "dags", "--debug")
    assert r.code == 1 and "Traceback" in r.err and TOKEN not in r.err + r.out
    assert "Unauthorized" in r.err


def test_unexpected_errors_have_no_traceback_unless_debug(fake, capsys, monkeypatch):
    async def boom(ctx):
        raise RuntimeError(f"kaput {TOKEN}")

    monkeypatch.setattr("astro_tui.commands.dags.cmd_dags", boom)
    fake.route("GET", fake.at("/dags"), {"dags": [], "total_entries": 0})
    parser = cli.build_parser()
    args = parser.parse_args(["dags"])
    args.func = boom
    err = io.StringIO()
    assert base.run(args, out=io.StringIO(), err=err) == 1
    assert "unexpected error: RuntimeError: kaput ***" in err.getvalue()
    assert "Traceback" not in err.getvalue() and "--debug" in err.getvalue()
    args = parser.parse_args(["dags", "--debug"])
    args.func = boom
    err = io.StringIO()
    assert base.run(args, out=io.StringIO(), err=err) == 1
    assert "Traceback" in err.getvalue() and TOKEN not in err.getvalue()


def test_interrupt_and_broken_pipe(env, capsys):
    args = cli.build_parser().parse_args(["dags"])

    async def interrupted(ctx):
        ctx.interrupt_note = "run r keeps going"
        raise KeyboardInterrupt

    args.func = interrupted
    err = io.StringIO()
    assert base.run(args, out=io.StringIO(), err=err) == 130
    assert "interrupted (run r keeps going)" in err.getvalue()

    async def pipe_closed(ctx):
        raise BrokenPipeError

    args.func = pipe_closed
    assert base.run(args, out=io.StringIO(), err=io.StringIO()) == 0


# -- profiles -----------------------------------------------------------------------------------------


def test_profiles_add_flag_driven_list_and_remove(env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    r = cli_run(capsys, "profiles", "add", "--name", "prod", "--url", "https://af.example.com/home",
                "--username", "me", "--secret-source", "env:PROD_PW", "--default")
    assert r.code == 0 and "added profile 'prod'" in r.out
    path = env / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert 'secret = "env:PROD_PW"' in text and 'auth = "password"' in text
    assert 'default_profile = "prod"' in text and 'url = "https://af.example.com"' in text

    r = cli_run(capsys, "profiles", "add", "--name", "lit", "--url", "https://x.example.com",
                "--secret-source", "hunter2-literal")
    assert r.code == 0 and "shell history" in r.err and "stores its secret literally" in r.err
    assert "hunter2-literal" not in r.out + r.err

    r = cli_run(capsys, "profiles", "list", "--json")
    profiles = {p["name"]: p for p in json.loads(r.out)}
    assert profiles["prod"]["default"] is True and profiles["prod"]["secret"] == "env:PROD_PW"
    assert profiles["lit"]["secret"] == "***" and profiles["lit"]["auth"] == "token"
    r = cli_run(capsys, "profiles", "list")
    assert "hunter2-literal" not in r.out + r.err and "prod" in r.out and "***" in r.out
    assert "AIRFLOW_API_URL is set" in r.err

    r = cli_run(capsys, "profiles", "add", "--name", "prod", "--url", "https://y.example.com")
    assert_one_line_error(r, 2, "exists")
    r = cli_run(capsys, "profiles", "remove", "prod")
    assert r.code == 0 and "no default now" in r.err
    assert "default_profile" not in path.read_text()
    assert_one_line_error(cli_run(capsys, "profiles", "remove", "prod"), 2, "no profile 'prod'")


@pytest.mark.parametrize("argv, needle", [
    (["--url", "https://x.example.com"], "--name and --url are required"),
    (["--name", "a b", "--url", "https://x.example.com"], "bad profile name"),
    (["--name", "p", "--url", "https://x.example.com", "--auth", "basic"], "needs a secret"),
    (["--name", "p", "--url", "http://remote.example.com", "--secret-source", "env:T"],
     "plain http"),
    (["--name", "p", "--url", "https://x.example.com", "--ca-bundle", "/no/such/ca.pem"],
     "cannot read ca_bundle /no/such/ca.pem"),
    (["--name", "p", "--url", "https://x.example.com", "--ca-bundle", __file__],
     "is not a PEM CA bundle"),
])
def test_profiles_add_refuses_bad_input(env, capsys, monkeypatch, argv, needle):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert_one_line_error(cli_run(capsys, "profiles", "add", *argv), 2, needle)
    assert not (env / "config.toml").exists()


def test_profiles_add_secret_from_stdin(env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-from-stdin\n"))
    r = cli_run(capsys, "profiles", "add", "--name", "p", "--url", "https://x.example.com",
                "--username", "u", "--secret-stdin")
    assert r.code == 0 and "s3cret-from-stdin" not in r.out + r.err
    assert "stores its secret literally" in r.err and "shell history" not in r.err


class TtyIn(io.StringIO):
    def isatty(self):
        return True


def test_profiles_add_interactive_never_echoes_the_secret(env, capsys, monkeypatch):
    # …, secret source (empty: type it), keyring? no (kept in the file), read-only? yes
    answers = "dev\nhttps://dev.example.com\npassword\nadmin\n\nn\ny\n"
    monkeypatch.setattr("sys.stdin", TtyIn(answers))
    monkeypatch.setattr("astro_tui.commands.profiles._keyring_installed", lambda: True)
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda prompt, stream=None: asked.append(prompt)
                        or "typed-Secret-99")
    r = cli_run(capsys, "profiles", "add")
    assert r.code == 0, r.err
    assert asked and "typed-Secret-99" not in r.out + r.err
    assert "Profile name" in r.err and "Secret source" in r.err
    p = json.loads(cli_run(capsys, "profiles", "list", "--json").out)[0]
    assert (p["name"], p["url"], p["auth"], p["username"], p["secret"], p["read_only"]) == (
        "dev", "https://dev.example.com", "password", "admin", "***", True)


def test_profiles_add_interactive_with_a_secret_source(env, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", TtyIn("token\nenv:DEV_TOKEN\nn\n"))
    monkeypatch.setattr("getpass.getpass", lambda *a, **k: pytest.fail("no getpass needed"))
    r = cli_run(capsys, "profiles", "add", "--name", "dev", "--url", "https://dev.example.com")
    assert r.code == 0 and "warning" not in r.err
    assert 'secret = "env:DEV_TOKEN"' in (env / "config.toml").read_text()


def test_profiles_test_reports_reachability_version_and_auth(fake, capsys, monkeypatch):
    async def connect(cls, url, **kw):
        return AirflowClient(ROOT, _version(fake.api), transport=fake.transport, backoff=0)

    monkeypatch.setattr(AirflowClient, "connect", classmethod(connect))
    fake.route("GET", fake.at("/monitor/health") if fake.api == "v2" else "/api/v1/health",
               body(fake.api, "health"))
    fake.route("POST", fake.at("/dags/~/dagRuns/list"), {"dag_runs": [], "total_entries": 0})
    r = cli_run(capsys, "profiles", "test")
    assert r.code == 0, r.err
    assert "reachable  yes" in r.out and VERSION[fake.api] in r.out and "auth       ok" in r.out
    doc = json.loads(cli_run(capsys, "profiles", "test", "--json").out)
    assert doc["reachable"] is True and doc["authenticated"] is True
    assert doc["version"] == VERSION[fake.api] and doc["api"] == fake.api
    assert doc["health"]["metadatabase"] == "healthy"

    fake.route("POST", fake.at("/dags/~/dagRuns/list"), problem(401, "Unauthorized", "bad"))
    r = cli_run(capsys, "profiles", "test")
    assert r.code == 1 and "FAILED" in r.out and TOKEN not in r.out + r.err


def test_profiles_test_unreachable(env, capsys, monkeypatch):
    async def connect(cls, url, **kw):
        from astro_tui.airflow import Unreachable

        raise Unreachable("cannot reach nowhere.test: refused")

    monkeypatch.setattr(AirflowClient, "connect", classmethod(connect))
    r = cli_run(capsys, "profiles", "test", "--json")
    doc = json.loads(r.out)
    assert r.code == 1 and doc["reachable"] is False and "cannot reach" in doc["error"]


def test_the_commands_do_not_import_textual():
    """Headless commands start fast and need no terminal: Textual stays out of them."""
    import subprocess
    import sys

    code = (
        "import sys, astro_tui.cli as c, astro_tui.commands.base; c.build_parser(); "
        "bad = sorted(m for m in sys.modules if m.startswith('textual')); assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
