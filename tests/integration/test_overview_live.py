"""The overview against the REAL Airflow 3 of the harness, at 120x40: health, the DAG list with
two 50-character ids that differ only at the end, and task groups nested 3 deep in the
drill-down: no two rows look the same (issue 15's acceptance)."""

from __future__ import annotations

import pytest

from astro_tui.config import Profile
from astro_tui.session import open_client
from astro_tui.tui.app import AstroTuiApp, Settings
from tests.conftest import wait_for

pytestmark = pytest.mark.integration

LONG = "example_warehouse_ingestion_pipeline_customer_{}"
TIMEOUT = 180.0


async def test_long_ids_and_nested_task_groups_read_apart_at_120x40(airflow3, monkeypatch):
    monkeypatch.setenv("ASTRO_TUI_TEST_PASSWORD", airflow3.password)
    profile = Profile(name="it", url=airflow3.url, auth="password", username=airflow3.username,
                      secret="env:ASTRO_TUI_TEST_PASSWORD")
    emea, apac = LONG.format("emea"), LONG.format("apac")
    assert len(emea) == len(apac) == 50
    with airflow3.http_client(timeout=30) as c:
        c.patch(f"{airflow3.api}/dags/{emea}", json={"is_paused": False}).raise_for_status()
        r = c.post(f"{airflow3.api}/dags/{emea}/dagRuns", json={"logical_date": None})
        r.raise_for_status()
        run_id = r.json()["dag_run_id"]
    settings = Settings(dags_seconds=30, runs_seconds=1, tasks_seconds=1, log_seconds=1)
    app = AstroTuiApp(lambda: open_client(profile), profile_name="it", settings=settings,
                      landing="overview")
    async with app.run_test(size=(120, 40)) as pilot:
        ov = app.overview
        await wait_for(pilot, lambda: {emea, apac} <= set(ov.dag_table.keys), 60, "the DAGs")
        await wait_for(pilot, lambda: "● scheduler" in ov.health_strip.plain, 60, "health")
        shown = {k: ov.dag_table.get_row(k)[0].plain for k in ov.dag_table.keys}
        assert len(set(shown.values())) == len(shown), shown
        assert shown[emea].endswith("emea") and shown[apac].endswith("apac")
        assert {"dag_id", "last", "paused", "schedule", "recent"} <= set(
            ov.dag_table.shown_columns)
        # the drill-down: the run's tasks in their groups
        ov.dag_table.select_key(emea)
        ov.dag_table.focus()
        await pilot.press("enter")
        main = app.main
        await wait_for(pilot, lambda: run_id in main.selection.runs, 60, "the run")
        main.run_table.select_key(run_id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: main.task_table.row_count == 3, TIMEOUT, "3 tasks")
        tasks = {k: main.task_table.get_row(k)[0].plain for k in main.task_table.keys}
        assert len(set(tasks.values())) == 3, tasks
        for key, cell in tasks.items():
            assert key.startswith("extract_stage.validate_partitions.regional_checks.")
            assert cell.endswith(key.rsplit(".", 1)[1]), (key, cell)  # the task's own name
