"""Issue 18's papercuts that show in the TUI (the CLI's are in tests/unit/test_cli.py and
test_config.py): an authentication failure is not called "down"."""

from __future__ import annotations

from tests.conftest import status, wait_for
from tests.ui.fake import FakeDeployment, make_app
from tests.ui.test_main_screen import loaded


async def test_an_auth_failure_is_not_allowed_with_a_hint_not_down():
    fake = FakeDeployment()
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        fake.errors[("GET", "/api/v2/dags")] = (401, {"detail": "Token expired"})
        app.action_refresh_data()
        await wait_for(pilot, lambda: "not allowed" in status(app), what="the auth words")
        line = status(app)
        assert "token expired or wrong password?" in line and "down" not in line
        fake.errors.clear()
        fake.down = True
        app.action_refresh_data()
        await wait_for(pilot, lambda: "✖ down: " in status(app), what="down, for a real outage")


async def test_the_run_type_is_never_cut_by_the_panes_edge():
    """Issue 18, papercut 6: the runs table was wider than its pane, and "scheduled" showed as
    "schedule". It fits its pane now: the type whole, the run id cut in the middle."""
    fake = FakeDeployment()
    for run_id, run_type in (("scheduled__2026-11-25T10:09:00+00:00", "scheduled"),
                             ("asset_triggered__2026-11-25T10:09:30+00:00", "asset_triggered")):
        fake.add_run("example_params", run_id, "success", "2026-11-25T10:09:00Z")["run_type"] = \
            run_type
    app = make_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.goto_dag("example_params")
        await wait_for(pilot, lambda: main.run_table.row_count == 4, what="the runs")
        table = main.run_table
        assert "type" in table.shown_columns
        for key in table.keys:
            assert not table.is_cut(key, "type"), key
        assert table.is_cut("asset_triggered__2026-11-25T10:09:30+00:00", "run_id")
        assert sum(c.get_render_width(table) for c in table.columns.values()) <= table.size.width


async def test_the_run_history_pages_back_when_the_cursor_reaches_its_end():
    """Issue 18, papercut 7: the run history was one fixed page."""
    from astro_tui.tui.app import Settings

    fake = FakeDeployment()
    for n in range(4):
        fake.add_run("example_params", f"manual__old{n}", "success", f"2026-11-20T10:0{n}:00Z")
    settings = Settings(dags_seconds=30, runs_seconds=0.2, tasks_seconds=0.2, log_seconds=0.2,
                        runs_limit=2)
    app = make_app(fake, settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        main = app.main
        main.goto_dag("example_params")
        await wait_for(pilot, lambda: main.run_table.row_count == 2, what="the first page")
        assert main.panes["runs"].count == "2/6"
        main.pane_layout.activate("runs")
        await pilot.press("G")  # the end of the list: one page more
        await wait_for(pilot, lambda: main.run_table.row_count == 4, what="the second page")
        await pilot.press("G")
        await wait_for(pilot, lambda: main.run_table.row_count == 6, what="all of them")
        assert main.panes["runs"].count == "6"
        reads = [r for r in fake.requests if r.url.path.endswith("/dags/example_params/dagRuns")]
        assert [r.url.params["limit"] for r in reads][-1] == "6"
        assert main.selection.more_runs() is False  # all read: the end asks for nothing
