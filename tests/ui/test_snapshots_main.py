"""Snapshot tests of the main screen at 80x24 and 120x40 (pytest-textual-snapshot).

Time is injected (a fixed `now` and a frozen monotonic clock), so durations and "updated N s ago"
are stable. Regenerate with `scripts/test tests/ui/test_snapshots_main.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from tests.conftest import wait_for
from tests.ui.fake import FakeDeployment, make_app

SIZES = [(80, 24), (120, 40)]


def frozen_app(fake: FakeDeployment):
    return make_app(fake, clock=lambda: 1000.0)


async def _loaded(pilot) -> None:
    main = pilot.app.main
    await wait_for(pilot, lambda: main.dag_table.row_count == len(main.selection.dags) and main.selection.dags,
                   what="DAGs")


async def _drilled(pilot) -> None:
    await _loaded(pilot)
    main = pilot.app.main
    main.dag_table.select_key("example_fail")
    await pilot.press("enter")
    await wait_for(pilot, lambda: main.run_table.row_count == 1, what="runs")
    await pilot.press("enter")
    await wait_for(pilot, lambda: main.task_table.row_count == 3, what="tasks")
    main.task_table.select_key("boom")
    await pilot.press("enter")
    await wait_for(pilot, lambda: main.log_view.ended, what="log")
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_main_screen(snap_compare, size):
    assert snap_compare(frozen_app(FakeDeployment()), terminal_size=size, run_before=_drilled)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_filtered(snap_compare, size):
    async def run_before(pilot):
        await _loaded(pilot)
        await pilot.press("slash", *"ex_f")  # `_` is literal here, not a SQL wildcard
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(FakeDeployment()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_empty_deployment(snap_compare, size):
    fake = FakeDeployment()
    fake.dags, fake.runs, fake.tis, fake.logs = [], [], {}, {}

    async def run_before(pilot):
        main = pilot.app.main
        await wait_for(pilot, lambda: main.watcher.client is not None and main.watcher.state("dags").last_ok,
                       what="first poll")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(fake), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_server_down(snap_compare, size):
    fake = FakeDeployment()

    async def run_before(pilot):
        await _drilled(pilot)
        fake.down = True
        pilot.app.action_refresh_data()
        await wait_for(pilot, lambda: pilot.app.main.panes["dags"].has_class("stale"),
                       what="stale")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(fake), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_help(snap_compare, size):
    async def run_before(pilot):
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(FakeDeployment()), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_task_groups(snap_compare, size):
    """Task groups nested 3 deep and a mapped task: the groups dimmed, the task's own name kept
    where a cell is cut, a mapped task's instances together."""
    fake = FakeDeployment()
    key = "example_mapped manual__2026-11-25T10:06:45.715051+00:00"
    tis = fake.tis[key]
    deep = "extract_stage.validate_partitions.regional_checks.{}"
    for n, task in enumerate(("check_row_counts", "check_null_ratios", "check_duplicates")):
        tis.append({**tis[0], "task_id": deep.format(task), "map_index": -1,
                    "start_date": f"2026-11-25T10:06:4{7 + n}.000000Z"})

    async def run_before(pilot):
        await _loaded(pilot)
        main = pilot.app.main
        main.dag_table.select_key("example_mapped")
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.run_table.row_count == 1, what="the run")
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.pane_layout.active == "tasks", what="the tasks pane")
        await wait_for(pilot, lambda: main.task_table.row_count == 8, what="the tasks")
        # (at 120x40 the log of the task under the cursor shows too: wait for all of it)
        await wait_for(pilot, lambda: main.pane_layout.compact or main.log_view.ended, what="the log")

    assert snap_compare(frozen_app(fake), terminal_size=size, run_before=run_before)
