"""Airflow example DAG for astro-tui: a cron schedule (weekdays at 06:30 UTC)."""
from __future__ import annotations

from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task


@dag(
    dag_id="example_cron",
    schedule="30 6 * * 1-5",
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo", "scheduled"],
    description="Runs on weekdays at 06:30 UTC",
    default_args={"owner": "team"},
)
def example_cron():
    @task
    def report():
        print("report: done")

    report()


example_cron()
