"""Airflow example DAG for astro-tui: a long task that logs one line per second."""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import Param, dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task
    from airflow.models.param import Param

log = logging.getLogger(__name__)


@dag(
    dag_id="example_long",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo"],
    description="Logs one line per second for `seconds` seconds",
    default_args={"owner": "team"},
    params={"seconds": Param(30, type="integer", minimum=1, maximum=3600, description="how long")},
)
def example_long():
    @task
    def tick(**context):
        seconds = int(context["params"]["seconds"])
        for i in range(1, seconds + 1):
            log.info("tick %d of %d", i, seconds)
            time.sleep(1)
        log.info("done after %d ticks", seconds)

    tick()


example_long()
