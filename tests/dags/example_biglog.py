"""Airflow example DAG for astro-tui: a task that writes a very large log."""
from __future__ import annotations

import sys
from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import Param, dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task
    from airflow.models.param import Param


@dag(
    dag_id="example_biglog",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo", "big"],
    description="Writes `lines` log lines (200k by default)",
    default_args={"owner": "team"},
    params={"lines": Param(200000, type="integer", minimum=1, description="how many lines")},
)
def example_biglog():
    @task
    def write(**context):
        lines = int(context["params"]["lines"])
        for i in range(1, lines + 1):
            print(f"line {i:06d} of {lines}: the quick brown fox jumps over the lazy dog")
        sys.stdout.flush()

    write()


example_biglog()
