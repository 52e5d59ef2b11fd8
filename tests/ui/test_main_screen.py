"""Pilot behaviour tests of the main screen against the recorded fake deployment."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import status, wait_for
from tests.ui.fake import FakeDeployment, make_app


async def loaded(pilot, app) -> None:
    await wait_for(pilot, lambda: app.main.dag_table.row_count == 9, what="9 DAGs")


async def test_dag_list_shows_every_dag_with_its_latest_run_state():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        table = app.main.dag_table
        assert table.keys[0] == "example_biglog"
        row = {k: table.cells(k) for k in table.keys}
        assert row["example_fail"][1].plain == "✖ failed"
        assert row["example_long"][1].plain == "▶ running"
        assert row["example_cron"][1].plain == "—"
        assert "Monday through Friday" in row["example_cron"][4].plain
        assert "Airflow 3.3.2" in status(app) and "● ok" in status(app)


async def test_enter_drills_down_to_the_log_and_escape_goes_back():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.dag_table.select_key("example_fail")
        await pilot.press("enter")
        assert main.pane_layout.active == "runs"
        await wait_for(pilot, lambda: main.run_table.row_count == 1, what="runs")
        await pilot.press("enter")
        assert main.pane_layout.active == "tasks"
        await wait_for(pilot, lambda: main.task_table.row_count == 3, what="tasks")
        main.task_table.select_key("boom")
        await pilot.press("enter")
        assert main.pane_layout.active == "log"
        await wait_for(pilot, lambda: main.log_view.ended, what="end of log")
        text = "\n".join(main.log_view.lines)
        assert "RuntimeError" in text and "example_fail: intentional failure" in text
        assert "try 2" in main.panes["log"].context
        await pilot.press("escape")
        assert main.pane_layout.active == "tasks"
        await pilot.press("escape", "escape")
        assert main.pane_layout.active == "dags"


async def test_j_k_g_G_move_the_cursor_and_select_the_dag():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        await pilot.press("j", "j")
        assert main.dag_table.cursor_key == "example_fail"
        await pilot.press("G")
        assert main.dag_table.cursor_key == "example_taskgroup"
        await pilot.press("k")
        assert main.dag_table.cursor_key == "example_success"
        await pilot.press("g")
        assert main.dag_table.cursor_key == "example_biglog"
        await pilot.press("j", "j")
        await wait_for(pilot, lambda: main.selection.dag_id == "example_fail", what="selection")
        await wait_for(pilot, lambda: main.run_table.row_count == 1, what="runs of example_fail")


async def test_slash_filters_dags_by_id_or_tag_and_escape_clears():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        await pilot.press("slash", *"param")
        assert main.dag_table.row_count == 1
        assert main.panes["dags"].count == "1/9"
        await pilot.press("ctrl+a", "ctrl+k", *"scheduled")  # a tag of example_cron only
        assert main.dag_table.keys == ["example_cron"]
        await pilot.press("escape")
        assert main.dag_table.row_count == 9
        assert app.focused is main.dag_table


async def test_cursor_stays_on_the_same_run_when_a_new_run_pushes_rows_down():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.dag_table.select_key("example_params")
        await wait_for(pilot, lambda: main.run_table.row_count == 2, what="2 runs")
        main.run_table.move_cursor(row=1)
        chosen = main.run_table.cursor_key
        fake.add_run("example_params", "manual__2026-11-25T10:08:00+00:00", "running",
                     "2026-11-25T10:08:00Z")
        await wait_for(pilot, lambda: main.run_table.row_count == 3, what="the new run")
        assert main.run_table.keys[0] == "manual__2026-11-25T10:08:00+00:00"
        assert main.run_table.cursor_key == chosen
        assert main.selection.run_id == chosen
        # The DAG list learned the new latest state from the cheap "changed runs" poll.
        await wait_for(pilot, lambda: main.dag_table.cells("example_params")[1].plain
                       == "▶ running", what="latest state")


async def test_server_down_marks_panes_stale_keeps_data_and_recovers():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.dag_table.select_key("example_fail")
        await wait_for(pilot, lambda: main.run_table.row_count == 1, what="runs")
        fake.down = True
        app.action_refresh_data()
        await wait_for(pilot, lambda: "down" in status(app), what="down in status bar")
        assert "Unreachable" in status(app)
        assert main.panes["dags"].has_class("stale")
        assert main.dag_table.row_count == 9 and main.run_table.row_count == 1
        assert app.screen is main  # no modal error dialog
        fake.down = False
        app.action_refresh_data()
        await wait_for(pilot, lambda: "● ok" in status(app), what="recovery")
        assert not main.panes["dags"].has_class("stale")


async def test_idle_refreshes_repaint_nothing():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.dag_table.select_key("example_fail")
        await wait_for(pilot, lambda: main.task_table.row_count == 3, what="tasks")
        await pilot.pause(0.3)
        before = (main.dag_table.repaints, main.run_table.repaints, main.task_table.repaints)
        runs_polls = fake.count("/dags/example_fail/dagRuns")
        changes_polls = fake.count("/dags/~/dagRuns")
        main.watcher.refresh("dags", "runs")
        await wait_for(pilot, lambda: fake.count("/dags/~/dagRuns") >= changes_polls + 3,
                       what="three more polls of changed runs")
        await pilot.pause(0.2)
        after = (main.dag_table.repaints, main.run_table.repaints, main.task_table.repaints)
        assert after == before
        # The selected DAG's runs are re-read only when the changes poll says one changed
        # (here: only the explicit poke).
        assert fake.count("/dags/example_fail/dagRuns") == runs_polls + 1
        # A finished run's task instances are fetched once, not polled.
        tis_polls = [r for r in fake.requests
                     if r.url.path.endswith(main.selection.run_id + "/taskInstances")]
        assert len(tis_polls) == 1


async def test_hostile_text_is_shown_literally_and_never_crashes():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        row = main.dag_table.cells("example_hostile")
        assert "[/]" in row[5].plain and "[bold]tag[/bold]" in row[5].plain
        main.dag_table.select_key("example_hostile")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: main.task_table.row_count == 1, what="hostile task")
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.log_view.ended, what="hostile log")
        text = "\n".join(main.log_view.lines)
        assert "[@click=app.quit]click to quit[/]" in text
        assert "\x1b" not in text and "\x9b" not in text and "\x00" not in text
        assert app.is_running


async def test_help_lists_bindings_and_closes():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        from astro_tui.tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_keyboard_only_path_from_dag_to_log(size):
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=size) as pilot:
        await loaded(pilot, app)
        main = app.main
        assert main.pane_layout.compact == (size[0] < 100)
        await pilot.press("j", "j", "j", "j", "j")  # example_mapped
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.run_table.row_count == 1, what="runs")
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.task_table.row_count == 5, what="mapped tasks")
        assert "square[1]" in main.task_table.keys
        main.task_table.select_key("square[1]")
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.log_view.ended, what="log of square[1]")
        assert any("square: 3 * 3 = 9" in line for line in main.log_view.lines)
        if main.pane_layout.compact:
            assert not main.panes["dags"].display or not main.query_one("#top").display


async def test_command_palette_jumps_to_a_dag():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.press(*"taskgr")
        await asyncio.sleep(0.5)
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.dag_table.cursor_key == "example_taskgroup",
                       what="palette jump")


async def test_polling_continues_under_a_modal_and_hidden_panes_do_not_poll():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:  # compact: only the DAG pane is visible
        await loaded(pilot, app)
        main = app.main
        await pilot.press("question_mark")  # help is a modal on top of the main screen
        fake.add_run("example_cron", "scheduled__2026-11-25T06:30:00+00:00", "running",
                     "2026-11-25T06:30:00Z")
        await wait_for(pilot, lambda: main.dag_table.cells("example_cron")[1].plain
                       == "▶ running", what="a change seen under the modal")
        await pilot.press("escape")
        # The runs pane is hidden at 80x24 while the DAG pane is active: it must not poll.
        tasks = main.watcher.state("tasks")  # no run selected: no tasks subscription at all
        assert main.watcher.state("runs").paused and (tasks is None or tasks.paused)
        before = fake.count("/dags/example_biglog/dagRuns")
        await pilot.pause(0.8)
        assert fake.count("/dags/example_biglog/dagRuns") == before
        await pilot.press("tab")  # show the runs pane: it polls again
        assert not main.watcher.state("runs").paused
        await wait_for(pilot, lambda: fake.count("/dags/example_biglog/dagRuns") > before,
                       what="runs poll after the pane is shown")


async def test_focus_changes_do_not_keep_dead_footer_keys_alive():
    """Textual's Footer recomposes on every focus change and data-binds each new key to itself;
    without our pruning every dead FooterKey stayed reachable (the soak's RSS growth)."""
    import gc

    from textual.widgets._footer import FooterKey

    def footer_keys() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, FooterKey))

    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        for _ in range(4):
            await pilot.press("tab")
        await pilot.pause(0.2)
        before = footer_keys()
        assert before > 0
        for _ in range(40):  # each press moves focus to another pane: a new set of bindings
            await pilot.press("tab")
            await pilot.pause(0.02)
        await pilot.pause(0.3)
        after = footer_keys()
        footer = app.main.query_one("Footer")
        watchers = sum(len(v) for v in getattr(footer, "__watchers", {}).values())
        shown = len(footer.query(FooterKey))
    assert watchers <= shown + 2, (watchers, shown)
    assert after <= before * 2, (before, after)


async def test_a_run_that_appears_late_does_not_pull_focus_from_where_the_user_went():
    """After a trigger, show_run waits for the new run to be listed, then selects it and the runs
    pane. If the user has moved on meanwhile (here: to the log), the run is still selected when
    it appears, but the focus stays where the user is."""
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.nav.show_run("example_fail", "manual__late")  # not listed yet
        await wait_for(pilot, lambda: main.run_table.row_count == 1, what="the DAG's runs")
        main.pane_layout.activate("log")
        await pilot.pause(0.2)
        fake.add_run("example_fail", "manual__late", "queued", "2026-11-25T10:08:30+00:00")
        await wait_for(pilot, lambda: main.selection.run_id == "manual__late", what="the late run")
        await pilot.pause(0.3)
        assert main.pane_layout.active == "log"


async def test_after_a_trigger_at_80x24_the_new_run_is_shown():
    """One pane at a time: the runs pane is hidden (and does not poll) while the DAG list is
    shown, so show_run must show it, or the new run is never listed (seen in tmux)."""
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        main = app.main
        assert main.pane_layout.active == "dags" and main.watcher.state("runs").paused
        fake.add_run("example_fail", "manual__new", "queued", "2026-11-25T10:08:30+00:00")
        main.nav.show_run("example_fail", "manual__new")
        await wait_for(pilot, lambda: main.selection.run_id == "manual__new", what="the new run selected")
        assert main.pane_layout.active == "runs" and main.run_table.cursor_key == "manual__new"


LONG = "warehouse_ingestion_pipeline_for_customer_orders_{}"


async def test_long_dag_ids_are_cut_in_the_middle_and_shown_whole_under_the_cursor():
    fake = FakeDeployment()
    for region in ("emea", "apac"):  # 50 characters each, differing only at the end
        fake.dags.append({**fake.dags[0], "dag_id": LONG.format(region),
                          "dag_display_name": LONG.format(region)})
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        table = main.dag_table
        await wait_for(pilot, lambda: table.row_count == 11, what="11 DAGs")
        shown = {key: table.get_row(key)[0].plain for key in table.keys}
        for region in ("emea", "apac"):
            cell = shown[LONG.format(region)]
            assert "…" in cell and cell.endswith(f"orders_{region}"), cell
            assert cell.startswith("warehouse")
        assert len(set(shown.values())) == len(shown), "no two rows look the same"
        assert {"dag_id", "last", "paused"} <= set(table.shown_columns)
        table.select_key(LONG.format("apac"))
        await wait_for(pilot, lambda: main.selection.dag_id == LONG.format("apac"),
                       what="the long DAG selected")
        assert main.panes["dags"].context == LONG.format("apac")
        table.select_key("example_fail")
        await wait_for(pilot, lambda: main.selection.dag_id == "example_fail", what="a short id")
        assert main.panes["dags"].context == ""  # shown whole in its row


async def test_filtering_moves_the_runs_pane_to_the_dag_under_the_cursor():
    fake = FakeDeployment()  # 118 DAGs, as where it was seen (a filter rebuilds the table)
    fake.dags += [{**fake.dags[0], "dag_id": f"generated_{n:03}", "dag_display_name": ""}
                  for n in range(109)]
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await wait_for(pilot, lambda: main.dag_table.row_count == 118, what="118 DAGs")
        main.dag_table.select_key("example_fail")
        await wait_for(pilot, lambda: main.selection.dag_id == "example_fail", what="selected")
        await pilot.press("slash", *"params")
        await wait_for(pilot, lambda: main.dag_table.keys == ["example_params"], what="filtered")
        await wait_for(pilot, lambda: main.selection.dag_id == "example_params",
                       what="the runs pane to follow")
        assert main.panes["runs"].context == "example_params"


async def test_task_groups_and_mapped_instances_are_readable():
    """Groups nested 3 deep: the groups dimmed, the task's own name kept when cut; a mapped
    task's instances together, by map index, even when they started out of order."""
    fake = FakeDeployment()
    key = "example_mapped manual__2026-11-25T10:06:45.715051+00:00"
    tis = fake.tis[key]
    square = [t for t in tis if t["task_id"] == "square"]
    square[0]["start_date"] = "2026-11-25T10:06:59.000000Z"  # index 0 started last
    deep = "extract_stage.validate_partitions.regional_checks.check_{}"
    for n, region in enumerate(("emea", "apac")):
        tis.append({**tis[0], "task_id": deep.format(region), "map_index": -1,
                    "start_date": f"2026-11-25T10:06:4{7 + n}.000000Z"})
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await loaded(pilot, app)
        main.dag_table.select_key("example_mapped")
        await wait_for(pilot, lambda: main.task_table.row_count == 7, timeout=10, what="tasks")
        keys = main.task_table.keys
        at = keys.index("square[0]")
        assert keys[at:at + 3] == ["square[0]", "square[1]", "square[2]"]
        cells = {k: main.task_table.get_row(k)[0] for k in keys}
        shown = [cells[deep.format(r)].plain for r in ("emea", "apac")]
        assert shown[0] != shown[1] and all(s.endswith(f"check_{r}") for s, r in
                                            zip(shown, ("emea", "apac"), strict=True))
        whole = main.task_table.cells(deep.format("emea"))[0]
        assert whole.plain == deep.format("emea")
        assert any("dim" in str(span.style) and span.end == whole.plain.rfind(".") + 1
                   for span in whole.spans), "the groups are dimmed"


async def test_y_copies_the_ui_url_of_the_dag_run_or_task_and_Z_zooms(monkeypatch):
    fake = FakeDeployment()
    app = make_app(fake)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    run = "manual__2026-11-25T10%3A06%3A45.688918%2B00%3A00"
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await loaded(pilot, app)
        main.dag_table.select_key("example_fail")
        await pilot.press("y")
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.run_table.row_count == 1, what="its run")
        await pilot.press("y", "enter")
        await wait_for(pilot, lambda: main.task_table.row_count == 3, what="its tasks")
        main.task_table.select_key("boom")
        await wait_for(pilot, lambda: main.selection.task_key == "boom", what="boom")
        await pilot.press("y")
        await wait_for(pilot, lambda: len(copied) == 3, what="three URLs")
        assert copied == ["http://airflow.test/dags/example_fail",
                          f"http://airflow.test/dags/example_fail/runs/{run}",
                          f"http://airflow.test/dags/example_fail/runs/{run}/tasks/boom"]
        assert not main.pane_layout.compact
        await pilot.press("Z")
        await wait_for(pilot, lambda: main.pane_layout.compact, what="zoomed")
        assert main.panes["tasks"].display and not main.panes["dags"].display
        await pilot.press("Z")
        await wait_for(pilot, lambda: not main.pane_layout.compact, what="back")
