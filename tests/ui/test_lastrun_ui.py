"""The DAG list's last-run column for DAGs whose last run is older than the newest runs read
(issue 19), against the recorded fake deployment with a window of 2 runs (example_params and
example_hostile in it; example_fail failed and example_long runs outside it; example_biglog and
example_cron never ran)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx

from astro_tui.tui.states import state_text
from astro_tui.watch.settings import Settings
from tests.conftest import wait_for
from tests.ui.fake import FakeDeployment, make_app

SETTINGS = replace(Settings(dags_seconds=30, runs_seconds=0.2, tasks_seconds=0.2,
                            log_seconds=0.2), runs_window=2)


def held(fake: FakeDeployment) -> tuple[asyncio.Event, list[str]]:
    """Hold every read of one DAG's newest run until the event is set; the DAGs asked for."""
    gate, asked = asyncio.Event(), []
    inner = fake.handler

    async def handler(request: httpx.Request) -> Any:
        parts = request.url.path.split("/")
        if len(parts) == 6 and parts[5] == "dagRuns" and parts[4] != "~" \
                and request.url.params.get("limit") == "1":
            asked.append(parts[4])
            await gate.wait()
        return inner(request)

    fake.handler = handler  # type: ignore[assignment,method-assign]
    return gate, asked


def last_cell(app: Any, dag_id: str) -> str:
    cells = app.main.dag_table.cells(dag_id)
    return cells[1].plain if cells else ""


async def test_an_unread_last_run_shows_unknown_then_its_state():
    fake = FakeDeployment()
    gate, asked = held(fake)
    app = make_app(fake, settings=SETTINGS)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.dag_table.row_count == 9, what="9 DAGs")
        await wait_for(pilot, lambda: asked, what="a DAG's last run asked for")
        # not read yet: "…", never "—" (never ran); the filter already tells example_fail's
        assert last_cell(app, "example_cron") == "…"
        assert last_cell(app, "example_success") == "…"
        assert last_cell(app, "example_fail") == state_text("failed").plain
        assert last_cell(app, "example_params") == state_text("success").plain  # the window's
        gate.set()
        await wait_for(pilot, lambda: last_cell(app, "example_success") ==
                       state_text("success").plain, what="example_success read")
        await wait_for(pilot, lambda: last_cell(app, "example_cron") == "—",
                       what="example_cron: never ran")
        # each once, none of the window's
        assert sorted(asked) == sorted(set(asked))
        assert not {"example_params", "example_hostile"} & set(asked)


async def test_rows_scrolled_into_view_are_read_then():
    fake = FakeDeployment()
    _gate, asked = held(fake)
    _gate.set()
    app = make_app(fake, settings=SETTINGS)
    async with app.run_test(size=(120, 12)) as pilot:
        main = app.main
        await wait_for(pilot, lambda: main.dag_table.row_count == 9, what="9 DAGs")
        await wait_for(pilot, lambda: "example_long" in asked, what="the flagged DAGs read")
        in_view = main.dag_table.keys_in_view()
        assert 0 < len(in_view) < 9 and "example_taskgroup" not in in_view
        await wait_for(pilot, lambda: "example_biglog" in asked, what="the rows in view read")
        assert "example_taskgroup" not in asked  # out of view: not read
        assert last_cell(app, "example_taskgroup") == "…"
        await pilot.press("G")  # the last row: it scrolls into view
        await wait_for(pilot, lambda: last_cell(app, "example_taskgroup") ==
                       state_text("success").plain, what="example_taskgroup read")
        assert asked.count("example_taskgroup") == 1
        await pilot.press("g", "G", "g")  # and back: nothing read twice
        polls = fake.count("/dags/~/dagRuns")
        await wait_for(pilot, lambda: fake.count("/dags/~/dagRuns") >= polls + 3,
                       what="3 more changes polls")
        assert sorted(asked) == sorted(set(asked))
