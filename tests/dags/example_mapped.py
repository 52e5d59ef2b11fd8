"""Airflow example DAG for astro-tui: a dynamically mapped task (several map_index values)."""
from __future__ import annotations

from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task


@dag(
    dag_id="example_mapped",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo", "mapped"],
    description="square.expand over three values, then a sum",
    default_args={"owner": "team"},
)
def example_mapped():
    @task
    def numbers():
        return [2, 3, 4]

    @task
    def square(x):
        print(f"square: {x} * {x} = {x * x}")
        return x * x

    @task
    def total(values):
        print(f"total: {sum(values)}")

    total(square.expand(x=numbers()))


example_mapped()
