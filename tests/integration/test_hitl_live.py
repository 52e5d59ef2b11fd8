"""Human-in-the-loop against the REAL servers of the harness: on Airflow 3 (3.3.2) the
example_hitl DAG's task waits for a person, `hitl list` shows the request, `hitl respond` answers
it, and the run then proceeds to success; on Airflow 2 there is no HITL, and no error either.

Commands run in-process through ``astro_tui.cli.main`` with the connection in the environment,
as in test_cli_live."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from astro_tui import cli

pytestmark = pytest.mark.integration

DAG = "example_hitl"
TIMEOUT = 180.0  # seconds: parsing, scheduling and starting a task on 2 busy cores


def connect(server, monkeypatch, tmp_path) -> None:
    for var in list(os.environ):
        if var.startswith(("ASTRO_", "AIRFLOW_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ASTRO_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AIRFLOW_API_URL", server.url)
    monkeypatch.setenv("AIRFLOW_USERNAME", server.username)
    monkeypatch.setenv("AIRFLOW_PASSWORD", server.password)


@pytest.fixture
def run_cli(capsys) -> Callable[..., SimpleNamespace]:
    def run(*argv: str) -> SimpleNamespace:
        code = cli.main(list(argv))
        cap = capsys.readouterr()
        return SimpleNamespace(code=code, out=cap.out, err=cap.err)

    return run


def ok(result: SimpleNamespace) -> SimpleNamespace:
    assert result.code == 0, (result.code, result.out, result.err)
    return result


def poll(what: str, probe: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    """Call `probe` until it returns something truthy (a state is polled, never slept on)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(1.0)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def test_a_hitl_task_waits_is_answered_from_the_cli_and_proceeds(airflow3, monkeypatch,
                                                                  tmp_path, run_cli):
    connect(airflow3, monkeypatch, tmp_path)
    run_id = ok(run_cli("trigger", DAG, "--unpause")).out.strip()
    assert run_id

    def pending() -> dict | None:
        items = json.loads(ok(run_cli("hitl", "list", "--json")).out)
        return next((i for i in items if (i["dag_id"], i["run_id"]) == (DAG, run_id)), None)

    item = poll("the HITL request to be pending", pending)
    assert item["task_id"] == "approve" and item["map_index"] == -1
    assert item["options"] == ["Approve", "Reject"] and item["multiple"] is False
    assert item["subject"] == f"Ship the nightly report of {run_id}?"  # rendered
    assert "**Approve** ships it" in item["body"]
    assert item["response_received"] is False and "note" in item["params"]
    major_minor = tuple(int(x) for x in airflow3.version.split(".")[:2])
    expected_state = "awaiting_input" if major_minor >= (3, 3) else "deferred"
    assert item["state"] == expected_state

    status = json.loads(ok(run_cli("status", DAG, run_id, "--json")).out)
    assert status["state"] == "running"
    assert {t["task_id"]: t["state"] for t in status["tasks"]}["approve"] == expected_state
    table = ok(run_cli("hitl", "list")).out
    assert run_id in table and "Approve / Reject" in table

    # An option the request does not offer is refused before anything is sent.
    bad = run_cli("hitl", "respond", DAG, run_id, "approve", "--option", "Maybe")
    assert bad.code == 2 and "not offered" in bad.err

    r = ok(run_cli("hitl", "respond", DAG, run_id, "approve", "--option", "Approve",
                   "--params", '{"note": "from the CLI"}', "--json"))
    answer = json.loads(r.out)
    assert answer["chosen_options"] == ["Approve"]
    assert answer["params_input"] == {"note": "from the CLI"}
    assert answer["responded_by"]["name"] == airflow3.username

    # The task proceeds: the run ends in success and the downstream task saw the answer.
    final = run_cli("status", DAG, run_id, "--wait", "--timeout", str(int(TIMEOUT)), "--json")
    if final.code != 0:  # say why: each task's log (a CI run once saw `approve` fail here)
        logs = "\n".join(f"--- {task} ---\n" + run_cli("logs", DAG, run_id, task).out[-4000:]
                         for task in ("approve", "report"))
        pytest.fail(f"the run did not succeed (exit {final.code}):\n{final.out}\n{final.err}"
                    f"\n{logs}", pytrace=False)
    done = json.loads(final.out)
    assert done["state"] == "success"
    assert {t["task_id"]: t["state"] for t in done["tasks"]} == {
        "approve": "success", "report": "success"}
    log = ok(run_cli("logs", DAG, run_id, "report")).out
    assert "CHOSEN=Approve" in log and "NOTE=from the CLI" in log

    assert pending() is None
    again = run_cli("hitl", "respond", DAG, run_id, "approve", "--option", "Reject")
    assert again.code == 1 and "already answered" in again.err, again
    answered = json.loads(ok(run_cli("hitl", "list", "--all", "--json")).out)
    mine = [i for i in answered if (i["dag_id"], i["run_id"]) == (DAG, run_id)]
    assert [(i["response_received"], i["chosen_options"]) for i in mine] == [(True, ["Approve"])]


def test_hitl_list_on_airflow_2_is_empty_with_exit_0(airflow2, monkeypatch, tmp_path, run_cli):
    connect(airflow2, monkeypatch, tmp_path)
    r = ok(run_cli("hitl", "list", "--json"))
    assert json.loads(r.out) == [] and r.err == ""
    r = ok(run_cli("hitl", "list"))
    assert r.out == "" and "needs Airflow 3.1+" in r.err
    r = run_cli("hitl", "respond", DAG, "run", "approve", "--option", "Approve")
    assert r.code == 2 and "Airflow 3.1" in r.err
    # The DAG file is served to Airflow 2 as well: it defines no DAG there, and no import error.
    dags = {d["dag_id"] for d in json.loads(ok(run_cli("dags", "--json")).out)}
    assert "example_success" in dags and DAG not in dags
    with airflow2.http_client(timeout=30) as c:
        errors = c.get(f"{airflow2.api}/importErrors", params={"limit": 100}).json()
    assert not [e for e in errors["import_errors"] if "example_hitl" in e["filename"]]


async def test_a_hitl_task_is_answered_from_the_overview_and_proceeds(airflow3, monkeypatch):
    """The TUI's side: the request shows up in the overview's inbox by itself, Enter opens it,
    Space picks the first option (Approve), Ctrl+S sends it, and the run finishes."""
    from astro_tui.config import Profile
    from astro_tui.session import open_client
    from astro_tui.tui.app import AstroTuiApp, Settings
    from astro_tui.tui.screens.hitl import HitlScreen
    from tests.conftest import wait_for

    monkeypatch.setenv("ASTRO_TUI_TEST_PASSWORD", airflow3.password)
    profile = Profile(name="it", url=airflow3.url, auth="password", username=airflow3.username,
                      secret="env:ASTRO_TUI_TEST_PASSWORD")
    with airflow3.http_client(timeout=30) as c:
        c.patch(f"{airflow3.api}/dags/{DAG}", json={"is_paused": False}).raise_for_status()
        r = c.post(f"{airflow3.api}/dags/{DAG}/dagRuns", json={"logical_date": None})
        r.raise_for_status()
        run_id = r.json()["dag_run_id"]
    settings = Settings(dags_seconds=30, runs_seconds=1, tasks_seconds=1, log_seconds=1,
                        inbox_seconds=2)
    app = AstroTuiApp(lambda: open_client(profile), profile_name="it", settings=settings,
                      landing="overview")
    key = f"awaiting {DAG} {run_id} approve -1"
    async with app.run_test(size=(120, 40)) as pilot:
        ov = app.overview
        await wait_for(pilot, lambda: key in ov.inbox_table.keys, TIMEOUT, "the request listed")
        ov.inbox_table.focus()
        ov.inbox_table.select_key(key)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HitlScreen), 10, "the request")
        await pilot.press("space", "ctrl+s")
        await wait_for(pilot, lambda: app.screen is ov, 30, "the answer sent")
        await wait_for(pilot, lambda: key not in ov.inbox_table.keys, 30, "the request gone")
        await wait_for(pilot, lambda: (ov.latest.get(DAG) is not None and ov.latest[DAG].run_id
                                       == run_id and ov.latest[DAG].state == "success"),
                       TIMEOUT, "the run to succeed")
    with airflow3.http_client(timeout=30) as c:
        details = c.get(f"{airflow3.api}/dags/{DAG}/dagRuns/{run_id}/taskInstances/approve/-1"
                        "/hitlDetails").json()
    assert details["chosen_options"] == ["Approve"]
    assert details["responded_by_user"]["name"] == airflow3.username
