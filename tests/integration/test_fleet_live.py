"""Issue 17: two REAL deployments watched at once, Airflow 3 and Airflow 2 of the harness as two
profiles (the Airflow 2 one behind a relay that the test can make hang or refuse).

- `failures --all-profiles --json` lists a failure of each, each record with its profile;
- the TUI's overview shows both deployments with their own versions, and both failures in one
  inbox;
- with the Airflow 2 deployment hung, then refusing connections, a new failure on Airflow 3
  still reaches the inbox within one poll, and only the Airflow 2 row is marked down.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from astro_tui import cli
from astro_tui.config import load_config
from astro_tui.session import open_client
from astro_tui.tui.app import AstroTuiApp, Settings
from astro_tui.watch.fleet import Deployment
from bench.relay import Relay
from tests.conftest import wait_for
from tests.integration import ctrl_c_reaches_it

pytestmark = pytest.mark.integration

DAG = "example_success"  # paused in the harness: its runs stay queued until marked failed
SETTINGS = Settings(dags_seconds=30, runs_seconds=2, tasks_seconds=2, log_seconds=2,
                    inbox_seconds=5)


def _failed_run(server) -> str:
    """A run of DAG, marked failed at once (it ends now: the inbox's last 24 h)."""
    with server.http_client(timeout=30) as c:
        body: dict[str, Any] = {"conf": {}}
        if server.major == 3:
            body["logical_date"] = None
        r = c.post(f"{server.api}/dags/{DAG}/dagRuns", json=body)
        r.raise_for_status()
        run_id = r.json()["dag_run_id"]
        c.patch(f"{server.api}/dags/{DAG}/dagRuns/{run_id}",
                json={"state": "failed"}).raise_for_status()
    return run_id


def _delete_runs(server, run_ids: list[str]) -> None:
    with server.http_client(timeout=30) as c:
        for run_id in run_ids:
            c.delete(f"{server.api}/dags/{DAG}/dagRuns/{run_id}")


@pytest.fixture
def fleet(airflow3, airflow2, monkeypatch, tmp_path):
    relay = Relay("127.0.0.1", airflow2.port).start()
    for var in [v for v in os.environ if v.startswith(("ASTRO_", "AIRFLOW_"))]:
        monkeypatch.delenv(var)
    monkeypatch.setenv("ASTRO_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ASTRO_TUI_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PW3", airflow3.password)
    monkeypatch.setenv("PW2", airflow2.password)
    (tmp_path / "config.toml").write_text(
        f'[profiles.af3]\nurl = "{airflow3.url}"\nauth = "password"\n'
        f'username = "{airflow3.username}"\nsecret = "env:PW3"\n'
        f'[profiles.af2]\nurl = "{relay.url}"\nauth = "password"\n'
        f'username = "{airflow2.username}"\nsecret = "env:PW2"\n')
    runs = {"af3": [_failed_run(airflow3)], "af2": [_failed_run(airflow2)]}
    try:
        yield SimpleNamespace(relay=relay, runs=runs, af3=airflow3, af2=airflow2)
    finally:
        relay.stop()
        _delete_runs(airflow3, runs["af3"])
        _delete_runs(airflow2, runs["af2"])


def test_failures_all_profiles_json_has_each_profiles_failure(fleet, capsys):
    code = cli.main(["failures", "--all-profiles", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    doc = json.loads(out.out)
    mine = {(r["profile"], r["run_id"]) for r in doc["failed"] if r["dag_id"] == DAG}
    assert mine >= {("af3", fleet.runs["af3"][0]), ("af2", fleet.runs["af2"][0])}
    assert doc["profiles"]["af3"]["ok"] and doc["profiles"]["af2"]["ok"]


async def test_both_deployments_in_one_overview_and_one_down_stalls_nobody(fleet):
    profiles = load_config().profiles
    first, second = profiles["af3"], profiles["af2"]
    app = AstroTuiApp(lambda: open_client(first), profile_name="af3", settings=SETTINGS,
                      landing="overview",
                      others=[Deployment("af2", lambda: open_client(second), SETTINGS)])
    async with app.run_test(size=(120, 40)) as pilot:
        ov = app.overview
        strip = ov.fleet_view.table
        af3_key = f"failed {DAG} {fleet.runs['af3'][0]}"
        af2_key = f"@af2 failed {DAG} {fleet.runs['af2'][0]}"
        await wait_for(pilot, lambda: {af3_key, af2_key} <= set(ov.inbox_table.keys), 90,
                       "a failure of each deployment in the one inbox")
        await wait_for(pilot, lambda: strip.cells("af2")[2].plain == fleet.af2.version
                       and strip.cells("af3")[2].plain == fleet.af3.version, 30,
                       "each deployment's own version")
        assert ov.inbox_table.cells(af2_key)[1].plain == "af2"

        # Airflow 2 hangs: its requests never answer. Airflow 3's inbox keeps updating.
        fleet.relay.set_mode("hang")
        app.fleet.watchers["af2"].refresh()
        run_id = _failed_run(fleet.af3)
        fleet.runs["af3"].append(run_id)
        # (within one inbox poll, plus the changes poll that pokes it, plus slack for a busy
        # machine: far less than the hung requests' 30 s timeout, which a shared wait would add)
        await wait_for(pilot, lambda: f"failed {DAG} {run_id}" in ov.inbox_table.keys,
                       SETTINGS.inbox_seconds + SETTINGS.runs_seconds + 15,
                       "Airflow 3's new failure while Airflow 2 hangs")
        # Airflow 2 refuses connections: only its row says so
        fleet.relay.set_mode("refuse")
        app.fleet.watchers["af2"].refresh()
        await wait_for(pilot, lambda: strip.cells("af2")[3].plain.startswith("✖"), 60,
                       "the Airflow 2 row marked down")
        assert not strip.cells("af3")[3].plain.startswith("✖")
        assert af2_key in ov.inbox_table.keys  # its last data stays, marked on its row
        run_id = _failed_run(fleet.af3)
        fleet.runs["af3"].append(run_id)
        await wait_for(pilot, lambda: f"failed {DAG} {run_id}" in ov.inbox_table.keys,
                       SETTINGS.inbox_seconds + SETTINGS.runs_seconds + 20,
                       "Airflow 3's next failure while Airflow 2 is down")


def test_watch_failures_all_profiles_prints_each_profiles_new_failure(fleet):
    script = Path(sys.executable).with_name("astro-tui")
    proc = subprocess.Popen([str(script), "watch", "--failures", "--json", "--all-profiles",
                             "--interval", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ),
                            preexec_fn=ctrl_c_reaches_it)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()
    said: list[str] = []
    threading.Thread(target=lambda: [said.append(x) for x in proc.stderr], daemon=True).start()
    try:
        deadline = time.monotonic() + 90
        while sum("watching" in x for x in said) < 2:  # each profile says when it watches
            assert time.monotonic() < deadline, said
            time.sleep(0.2)
        new = {"af3": _failed_run(fleet.af3), "af2": _failed_run(fleet.af2)}
        fleet.runs["af3"].append(new["af3"])
        fleet.runs["af2"].append(new["af2"])
        seen: set[tuple[str, str]] = set()
        deadline = time.monotonic() + 60
        while not {("af3", new["af3"]), ("af2", new["af2"])} <= seen:
            doc = json.loads(lines.get(timeout=max(0.1, deadline - time.monotonic())))
            seen.add((doc["profile"], doc["run_id"]))
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
    assert code == 130
    old = {("af3", fleet.runs["af3"][0]), ("af2", fleet.runs["af2"][0])}
    assert not (seen & old)  # failures from before it started are never printed
