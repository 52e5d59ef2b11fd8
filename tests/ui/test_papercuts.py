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
