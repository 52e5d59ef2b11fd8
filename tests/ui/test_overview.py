"""The overview (landing screen) against the recorded fake deployment: health, the failure
inbox, every DAG with its recent runs, and Enter into the drill-down."""

from __future__ import annotations

import io

from rich.console import Console

from astro_tui.tui.screens.import_errors import errors_view, health_table, warnings_view
from tests.conftest import wait_for
from tests.ui.fake import FakeDeployment, make_app

FAIL_RUN = "manual__2026-11-25T10:06:45.688918+00:00"  # example_fail: failed, "boom" failed
LONG_RUN = "manual__2026-11-25T10:06:45.775837+00:00"  # example_long: running


def plain(*renderables) -> str:
    console = Console(width=100, record=True, color_system=None, file=io.StringIO())
    for r in renderables:
        console.print(r)
    return console.export_text()


def overview_app(fake: FakeDeployment):
    return make_app(fake, landing="overview")


async def shown(pilot, app) -> None:
    ov = app.overview
    await wait_for(pilot, lambda: ov.dag_table.row_count == 9 and ov.inbox_table.row_count == 2
                   and ov.health is not None, what="the DAGs, the inbox and the health")


async def test_the_overview_shows_health_inbox_and_dags_without_a_keypress():
    fake = FakeDeployment()
    fake.import_errors.append({"import_error_id": 1, "timestamp": "2026-11-25T10:08:00Z",
                               "filename": "/dags/broken.py", "bundle_name": "dags-folder",
                               "stack_trace": "SyntaxError: invalid syntax"})
    app = overview_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot, app)
        ov = app.overview
        assert app.screen is ov
        await wait_for(pilot, lambda: "1 import error" in ov.health_strip.plain,
                       what="the import error count")
        assert "DAG warning" not in ov.health_strip.plain
        assert "● scheduler" in ov.health_strip.plain
        failed, active = ov.inbox_table.keys
        assert failed == f"failed example_fail {FAIL_RUN}"
        assert active == f"active example_long {LONG_RUN}"
        row = ov.inbox_table.cells(failed)
        assert row[0].plain == "✖ failed" and row[2].plain == "boom"
        assert {"dag_id", "last", "paused", "recent"} <= set(ov.dag_table.shown_columns)
        # the strip: example_params has two runs, both successes (oldest left)
        assert ov.dag_table.cells("example_params")[2].plain == "●●"
        assert ov.panes["inbox"].context.startswith("1 failed in 24 h · 1 running")


async def test_enter_on_a_failed_run_opens_its_first_failed_task_log():
    fake = FakeDeployment()
    app = overview_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot, app)
        app.overview.inbox_table.focus()
        await pilot.press("enter")
        main = app.main
        await wait_for(pilot, lambda: app.screen is main, what="the drill-down")
        await wait_for(pilot, lambda: main.selection.task_key == "boom" and main.pane_layout.active == "log",
                       timeout=10, what="the failed task's log")
        assert (main.selection.dag_id, main.selection.run_id) == ("example_fail", FAIL_RUN)
        await wait_for(pilot, lambda: main.log_view.lines, what="log lines")
        # Esc goes back up to the overview, pane by pane
        for _ in range(4):
            await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.overview, what="the overview again")


async def test_enter_on_a_dag_opens_it_and_o_comes_back():
    fake = FakeDeployment()
    app = overview_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot, app)
        app.overview.dag_table.select_key("example_params")
        app.overview.dag_table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.main
                       and app.main.selection.dag_id == "example_params", what="the DAG opened")
        await pilot.press("o")
        await wait_for(pilot, lambda: app.screen is app.overview, what="the overview")


async def test_the_hidden_drill_down_polls_nothing():
    fake = FakeDeployment()
    app = overview_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await shown(pilot, app)
        # the drill-down is not shown: it reads no runs, tasks or logs (and paints nothing)
        for kind in ("runs", "tasks", "log"):
            state = app.watcher.state(kind)
            assert state is None or state.paused, kind
        assert app.main.selection.dag_id is None
        app.overview.dag_table.select_key("example_params")
        app.overview.dag_table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.main.run_table.row_count == 2, what="its runs read")
        # and back on the overview, the drill-down's polls stop
        await pilot.press("o")
        await wait_for(pilot, lambda: app.screen is app.overview, what="the overview")
        for kind in ("runs", "tasks", "log"):
            state = app.watcher.state(kind)
            assert state is None or state.paused, kind


async def test_a_request_waiting_for_a_person_is_answered_from_the_inbox():
    fake = FakeDeployment()
    fake.hitl_request("example_long", LONG_RUN, "approve", "Ship the [bold]report[/bold]?",
                      ["Approve", "Reject"], params={"note": ""})
    app = overview_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        ov = app.overview
        await wait_for(pilot, lambda: ov.inbox_table.row_count == 3, what="the request listed")
        key = f"awaiting example_long {LONG_RUN} approve -1"
        assert ov.inbox_table.keys[1] == key  # after the failures, before the running runs
        row = ov.inbox_table.cells(key)
        assert row[0].plain == "✎ awaiting_input"
        assert row[2].plain == "approve · Ship the [bold]report[/bold]?"  # markup shown as text
        assert "1 awaiting input" in ov.panes["inbox"].context
        ov.inbox_table.focus()
        ov.inbox_table.select_key(key)
        await pilot.press("enter")
        from astro_tui.tui.screens.hitl import HitlScreen
        await wait_for(pilot, lambda: isinstance(app.screen, HitlScreen), what="the request")
        await pilot.press("ctrl+s")  # nothing chosen: a one-line problem, nothing sent
        await wait_for(pilot, lambda: "choose an option" in str(app.screen.problem.render()),
                       what="the problem")
        assert fake.answers == []
        await pilot.press("down", "space")  # Reject
        params = app.screen.params
        params.text = '{"note": "numbers look off"}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: fake.answers, what="the answer sent")
        assert fake.answers == [{"key": ("example_long", LONG_RUN, "approve", -1),
                                 "chosen_options": ["Reject"],
                                 "params_input": {"note": "numbers look off"}}]
        await wait_for(pilot, lambda: app.screen is ov, what="the modal closed")
        await wait_for(pilot, lambda: ov.inbox_table.row_count == 2, what="the request gone")


async def test_an_answer_the_server_refuses_keeps_what_was_chosen():
    fake = FakeDeployment()
    request = fake.hitl_request("example_long", LONG_RUN, "approve", "Ship it?", ["Approve"])
    app = make_app(fake, landing="overview")
    async with app.run_test(size=(120, 40)) as pilot:
        ov = app.overview
        await wait_for(pilot, lambda: ov.inbox_table.row_count == 3, what="the request listed")
        ov.inbox_table.focus()
        ov.inbox_table.select_key(f"awaiting example_long {LONG_RUN} approve -1")
        await pilot.press("enter")
        from astro_tui.tui.screens.hitl import HitlScreen
        await wait_for(pilot, lambda: isinstance(app.screen, HitlScreen), what="the request")
        request["response_received"] = True  # someone else answered meanwhile
        await pilot.press("space", "ctrl+s")
        await wait_for(pilot, lambda: "not sent" in str(app.screen.problem.render()),
                       what="the refusal")
        assert "already" in str(app.screen.problem.render())
        assert list(app.screen.options.selected) == ["Approve"]
        assert fake.answers == [] and sum(
            1 for r in fake.requests if r.method == "PATCH") == 1, "sent once, never retried"


async def test_read_only_mode_does_not_answer():
    fake = FakeDeployment()
    fake.hitl_request("example_long", LONG_RUN, "approve", "Ship it?", ["Approve"])
    app = make_app(fake, landing="overview", read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        ov = app.overview
        await wait_for(pilot, lambda: ov.inbox_table.row_count == 3, what="the request listed")
        ov.inbox_table.focus()
        ov.inbox_table.select_key(f"awaiting example_long {LONG_RUN} approve -1")
        await pilot.press("enter")
        from astro_tui.tui.screens.hitl import HitlScreen
        await wait_for(pilot, lambda: isinstance(app.screen, HitlScreen), what="the request")
        await pilot.press("space", "ctrl+s")
        await wait_for(pilot, lambda: "read-only" in str(app.screen.problem.render()),
                       what="refused")
        assert not any(r.method == "PATCH" for r in fake.requests)


async def test_i_shows_health_import_errors_and_dag_warnings_sanitized():
    fake = FakeDeployment()
    fake.import_errors.append({"import_error_id": 1, "timestamp": "2026-11-25T10:08:00Z",
                               "filename": "/dags/broken.py", "bundle_name": "dags-folder",
                               "stack_trace": "Traceback:\n  \x1b]0;pwned\x07[bold]x[/bold]\n"
                                              "SyntaxError: invalid syntax"})
    fake.dag_warnings.append({"dag_id": "example_params", "warning_type": "non-existent pool",
                              "message": "references pool 'gpu'",
                              "timestamp": "2026-11-25T10:08:00Z"})
    app = overview_app(fake)
    async with app.run_test(size=(120, 40)) as pilot:
        ov = app.overview
        await wait_for(pilot, lambda: "1 DAG warning" in ov.health_strip.plain
                       and "1 import error" in ov.health_strip.plain, what="the counts")
        await pilot.press("i")
        from astro_tui.tui.screens.import_errors import ImportErrorsScreen
        await wait_for(pilot, lambda: isinstance(app.screen, ImportErrorsScreen), what="details")
        screen = app.screen
        text = plain(health_table(screen.health, screen.read_at),
                     errors_view(screen.errors, ov.dags), warnings_view(screen.warnings))
        assert "/dags/broken.py" in text and "SyntaxError: invalid syntax" in text
        assert "[bold]x[/bold]" in text and "\x1b" not in text and "pwned" not in text
        assert "non-existent pool" in text and "references pool 'gpu'" in text
        assert "scheduler" in text and "healthy" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is ov, what="closed")
