"""Pilot tests of the write actions (pause, clear, mark) and of read-only mode, against the fake."""

from __future__ import annotations

import json

import pytest
from textual.actions import parse

from astro_tui.tui.screens.confirm import ClearScreen, ConfirmScreen
from astro_tui.tui.screens.trigger import TriggerScreen
from astro_tui.tui.writes import ActionCommands
from tests.conftest import status, wait_for
from tests.ui.fake import FakeDeployment, make_app
from tests.ui.test_main_screen import loaded

FAIL_RUN = "manual__2026-11-25T10:06:45.688918+00:00"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))


def bodies(fake: FakeDeployment) -> list[tuple[str, str, dict]]:
    return [(r.method, r.url.path, json.loads(r.content) if r.content else {})
            for r in fake.writes()]


async def on_task(pilot, app, dag_id: str = "example_fail", task: str = "boom"):
    await loaded(pilot, app)
    main = app.main
    main.goto_dag(dag_id)
    main.pane_layout.activate("runs")  # (narrow terminals poll only the visible pane)
    await wait_for(pilot, lambda: main.run_table.row_count >= 1, what="runs")
    main.pane_layout.activate("tasks")
    await wait_for(pilot, lambda: task in main.selection.tis, what="tasks")
    main.task_table.select_key(task)
    await wait_for(pilot, lambda: main.selection.task_key == task, what="task selected")
    return main


async def test_pause_asks_then_patches_and_the_dag_list_follows():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.goto_dag("example_fail")
        await wait_for(pilot, lambda: main.selection.dag_id == "example_fail", what="selection")
        await pilot.press("p")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # cancel: nothing sent
        assert app.screen is main and not fake.writes()
        await pilot.press("p")
        await pilot.press("y")
        await wait_for(pilot, lambda: main.dag_table.cells("example_fail")[2].plain
                       .startswith("⏸"), what="the paused marker")
        assert bodies(fake) == [("PATCH", "/api/v2/dags/example_fail", {"is_paused": True})]
        assert fake.writes()[0].url.params["update_mask"] == "is_paused"
        await pilot.press("p", "enter")  # Enter on the focused "Unpause" button
        await wait_for(pilot, lambda: main.selection.dags["example_fail"].is_paused is False,
                       what="unpaused")
        assert bodies(fake)[-1][2] == {"is_paused": False}


async def test_clear_task_shows_the_dry_run_then_clears_with_the_chosen_options():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await on_task(pilot, app)
        await pilot.press("c")
        assert isinstance(app.screen, ClearScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.affected is not None, what="dry run")
        assert [t.task_id for t in screen.affected] == ["boom", "never"]  # downstream on
        await pilot.press("d")  # downstream off: a new dry run
        await wait_for(pilot, lambda: screen.affected is not None
                       and [t.task_id for t in screen.affected] == ["boom"], what="new dry run")
        assert all(b["dry_run"] for _, _, b in bodies(fake))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is main, what="the modal to close")
        method, path, body = bodies(fake)[-1]
        assert path == "/api/v2/dags/example_fail/clearTaskInstances"
        assert body["dry_run"] is False and body["task_ids"] == ["boom"]
        assert body["include_downstream"] is False and body["reset_dag_runs"] is True
        assert body["only_failed"] is False and body["dag_run_id"] == FAIL_RUN
        # The panes refresh at once: the run went back to queued.
        await wait_for(pilot, lambda: main.selection.runs[FAIL_RUN].state == "queued", what="queued run")


async def test_clear_run_from_the_runs_pane_with_only_failed():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await on_task(pilot, app)
        main.pane_layout.activate("runs")
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, ClearScreen)
        await wait_for(pilot, lambda: screen.affected is not None, what="dry run")
        assert len(screen.affected) == 3
        await pilot.press("f")
        await wait_for(pilot, lambda: screen.affected is not None and len(screen.affected) == 2,
                       what="only failed")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.screen is main, what="the modal to close")
        assert bodies(fake)[-1] == ("POST", f"/api/v2/dags/example_fail/dagRuns/{FAIL_RUN}/clear",
                                    {"dry_run": False, "only_failed": True})


async def test_clear_error_stays_in_the_modal_and_escape_cancels():
    fake = FakeDeployment()
    fake.errors[("POST", "/clearTaskInstances")] = (400, {"detail": "bad [red]request[/]"})
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await on_task(pilot, app)
        await pilot.press("c")
        screen = app.screen
        await wait_for(pilot, lambda: "dry run failed" in str(
            screen.query_one("#problem").render()), what="the error")
        assert "bad [red]request[/]" in str(screen.query_one("#problem").render())
        assert screen.query_one("#apply").disabled
        await pilot.press("escape")
        assert app.screen is main and app.is_running


async def test_mark_task_and_run():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        main = await on_task(pilot, app)
        await pilot.press("m")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("s")
        await wait_for(pilot, lambda: len(fake.writes()) == 1, what="the PATCH")
        req = fake.writes()[0]
        assert req.method == "PATCH" and req.url.path.endswith(f"{FAIL_RUN}/taskInstances/boom")
        assert json.loads(req.content) == {"new_state": "success"}
        await wait_for(pilot, lambda: main.selection.tis["boom"].state == "success", what="refresh")
        main.pane_layout.activate("runs")
        await pilot.press("m", "f")
        await wait_for(pilot, lambda: len(fake.writes()) == 2, what="the run PATCH")
        assert bodies(fake)[-1] == ("PATCH", f"/api/v2/dags/example_fail/dagRuns/{FAIL_RUN}",
                                    {"state": "failed"})


async def test_403_greys_the_action_out_for_the_session():
    fake = FakeDeployment()
    fake.errors[("PATCH", "/dags/example_fail")] = (403, {"detail": "Forbidden"})
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.goto_dag("example_fail")
        await wait_for(pilot, lambda: main.selection.dag_id == "example_fail", what="selection")
        await pilot.press("p", "y")
        await wait_for(pilot, lambda: "pause" in main.writes.forbidden, what="403")
        assert main.check_action("write", ("pause",)) is None  # greyed out, still listed
        assert main.check_action("write", ("trigger",)) is True
        await pilot.press("p")
        await pilot.pause(0.1)
        assert app.screen is main and len(fake.writes()) == 1
        assert app.is_running


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_read_only_sends_no_writes_whatever_keys_are_pressed(size, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # `s` on the log pane saves a file (a local, allowed write)
    fake = FakeDeployment()
    app = make_app(fake, read_only=True)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app)
        main = app.main
        assert "read-only" in status(app)
        footer_keys = {b.binding.key for b in main.active_bindings.values()
                       if main.check_action(*parse(b.binding.action)[1:]) is not False}
        assert not footer_keys & {"t", "p", "c", "m"}
        keys = ["t", "p", "c", "m", "ctrl+s", "y", "s", "f", "enter", "d", "u"]
        for pane_keys in ([], ["enter"], ["enter", "enter"], ["enter", "enter", "enter"]):
            main.pane_layout.activate("dags")
            main.goto_dag("example_fail")
            await pilot.press(*pane_keys)
            await pilot.pause(0.3)
            for key in keys:
                await pilot.press(key)
                assert not isinstance(app.screen, (TriggerScreen, ClearScreen, ConfirmScreen))
                if app.screen is not main:  # a local, read-only screen (save the log, help)
                    app.pop_screen()
                    await pilot.pause()
        # Called directly (palette, scripts): refused too.
        for action in ("trigger", "pause", "clear", "mark"):
            await main.run_action(action)
        await pilot.pause(0.3)
        assert app.screen is main
        provider = ActionCommands(main)
        assert [hit async for hit in provider.search("")] == []
    assert fake.writes() == []
    assert {r.method for r in fake.requests} <= {"GET", "POST"}  # POST: login and batch reads


async def test_palette_lists_the_actions_when_writable():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        hits = [hit async for hit in ActionCommands(app.main).search("trigger")]
        assert hits and "Trigger" in str(hits[0].match_display)
        app.main.goto_dag("example_params")
        await wait_for(pilot, lambda: app.main.selection.dag_id == "example_params", what="selection")
        await pilot.press("ctrl+p", *"trigger the")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TriggerScreen), what="the modal")
