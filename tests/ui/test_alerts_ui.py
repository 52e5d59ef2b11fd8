"""Alerts in the TUI (issue 16): `a` watches a run, a task or a DAG; a watched run that ends
shows a toast and sends a BEL and a desktop notification (OSC 9 and OSC 777, wrapped for tmux
inside tmux) to the terminal; `--notify failures` alerts on new failures anywhere; a burst is
one alert; a hostile DAG id cannot inject an escape sequence.

The terminal is the app's `terminal_write` seam (a list here); tests/integration/
test_notify_pty.py reads the real bytes from a pty.
"""

from __future__ import annotations

import copy
import io
import re

import pytest
from rich.console import Console

from astro_tui.tui.screens.help import HelpScreen, help_table
from astro_tui.tui.widgets.keyed_table import MARK
from astro_tui.watch.alerts import Watch
from tests.conftest import status, wait_for
from tests.ui.fake import FakeDeployment, make_app
from tests.ui.test_main_screen import loaded

LONG_RUN = "manual__2026-11-25T10:06:45.775837+00:00"  # example_long: running
HOSTILE = "evil\x1b]0;pwned\x07[bold]x[/]\x9b2J"


def toasts(app) -> list[str]:
    return [str(t.render()) for t in app.screen.query("Toast")]


def first_cell(table, key: str) -> str:
    return str(table.get_row(key)[0])


async def seen_by_changes(pilot, fake: FakeDeployment) -> None:
    """The "runs changed since" poll has read (and, polls never overlapping, handled) every
    run change made so far."""
    await wait_for(pilot, lambda: not fake.changed_runs, what="the changes read")
    n = fake.count("/dags/~/dagRuns")
    await wait_for(pilot, lambda: fake.count("/dags/~/dagRuns") > n, what="one more poll")


async def open_run(pilot, app, dag_id: str, run_id: str) -> None:
    main = app.main
    main.goto_dag(dag_id)
    await wait_for(pilot, lambda: main.selection.dag_id == dag_id, what="the DAG")
    main.pane_layout.activate("runs")
    await wait_for(pilot, lambda: run_id in main.run_table.keys, what="its runs")
    main.run_table.select_key(run_id)
    await wait_for(pilot, lambda: main.selection.run_id == run_id, what="the run")


@pytest.mark.parametrize("tmux", [False, True], ids=["plain", "tmux"])
async def test_a_watched_run_that_ends_toasts_rings_and_notifies(tmux):
    fake = FakeDeployment()
    out: list[str] = []
    app = make_app(fake, terminal_write=out.append, tmux=tmux)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        main = app.main
        await open_run(pilot, app, "example_long", LONG_RUN)
        await pilot.press("a")
        await wait_for(pilot, lambda: app.alerts.watches == [Watch("run", "example_long",
                                                                     LONG_RUN)], what="watch")
        assert first_cell(main.run_table, LONG_RUN).startswith(MARK.plain)
        assert "◉ 1 watched" in status(app)
        assert out == []  # nothing rang yet
        fake.set_run_state("example_long", LONG_RUN, "failed")
        await wait_for(pilot, lambda: out, what="the alert")
        data = "".join(out)
        assert data.startswith("\x07")  # the bell
        osc9 = f"\x1b]9;example_long: failed: {LONG_RUN}\x07"
        osc777 = f"\x1b]777;notify;example_long: failed;{LONG_RUN}\x07"
        if tmux:
            assert data == ("\x07\x1bPtmux;" + osc9.replace("\x1b", "\x1b\x1b") + "\x1b\\"
                            "\x1bPtmux;" + osc777.replace("\x1b", "\x1b\x1b") + "\x1b\\")
        else:
            assert data == "\x07" + osc9 + osc777
        await wait_for(pilot, lambda: any("example_long: failed" in t for t in toasts(app)),
                       what="the toast")
        # a watch alerts once, then goes: the mark and the count go with it
        assert app.alerts.watches == []
        await wait_for(pilot, lambda: not first_cell(main.run_table, LONG_RUN).startswith(
            MARK.plain), what="the mark gone")
        assert "watched" not in status(app)


async def test_a_over_run_cannot_be_watched_and_a_again_stops_a_watch():
    fake = FakeDeployment()
    app = make_app(fake, terminal_write=lambda _: None)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        main = app.main
        run_id = fake.run("example_fail")["dag_run_id"]
        await open_run(pilot, app, "example_fail", run_id)
        await pilot.press("a")
        await wait_for(pilot, lambda: any("already failed" in t for t in toasts(app)),
                       what="nothing to wait for")
        assert app.alerts.watches == []
        main.pane_layout.activate("dags")
        await pilot.press("a")
        await wait_for(pilot, lambda: app.alerts.watches == [Watch("dag", "example_fail")],
                       what="the DAG watched")
        assert first_cell(main.dag_table, "example_fail").startswith(MARK.plain)
        await pilot.press("a")
        await wait_for(pilot, lambda: app.alerts.watches == [], what="unwatched")
        assert not first_cell(main.dag_table, "example_fail").startswith(MARK.plain)


async def test_the_help_lists_what_is_watched():
    fake = FakeDeployment()
    app = make_app(fake, terminal_write=lambda _: None,
                   watches=[Watch("task", "example_long", LONG_RUN, "tick")])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        assert app.screen.watching == [f"example_long › {LONG_RUN} › tick"]
        console = Console(width=200, file=io.StringIO(), record=True)
        console.print(help_table(app.screen.watching))
        text = console.export_text()
        assert re.search(r"Watching +an alert when it ends", text)
        assert re.search(rf"◉ +example_long › {re.escape(LONG_RUN)} › tick", text)


async def test_notify_failures_alerts_once_for_a_burst_and_never_for_old_failures():
    fake = FakeDeployment()
    out: list[str] = []
    app = make_app(fake, terminal_write=out.append, notify="failures")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await loaded(pilot, app)
        assert out == []  # example_fail failed before the app started: no alert
        for n in range(50):
            fake.add_run("example_success", f"manual__burst{n:02}", "running",
                         "2026-11-25T10:09:00Z")
        await seen_by_changes(pilot, fake)  # seen running
        for n in range(50):
            fake.set_run_state("example_success", f"manual__burst{n:02}", "failed")
        await wait_for(pilot, lambda: out, what="the alert")
        await wait_for(pilot, lambda: any("50 runs failed" in t for t in toasts(app)),
                       what="one toast")
        data = "".join(out)
        assert len(out) == 1 and data.count("\x07") == 1 + 2  # one BEL, two OSC ends
        assert "50 runs failed" in data


async def test_a_hostile_dag_id_cannot_inject_an_escape_sequence():
    fake = FakeDeployment()
    dag = copy.deepcopy(next(d for d in fake.dags if d["dag_id"] == "example_success"))
    dag["dag_id"] = HOSTILE
    fake.dags.append(dag)
    out: list[str] = []
    app = make_app(fake, terminal_write=out.append, notify="failures")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.main.dag_table.row_count == 10, what="10 DAGs")
        fake.add_run(HOSTILE, "run\x1b[31m;x", "running", "2026-11-25T10:09:00Z")
        await seen_by_changes(pilot, fake)
        fake.set_run_state(HOSTILE, "run\x1b[31m;x", "failed")
        await wait_for(pilot, lambda: out, what="the alert")
        data = "".join(out)
        # a BEL, then exactly two OSC strings, each ended by its own BEL
        assert re.fullmatch(r"\x07\x1b\]9;[^\x07\x1b\x9b]*\x07"
                            r"\x1b\]777;notify;[^;\x07\x1b\x9b]*;[^;\x07\x1b\x9b]*\x07", data), \
            repr(data)
        assert "pwned" not in data
        await wait_for(pilot, lambda: toasts(app), what="the toast")
        assert not any("\x1b" in t or "\x9b" in t for t in toasts(app))
