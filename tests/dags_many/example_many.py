"""Airflow DAG generator for astro-tui benchmarks: one file that defines many small DAGs.

The harness copies this file into the DAGs folder only with `many_dags=N` / `up --many-dags N`,
and sets ASTRO_TUI_MANY_DAGS=N (default 1000). It makes DAGs gen_0000 .. gen_{N-1}, each a chain
of 2 or 3 EmptyOperator tasks (the scheduler finishes those itself, so a run needs no worker),
schedule None, a fixed start_date in the past, catchup off, varied owners and tags, and every
fourth DAG unpaused. All is derived from the index, so a re-parse yields the same serialized DAGs.

The words "airflow" and "dag" must stay in this file (safe-mode discovery); the try/except imports
make it parse on Airflow 3 (airflow.sdk) and Airflow 2 (airflow.models.dag).
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow.models.dag import DAG
    from airflow.operators.empty import EmptyOperator

COUNT = int(os.environ.get("ASTRO_TUI_MANY_DAGS", "1000"))
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
OWNERS = ("team", "data", "ops", "ml", "finance")
AREAS = ("ingest", "report", "clean", "export", "sync", "audit", "train")


def _make(i: int) -> DAG:
    dag_id = f"gen_{i:04d}"
    area = AREAS[i % len(AREAS)]
    tags = ["many", area]
    if i % 10 == 0:
        tags.append("tenth")
    with DAG(
        dag_id=dag_id,
        schedule=None,
        start_date=START,
        catchup=False,
        tags=tags,
        description=f"Generated DAG {i} of {COUNT} ({area})",
        default_args={"owner": OWNERS[i % len(OWNERS)]},
        is_paused_upon_creation=i % 4 != 0,
    ) as dag:
        first = EmptyOperator(task_id="start")
        last = EmptyOperator(task_id="done")
        if i % 2:
            first >> EmptyOperator(task_id=area) >> last
        else:
            first >> last
    return dag


for _i in range(COUNT):
    globals()[f"gen_{_i:04d}"] = _make(_i)  # module-level: every Airflow version's DagBag finds it
