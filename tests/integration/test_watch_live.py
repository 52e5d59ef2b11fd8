"""`astro-tui watch` (issue 16) against the REAL Airflow 3 and Airflow 2 of the harness: it waits
through the Watcher for the newest run of a DAG and exits 3 when it fails, 0 when it succeeds,
with one line (or JSON object) per state change; `watch --failures` prints a run that newly
fails and nothing about the ones that failed before it started."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time

import pytest

from tests.integration import ctrl_c_reaches_it, test_cli_live
from tests.integration.test_cli_live import SCRIPT, TIMEOUT, ok
from tests.integration.test_log_live import RUN_TIMEOUT, run_state, trigger

pytestmark = pytest.mark.integration

conn_env, run_cli = test_cli_live.conn_env, test_cli_live.run_cli


def test_watch_latest_exits_3_on_a_failing_dag_and_0_on_a_succeeding_one(server, run_cli):
    run_id = ok(run_cli("trigger", "example_fail", "--unpause")).out.strip()
    r = run_cli("watch", "example_fail", "latest", "--timeout", TIMEOUT, "--interval", "1")
    assert r.code == 3, (r.code, r.err)
    lines = r.out.splitlines()
    assert lines and all(f"example_fail  {run_id}  " in line for line in lines)
    states = [line.split()[-1] for line in lines]
    assert states[-1] == "failed" and len(states) == len(set(states))  # one line per change
    assert f"run {run_id}: failed" in r.err and "boom" in r.err

    run_id = ok(run_cli("trigger", "example_success", "--unpause")).out.strip()
    r = run_cli("watch", "example_success", run_id, "--json", "--timeout", TIMEOUT,
                "--interval", "1")
    assert r.code == 0, (r.code, r.err)
    docs = [json.loads(line) for line in r.out.splitlines()]
    assert {d["run_id"] for d in docs} == {run_id} and docs[-1]["state"] == "success"
    assert all(d["time"].endswith("Z") for d in docs)


def test_watch_of_an_unknown_dag_is_one_error_line(server, run_cli):
    r = run_cli("watch", "no_such_dag", "latest", "--timeout", "60")
    line = test_cli_live.one_error_line(r, 1)
    assert "no_such_dag" in line or "not found" in line.lower()


def test_watch_failures_prints_a_new_failure_and_not_the_old_ones(airflow3, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASTRO_", "AIRFLOW_"))}
    env.update(ASTRO_TUI_CONFIG=str(tmp_path / "config.toml"), AIRFLOW_API_URL=airflow3.url,
               AIRFLOW_USERNAME=airflow3.username, AIRFLOW_PASSWORD=airflow3.password)
    # an old failure first: it must never be printed
    old = trigger(airflow3, "example_fail", {})
    wait_state(airflow3, old, "failed")
    proc = subprocess.Popen([str(SCRIPT), "watch", "--failures", "--json", "--interval", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=ctrl_c_reaches_it)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    try:
        assert "watching env" in proc.stderr.readline()  # (said once it has started)
        new = trigger(airflow3, "example_fail", {})
        wait_state(airflow3, new, "failed")
        docs = []
        deadline = time.monotonic() + 60
        while not any(d["run_id"] == new for d in docs):
            docs.append(json.loads(lines.get(timeout=max(0.1, deadline - time.monotonic()))))
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
    assert code == 130  # interrupted
    runs = [(d["dag_id"], d["run_id"], d["state"]) for d in docs]
    assert ("example_fail", new, "failed") in runs
    assert all(run_id != old for _, run_id, _ in runs)
    assert all(d["profile"] == "env" and d["event"] == "ended" for d in docs)


def wait_state(server, run_id: str, state: str) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    while run_state(server, "example_fail", run_id) != state:
        assert time.monotonic() < deadline, f"{run_id} never {state}"
        time.sleep(1)
