"""The real TUI's write actions against the REAL Airflow 3 and Airflow 2 of the harness: trigger
through the conf modal, a server-side param error, re-run of a run's conf, clear with its dry run,
and a pause round trip. Every test runs once per server (the `server` fixture).

Airflow 2 runs the SequentialExecutor (one task at a time): timeouts are generous.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from textual.widgets import Checkbox, Input

from astro_tui.airflow.client import AirflowClient
from astro_tui.config import Profile
from astro_tui.session import open_client
from astro_tui.tui.app import AstroTuiApp, Settings
from astro_tui.tui.screens.confirm import ClearScreen, ConfirmScreen
from astro_tui.tui.screens.trigger import TriggerScreen
from tests.conftest import wait_for

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 240.0
SETTINGS = Settings(dags_seconds=10, runs_seconds=1, tasks_seconds=1, log_seconds=1)


@pytest.fixture
def profile(server, monkeypatch, tmp_path) -> Profile:
    monkeypatch.setenv("ASTRO_TUI_TEST_PASSWORD", server.password)
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
    return Profile(name="it", url=server.url, auth="password", username=server.username,
                   secret="env:ASTRO_TUI_TEST_PASSWORD")


@pytest.fixture
async def api(profile):
    client = await open_client(profile)
    try:
        yield client
    finally:
        await client.aclose()


def make_app(profile: Profile) -> AstroTuiApp:
    return AstroTuiApp(lambda: open_client(profile), profile_name="it", settings=SETTINGS)


async def finished_run(api: AirflowClient, dag_id: str, conf: dict | None = None):
    """A run made outside the app (unpausing the DAG), awaited until it finishes."""
    await api.set_paused(dag_id, False)
    run = await api.trigger(dag_id, conf or {})
    deadline = time.monotonic() + RUN_TIMEOUT
    while not run.finished:
        assert time.monotonic() < deadline, f"{dag_id} {run.run_id} still {run.state}"
        await asyncio.sleep(0.5)
        run = await api.get_run(dag_id, run.run_id)
    return run


async def select_dag(pilot, main, dag_id: str) -> None:
    await wait_for(pilot, lambda: dag_id in main.selection.dags, 60, "the DAG list")
    main.goto_dag(dag_id)
    await wait_for(pilot, lambda: main.selection.dag_id == dag_id, 10, f"{dag_id} selected")


async def open_trigger(pilot, app) -> TriggerScreen:
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, TriggerScreen) and app.screen.loaded
                   and app.screen.details is not None, 30, "the trigger modal")
    screen = app.screen
    if screen.paused:  # DAGs are paused at creation: accept the modal's offer
        assert screen.has_class("paused")
        screen.query_one("#unpause", Checkbox).value = True
    return screen


def edit(editor, old: str, new: str) -> None:
    """Replace the first `old` in the editor, as a user's edit (undoable)."""
    index = editor.text.index(old)
    start = editor.document.get_location_from_index(index)
    end = editor.document.get_location_from_index(index + len(old))
    editor.replace(new, start, end)


async def submitted_run(pilot, app) -> str:
    """Ctrl+S in the modal; the new run's id, once the app has selected it in the runs pane."""
    main, screen = app.main, app.screen
    outcomes = []
    finish = screen.finish
    screen.finish = lambda outcome: (outcomes.append(outcome), finish(outcome))
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: app.screen is main, 30, "the modal to close")
    run_id = outcomes[0].run.run_id
    await wait_for(pilot, lambda: main.selection.run_id == run_id and main.pane_layout.active == "runs", 30,
                   "the new run selected in the runs pane")
    return run_id


async def test_trigger_with_an_edited_conf_runs_and_logs_it(profile, api):
    app = make_app(profile)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await select_dag(pilot, main, "example_params")
        screen = await open_trigger(pilot, app)
        assert json.loads(screen.editor.text) == {"color": "red", "count": 3, "flag": False,
                                                  "name": "world"}
        edit(screen.editor, '"world"', '"tui-edited"')
        edit(screen.editor, '"red"', '"green"')
        edit(screen.editor, "3", "2")
        screen.query_one("#note", Input).value = "from the TUI test"
        run_id = await submitted_run(pilot, app)
        await wait_for(pilot, lambda: main.selection.runs.get(run_id) is not None
                       and main.selection.runs[run_id].state in ("success", "failed"), RUN_TIMEOUT,
                       "the run to finish")
        assert main.selection.runs[run_id].state == "success"
        assert main.selection.runs[run_id].conf == {"color": "green", "count": 2, "flag": False,
                                          "name": "tui-edited"}
        main.pane_layout.activate("tasks")
        await wait_for(pilot, lambda: "show_conf" in main.selection.tis, 30, "the task")
        main.task_table.select_key("show_conf")
        await wait_for(pilot, lambda: any("hello tui-edited #2 (green)" in line
                                          for line in main.log_view.lines), 60, "the log")
        text = "\n".join(main.log_view.lines)
        assert '"name": "tui-edited"' in text and "hello tui-edited #3" not in text
    run = await api.get_run("example_params", run_id)
    assert run.note == "from the TUI test"


async def test_a_conf_that_breaks_the_params_gets_the_servers_400_and_keeps_the_text(profile):
    app = make_app(profile)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await select_dag(pilot, main, "example_params")
        screen = await open_trigger(pilot, app)
        edit(screen.editor, "3", '"x"')
        typed = screen.editor.text
        await pilot.pause(0.1)
        assert "count: 'x' is not of type 'integer' (type)" in str(
            screen.query_one("#conf-status").render())
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: screen.server_error is not None, 30, "the server's answer")
        assert app.screen is screen and screen.editor.text == typed
        assert "count" in screen.server_error and "integer" in screen.server_error
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("d")
        await wait_for(pilot, lambda: app.screen is main, 5, "discarded")


async def test_rerun_a_previous_runs_conf(profile, api):
    old = await finished_run(api, "example_params", {"name": "previous", "count": 1})
    app = make_app(profile)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await select_dag(pilot, main, "example_params")
        await wait_for(pilot, lambda: old.run_id in main.selection.runs, 30, "the previous run")
        main.pane_layout.activate("runs")
        main.run_table.select_key(old.run_id)
        await wait_for(pilot, lambda: main.selection.run_id == old.run_id, 10, "the previous run selected")
        screen = await open_trigger(pilot, app)
        assert json.loads(screen.editor.text) == {"name": "previous", "count": 1}
        edit(screen.editor, '"previous"', '"again"')
        run_id = await submitted_run(pilot, app)
    new = await api.get_run("example_params", run_id)
    assert new.conf == {"name": "again", "count": 1}
    assert new.run_id != old.run_id


async def test_clear_a_failed_task_after_its_dry_run_and_it_runs_again(profile, api):
    failed = await finished_run(api, "example_fail")
    assert failed.state == "failed"
    boom = await api.get_task_instance("example_fail", failed.run_id, "boom")
    assert boom.state == "failed"
    app = make_app(profile)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await select_dag(pilot, main, "example_fail")
        await wait_for(pilot, lambda: failed.run_id in main.selection.runs, 30, "the failed run")
        main.pane_layout.activate("runs")
        main.run_table.select_key(failed.run_id)
        await wait_for(pilot, lambda: main.selection.run_id == failed.run_id, 10, "run selected")
        main.pane_layout.activate("tasks")
        await wait_for(pilot, lambda: "boom" in main.selection.tis, 30, "tasks")
        main.task_table.select_key("boom")
        await wait_for(pilot, lambda: main.selection.task_key == "boom", 10, "boom selected")
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, ClearScreen)
        await wait_for(pilot, lambda: screen.affected is not None, 30, "the dry run")
        assert [t.task_id for t in screen.affected] == ["boom", "never"]
        # The dry run changed nothing.
        assert (await api.get_task_instance("example_fail", failed.run_id, "boom")).state == (
            "failed")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is main, 30, "the modal to close")
        seen: set[str | None] = set()

        def boom_rerun_done() -> bool:
            ti, run = main.selection.tis.get("boom"), main.selection.runs.get(failed.run_id)
            if ti is not None:
                seen.add(ti.state)
            return (ti is not None and run is not None and run.finished
                    and (ti.try_number or 0) > (boom.try_number or 0) and ti.finished)

        await wait_for(pilot, boom_rerun_done, RUN_TIMEOUT, "boom to run again")
        assert seen - {"failed"}, f"boom never left 'failed' in the UI: {seen}"
    again = await api.get_task_instance("example_fail", failed.run_id, "boom")
    assert again.state == "failed" and again.try_number > boom.try_number


async def test_pause_round_trip(profile, api):
    dag_id = "example_taskgroup"
    start = (await api.get_dag_details(dag_id)).is_paused
    app = make_app(profile)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await select_dag(pilot, main, dag_id)
        for want in (not start, start):
            await pilot.press("p")
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("y")
            await wait_for(pilot, lambda: main.selection.dags[dag_id].is_paused is want, 30,
                           f"is_paused={want} in the DAG list")
            assert (await api.get_dag_details(dag_id)).is_paused is want
