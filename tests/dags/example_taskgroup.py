"""Airflow example DAG for astro-tui: tasks inside a task group (dotted task ids)."""
from __future__ import annotations

from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import dag, task, task_group
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task, task_group


@dag(
    dag_id="example_taskgroup",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo"],
    description="A task group: group.fetch and group.check have dotted ids",
    default_args={"owner": "team"},
)
def example_taskgroup():
    @task
    def start():
        print("start")

    @task_group(group_id="group")
    def group():
        @task
        def fetch():
            print("group.fetch: fetched")

        @task
        def check():
            print("group.check: checked")

        fetch() >> check()

    @task
    def finish():
        print("finish")

    start() >> group() >> finish()


example_taskgroup()
