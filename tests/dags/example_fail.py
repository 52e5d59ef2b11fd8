"""Airflow example DAG for astro-tui: a task that fails after one retry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task


@dag(
    dag_id="example_fail",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo"],
    description="ok succeeds, boom fails (one retry), never is upstream_failed",
    default_args={"owner": "team"},
)
def example_fail():
    @task
    def ok():
        print("ok: fine")

    @task(retries=1, retry_delay=timedelta(seconds=2))
    def boom():
        print("boom: about to fail")
        raise RuntimeError("example_fail: intentional failure")

    @task
    def never():
        print("never runs")

    ok() >> boom() >> never()


example_fail()
