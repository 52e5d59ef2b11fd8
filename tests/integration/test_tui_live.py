"""The real TUI against the real Airflow 3: a run triggered elsewhere shows up and finishes in the
run pane without anyone pressing refresh."""

from __future__ import annotations

import pytest

from astro_tui.config import Profile
from astro_tui.session import open_client
from astro_tui.tui.app import AstroTuiApp, Settings
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


def profile_for(server, monkeypatch) -> Profile:
    monkeypatch.setenv("ASTRO_TUI_TEST_PASSWORD", server.password)
    return Profile(name="it", url=server.url, auth="password", username=server.username,
                   secret="env:ASTRO_TUI_TEST_PASSWORD")


async def test_triggered_run_goes_live_to_success_in_the_run_pane(airflow3, monkeypatch):
    profile = profile_for(airflow3, monkeypatch)
    settings = Settings(dags_seconds=30, runs_seconds=1, tasks_seconds=1, log_seconds=1)
    app = AstroTuiApp(lambda: open_client(profile), profile_name="it", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await wait_for(pilot, lambda: "example_params" in main.selection.dags, 60, "the DAG list")
        main.goto_dag("example_params")
        await wait_for(pilot, lambda: main.selection.dag_id == "example_params", 10, "selection")
        assert f"Airflow {airflow3.version}" in main.status.text

        # Trigger from outside the app, as a colleague or a schedule would.
        with airflow3.http_client(timeout=30) as c:
            c.patch(f"{airflow3.api}/dags/example_params", json={"is_paused": False})
            r = c.post(f"{airflow3.api}/dags/example_params/dagRuns",
                       json={"logical_date": None, "conf": {"name": "live", "count": 1}})
            r.raise_for_status()
            run_id = r.json()["dag_run_id"]

        seen: set[str] = set()

        def run_state() -> str | None:
            run = main.selection.runs.get(run_id)
            if run is not None and run.state:
                seen.add(run.state)
            return run.state if run else None

        await wait_for(pilot, lambda: run_state() is not None, 30, "the new run in the run pane")
        await wait_for(pilot, lambda: run_state() == "success", 120, "the run to succeed")
        assert seen & {"queued", "running"}, f"states seen: {seen}"
        # The DAG list's "last run" column followed too, and the table shows the row.
        assert main.selection.latest["example_params"].run_id == run_id
        assert run_id in main.run_table.keys
        cells = main.run_table.cells(run_id)
        assert cells[0].plain == "● success"
