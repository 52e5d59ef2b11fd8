"""Session restore (issue 16): quit on a task's log, start again, and the same DAG, run, task
and try are open in the same pane, with the filters and the watches; `--fresh` (restore=False)
starts clean; a corrupt session file is one line on the status bar, never a crash."""

from __future__ import annotations

import asyncio
from datetime import timezone

import pytest

from astro_tui.state import SessionStore
from astro_tui.tui.app import AstroTuiApp, Settings
from astro_tui.watch.alerts import Watch
from astro_tui.watch.saved import DagListStore
from tests.conftest import status, wait_for
from tests.ui.fake import NOW, FakeDeployment, make_app

SETTINGS = Settings(dags_seconds=30, runs_seconds=0.2, tasks_seconds=0.2, log_seconds=0.2)

FAIL_RUN = "manual__2026-11-25T10:06:45.688918+00:00"  # example_fail: failed; boom has 2 tries


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore("test", tmp_path / "state" / "test.json")


async def dags_shown(pilot, app) -> None:
    await wait_for(pilot, lambda: app.main.dag_table.row_count >= 9, what="the DAGs")


async def test_quit_on_a_tasks_log_and_reopen_there(store):
    fake = FakeDeployment()
    app = make_app(fake, session=store, landing="overview")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen is app.overview, what="the overview")
        app.drill("example_fail", FAIL_RUN, "boom")
        main = app.main
        await wait_for(pilot, lambda: main.pane_layout.active == "log"
                       and main.log_view.follower is not None
                       and main.log_view.follower.try_number == 2, what="boom's log, try 2")
        await pilot.press("left_square_bracket")  # the previous try
        await wait_for(pilot, lambda: main.log_view.follower.try_number == 1, what="try 1")
        app.alerts.add(Watch("dag", "example_fail"))  # (boom is over: a watches the DAG)
        await pilot.press("q")
    assert store.path.exists()

    again = make_app(FakeDeployment(), session=SessionStore("test", store.path),
                     landing="overview")
    async with again.run_test(size=(120, 40)) as pilot:
        main = again.main
        await wait_for(pilot, lambda: main.selection.task_key == "boom"
                       and main.pane_layout.active == "log"
                       and main.log_view.follower is not None, what="the same task's log")
        assert again.screen is main
        assert (main.selection.dag_id, main.selection.run_id) == ("example_fail", FAIL_RUN)
        assert main.dag_table.cursor_key == "example_fail"
        assert main.run_table.cursor_key == FAIL_RUN and main.task_table.cursor_key == "boom"
        await wait_for(pilot, lambda: main.log_view.follower.try_number == 1, what="try 1")
        assert again.alerts.watches == [Watch("dag", "example_fail")]


async def test_filters_and_the_overview_come_back_and_fresh_starts_clean(store):
    app = make_app(FakeDeployment(), session=store, landing="overview")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen is app.overview, what="the overview")
        app.drill("example_params", None, None)
        main = app.main
        await dags_shown(pilot, app)
        main.pane_layout.activate("dags")
        await pilot.press("slash", *"param", "enter")
        await wait_for(pilot, lambda: main.dag_table.row_count == 1, what="filtered")
        await pilot.press("o")  # back to the overview, then quit there
        await wait_for(pilot, lambda: app.screen is app.overview, what="the overview")
        await pilot.press("q")

    again = make_app(FakeDeployment(), session=SessionStore("test", store.path),
                     landing="overview")
    async with again.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: again.screen is again.overview, what="the overview")
        assert again.main.panes["dags"].filter_input.value == "param"

    fresh = make_app(FakeDeployment(), session=SessionStore("test", store.path),
                     landing="overview", restore=False)
    async with fresh.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: fresh.screen is fresh.overview, what="the overview")
        assert fresh.main.panes["dags"].filter_input.value == ""


async def test_a_corrupt_session_file_is_one_line_on_the_status_bar(store):
    store.path.parent.mkdir(parents=True)
    store.path.write_text('{"version": 1, "profile": "test", "screen": "main", "pane": 7}')
    app = make_app(FakeDeployment(), session=SessionStore("test", store.path))
    async with app.run_test(size=(120, 40)) as pilot:
        await dags_shown(pilot, app)
        await wait_for(pilot, lambda: "saved session ignored" in status(app), what="the line")
        assert "bad screen or pane" in status(app)


async def test_a_warm_start_paints_the_saved_list_before_the_server_answers(tmp_path):
    fake = FakeDeployment()
    store = DagListStore("test", tmp_path / "cache.json")
    first = make_app(fake, saved_dags=store, landing="overview")
    async with first.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: first.overview.dag_table.row_count == 9, what="DAGs")
        await pilot.press("q")
    assert store.path.exists()

    gate = asyncio.Event()

    async def slow_connect():
        await gate.wait()
        return await fake.connect()

    # a server that has not answered yet
    warm = AstroTuiApp(slow_connect, profile_name="test", settings=SETTINGS, now=lambda: NOW,
                       tz=timezone.utc, saved_dags=DagListStore("test", store.path),
                       landing="overview")
    async with warm.run_test(size=(120, 40)) as pilot:
        table = warm.overview.dag_table
        await wait_for(pilot, lambda: table.row_count == 9, what="the saved list")
        requests = len(fake.requests)
        assert warm.watcher.client is None  # not even connected
        assert warm.overview.panes["dags"].has_class("stale")
        assert "DAG list saved" in warm.overview.status.text
        gate.set()
        await wait_for(pilot, lambda: warm.watcher.cache.cached_at is None, what="fresh list")
        await wait_for(pilot, lambda: not warm.overview.panes["dags"].has_class("stale"),
                       what="no longer stale")
        await wait_for(pilot, lambda: "DAG list saved" not in warm.overview.status.text, what="status")
        assert len(fake.requests) > requests
