"""Airflow example DAG for astro-tui: a quick chain of three successful tasks."""
from __future__ import annotations

from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task


@dag(
    dag_id="example_success",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo"],
    description="Three chained tasks that succeed quickly",
    default_args={"owner": "team"},
)
def example_success():
    @task
    def extract():
        print("extract: got [1, 2, 3]")
        return [1, 2, 3]

    @task
    def transform(values):
        total = sum(values)
        print(f"transform: sum={total}")
        return total

    @task
    def load(total):
        print(f"load: stored {total}")

    load(transform(extract()))


example_success()
