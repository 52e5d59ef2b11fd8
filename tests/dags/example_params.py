"""Airflow example DAG for astro-tui: typed params, prints the conf it ran with."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import Param, dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task
    from airflow.models.param import Param

log = logging.getLogger(__name__)


@dag(
    dag_id="example_params",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo", "params"],
    description="Typed params (string, int with a range, bool, enum); prints its conf",
    default_args={"owner": "team"},
    params={
        "name": Param("world", type="string", description="who to greet"),
        "count": Param(3, type="integer", minimum=1, maximum=100, description="how many greetings"),
        "flag": Param(False, type="boolean", description="a switch"),
        "color": Param("red", type="string", enum=["red", "green", "blue"], description="a colour"),
    },
)
def example_params():
    @task
    def show_conf(**context):
        conf = context["dag_run"].conf or {}
        params = context["params"]
        print("CONF=" + json.dumps(conf, sort_keys=True))
        for i in range(min(int(params["count"]), 100)):
            log.info("hello %s #%d (%s)", params["name"], i + 1, params["color"])

    show_conf()


example_params()
