"""A real Airflow 3 on PostgreSQL (as real deployments run it), read through astro-tui's client."""

from __future__ import annotations

from pathlib import Path

import pytest

from astro_tui.airflow import Airflow3PasswordAuth, AirflowClient
from tests.airflow import harness
from tests.airflow.procs import ProcId, is_alive

pytestmark = pytest.mark.integration


async def test_astro_tui_lists_the_dags_of_an_airflow_3_on_postgres():
    s = harness.start(3, db="postgres")
    pg, pg_dir = ProcId(s.pg["pid"], s.pg["start"]), Path(s.pg["dir"])
    try:
        assert s.env()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
            f"postgresql+psycopg2://airflow:{s.pg['password']}@127.0.0.1:{s.pg['port']}/")
        assert is_alive(pg) and pg_dir.is_dir()
        async with await AirflowClient.connect(
                s.url, auth=Airflow3PasswordAuth(s.url, s.username, s.password)) as client:
            dags = await client.list_dags()
        ids = {d.dag_id for d in dags}
        assert ids == harness.example_dag_ids(3)
    finally:
        s.stop()
    # Stopping the server stops PostgreSQL and removes its directory.
    assert not is_alive(pg)
    assert not pg_dir.exists()
    assert not Path(s.home).exists()
