"""The headless CLI against the REAL Airflow 3 and Airflow 2 servers of the harness.

Each test runs once per server (the `server` fixture). Commands run in-process through
``astro_tui.cli.main`` with the connection in the environment (AIRFLOW_API_URL,
AIRFLOW_USERNAME, AIRFLOW_PASSWORD) and an empty config file of their own; `logs --follow` also
runs as a real subprocess of the installed ``astro-tui`` script, to see lines arrive over time.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from astro_tui import cli

pytestmark = pytest.mark.integration

TIMEOUT = "180"  # seconds, for --wait / --follow: Airflow 2 runs one task at a time
SCRIPT = Path(sys.executable).with_name("astro-tui")


@pytest.fixture
def conn_env(server, monkeypatch, tmp_path) -> dict[str, str]:
    for var in list(os.environ):
        if var.startswith(("ASTRO_", "AIRFLOW_")):
            monkeypatch.delenv(var)
    values = {
        "ASTRO_TUI_CONFIG": str(tmp_path / "config.toml"),
        "ASTRO_TUI_DATA_DIR": str(tmp_path / "data"),
        "AIRFLOW_API_URL": server.url,
        "AIRFLOW_USERNAME": server.username,
        "AIRFLOW_PASSWORD": server.password,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def run_cli(conn_env, capsys):
    def run(*argv: str) -> SimpleNamespace:
        code = cli.main(list(argv))
        cap = capsys.readouterr()
        return SimpleNamespace(code=code, out=cap.out, err=cap.err)

    return run


def ok(result: SimpleNamespace) -> SimpleNamespace:
    assert result.code == 0, (result.code, result.err)
    return result


def one_error_line(result: SimpleNamespace, code: int) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("astro-tui: error: "), result.err
    assert "Traceback" not in result.err
    return lines[0]


# -- the seed article's three workflows ------------------------------------------------------------


def test_dags_json_has_the_example_dags(server, run_cli):
    dags = {d["dag_id"]: d for d in json.loads(ok(run_cli("dags", "--json")).out)}
    for dag_id in ("example_params", "example_fail", "example_long", "example_success",
                   "example_mapped"):
        assert dag_id in dags
    assert "params" in dags["example_params"]["tags"]
    assert dags["example_params"]["owners"] == ["team"]
    table = ok(run_cli("dags", "--tag", "mapped")).out.splitlines()
    assert table[0].startswith("DAG_ID") and [r.split()[0] for r in table[1:]] == [
        "example_mapped"]


def test_trigger_wait_with_conf_then_status_and_logs_show_it(server, run_cli):
    conf = {"name": f"cli{server.major}", "count": 2, "color": "green"}
    r = ok(run_cli("trigger", "example_params", "--conf", json.dumps(conf), "--unpause",
                   "--note", "from the CLI tests", "--wait", "--timeout", TIMEOUT))
    run_id = r.out.strip()
    assert run_id and "\n" not in run_id
    assert f"run {run_id}: success" in r.err

    status = json.loads(ok(run_cli("status", "example_params", run_id, "--json")).out)
    assert status["state"] == "success" and status["conf"] == conf
    assert status["note"] == "from the CLI tests"
    assert [(t["task_id"], t["state"], t["try_number"]) for t in status["tasks"]] == [
        ("show_conf", "success", 1)]
    assert status["task_states"] == {"success": 1}
    human = ok(run_cli("status", "example_params", run_id)).out
    assert "tasks: 1 success" in human and "show_conf" in human

    log = ok(run_cli("logs", "example_params", run_id, "show_conf")).out
    assert "CONF=" + json.dumps(conf, sort_keys=True) in log
    assert f"hello cli{server.major} #2 (green)" in log
    entries = [json.loads(line) for line in
               ok(run_cli("logs", "example_params", run_id, "show_conf", "--try", "1",
                          "--json")).out.splitlines()]
    assert any("CONF=" in e["text"] for e in entries)

    runs = json.loads(ok(run_cli("runs", "example_params", "--json", "--limit", "5")).out)
    assert run_id in [r["run_id"] for r in runs]
    assert run_id in ok(run_cli("runs", "example_params", "--state", "success")).out


def test_failing_dag_exits_3_and_its_log_shows_why(server, run_cli):
    r = run_cli("trigger", "example_fail", "--unpause", "--wait", "--timeout", TIMEOUT)
    assert r.code == 3, (r.code, r.err)
    run_id = r.out.strip()
    assert f"run {run_id}: failed" in r.err and "failed tasks: boom (try 2)" in r.err
    for attempt in ("1", "2"):
        log = ok(run_cli("logs", "example_fail", run_id, "boom", "--try", attempt)).out
        assert "example_fail: intentional failure" in log and "RuntimeError" in log
    assert "failed" in ok(run_cli("status", "example_fail", run_id)).out
    r = run_cli("status", "example_fail", run_id, "--wait", "--timeout", "30")
    assert r.code == 3


def test_logs_follow_streams_in_order_and_ends(server, run_cli, conn_env):
    seconds = 6
    run_id = ok(run_cli("trigger", "example_long", "--conf", json.dumps({"seconds": seconds}),
                        "--unpause")).out.strip()
    proc = subprocess.Popen(
        [str(SCRIPT), "logs", "example_long", run_id, "tick", "--follow", "--interval", "1",
         "--timeout", TIMEOUT],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **conn_env})
    arrivals: list[tuple[float, str]] = []
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            arrivals.append((time.monotonic(), line.rstrip("\n")))
        code = proc.wait(timeout=int(TIMEOUT) + 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()  # type: ignore[union-attr]
    assert code == 0, err
    ticks = [(t, line) for t, line in arrivals if f" of {seconds}" in line and "tick " in line]
    assert [line.split("tick ")[1] for _, line in ticks] == [
        f"{i} of {seconds}" for i in range(1, seconds + 1)], [line for _, line in arrivals]
    done = [t for t, line in arrivals if f"done after {seconds} ticks" in line]
    assert len(done) == 1 and done[0] >= ticks[-1][0]
    # streamed: the first tick was printed well before the end of the task, not all at once
    assert done[0] - ticks[0][0] >= 2.0, [round(t - ticks[0][0], 1) for t, _ in ticks]
    assert "Traceback" not in err


def test_paused_dag_warns_and_the_run_waits_for_unpause(server, run_cli):
    assert ok(run_cli("pause", "example_success")).out == "example_success paused\n"
    r = ok(run_cli("trigger", "example_success"))
    run_id = r.out.strip()
    assert "is paused" in r.err and "--unpause" in r.err
    status = json.loads(ok(run_cli("status", "example_success", run_id, "--json")).out)
    assert status["state"] == "queued"
    dag = json.loads(ok(run_cli("unpause", "example_success", "--json")).out)
    assert dag["dag_id"] == "example_success" and dag["is_paused"] is False
    r = ok(run_cli("status", "example_success", run_id, "--wait", "--timeout", TIMEOUT))
    assert "tasks: 3 success" in r.out


# -- errors ------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_url_wrong_credentials_unknown_dag(server, run_cli, monkeypatch):
    port = _free_port()
    line = one_error_line(run_cli("--url", f"http://127.0.0.1:{port}", "dags"), 1)
    assert f"cannot reach 127.0.0.1:{port}" in line  # the port too (issue 18, papercut 3)

    line = one_error_line(run_cli("--url", "http://127.0.0.1:notaport", "dags"), 2)
    assert "port" in line

    monkeypatch.setenv("AIRFLOW_PASSWORD", "wrong-Passw0rd-x")
    for extra in ([], ["--debug"]):
        r = run_cli("dags", *extra)
        assert r.code == 1 and "wrong-Passw0rd-x" not in r.out + r.err
    line = one_error_line(run_cli("dags"), 1)
    assert ("401" in line or "403" in line) and "profile 'env'" in line

    monkeypatch.delenv("AIRFLOW_USERNAME")
    monkeypatch.delenv("AIRFLOW_PASSWORD")
    monkeypatch.setenv("AIRFLOW_AUTH_TOKEN", "bogus-Token-123456")
    r = run_cli("trigger", "example_params")
    line = one_error_line(r, 1)
    assert ("401" in line or "403" in line) and "bogus-Token-123456" not in r.out + r.err


def test_unknown_dag_run_and_task_and_bad_conf(server, run_cli):
    line = one_error_line(run_cli("trigger", "no_such_dag", "--wait"), 1)
    assert "DAG 'no_such_dag' not found" in line and "404" in line
    line = one_error_line(run_cli("runs", "no_such_dag"), 1)
    assert "DAG 'no_such_dag' not found" in line
    line = one_error_line(run_cli("pause", "no_such_dag"), 1)
    assert "no_such_dag" in line
    line = one_error_line(run_cli("status", "example_params", "no_such_run"), 1)
    assert "run 'no_such_run' of DAG 'example_params' not found" in line
    line = one_error_line(run_cli("logs", "example_params", "no_such_run", "show_conf"), 1)
    assert "not found" in line
    # a conf that breaks the params' schema is refused before any request (issue 18) …
    r = run_cli("trigger", "example_params", "--conf", '{"count": "many"}')
    line = one_error_line(r, 2)
    assert "count: 'many' is not of type 'integer' (type)" in line and "nothing was sent" in line
    # … and with --no-validate the server refuses it: its 400 in one line, no traceback
    r = run_cli("trigger", "example_params", "--conf", '{"count": "many"}', "--no-validate")
    assert r.code == 1 and r.out == "" and "sent anyway: --no-validate" in r.err
    last = r.err.strip().splitlines()[-1]
    assert last.startswith("astro-tui: error: ") and "count" in last and "Traceback" not in r.err
    line = one_error_line(run_cli("--read-only", "trigger", "example_params"), 2)
    assert "refusing to trigger" in line
    line = one_error_line(run_cli("--profile", "nope", "dags"), 2)
    assert "unknown profile 'nope'" in line


# -- profiles ----------------------------------------------------------------------------------------


def test_profiles_add_then_test_then_use(server, run_cli, monkeypatch, conn_env):
    monkeypatch.setenv("CLI_TEST_PW", server.password)
    monkeypatch.setattr("sys.stdin", open(os.devnull))  # not a terminal: flag-driven
    r = ok(run_cli("profiles", "add", "--name", "local", "--url", server.url + "/home",
                   "--username", server.username, "--secret-source", "env:CLI_TEST_PW"))
    assert "added profile 'local'" in r.out and "warning" not in r.err

    r = ok(run_cli("profiles", "test", "local"))
    assert "reachable  yes" in r.out and server.version in r.out
    assert f"auth       ok (password as {server.username})" in r.out
    doc = json.loads(ok(run_cli("profiles", "test", "local", "--json")).out)
    assert doc["version"] == server.version and doc["authenticated"] is True
    assert doc["api"] == ("v2" if server.major == 3 else "v1")
    assert doc["health"]["scheduler"] == "healthy"

    # --profile ignores the AIRFLOW_* connection variables
    monkeypatch.setenv("AIRFLOW_API_URL", f"http://127.0.0.1:{_free_port()}")
    dags = json.loads(ok(run_cli("--profile", "local", "dags", "--json")).out)
    assert "example_params" in {d["dag_id"] for d in dags}

    monkeypatch.setenv("CLI_TEST_PW", "wrong-Passw0rd-y")
    r = run_cli("profiles", "test", "local")
    assert r.code == 1 and "FAILED" in r.out and "wrong-Passw0rd-y" not in r.out + r.err
    r = run_cli("--url", f"http://127.0.0.1:{_free_port()}", "profiles", "test", "local")
    assert r.code == 1 and "reachable  no" in r.out and "cannot reach" in r.err
    assert ok(run_cli("profiles", "remove", "local")).out.startswith("removed profile 'local'")
