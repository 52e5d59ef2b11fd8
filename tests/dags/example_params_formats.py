"""Airflow example DAG for astro-tui: a param for every JSON Schema `format` Airflow checks, and
the other corners of the params schema (enum with labels, const, null, nested objects, arrays of
objects, examples). tests/integration/test_conf_validation_live.py triggers it with a table of
confs to compare astro-tui's verdict with the server's. Its task only prints the conf."""
from __future__ import annotations

import json
from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import Param, dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task
    from airflow.models.param import Param


@dag(
    dag_id="example_params_formats",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    is_paused_upon_creation=True,
    tags=["params"],
    description="A param per JSON Schema format, nested objects and arrays; prints its conf",
    params={
        "day": Param("2024-01-31", type="string", format="date"),
        "at": Param("2024-01-31T10:00:00+00:00", type="string", format="date-time"),
        "clock": Param("10:30:00", type="string", format="time"),
        "every": Param("P1D", type="string", format="duration"),
        "mail": Param("ops@example.com", type="string", format="email"),
        "idn_mail": Param("ops@example.com", type="string", format="idn-email"),
        "ip4": Param("10.0.0.1", type="string", format="ipv4"),
        "ip6": Param("::1", type="string", format="ipv6"),
        "uid": Param("12345678-1234-5678-1234-567812345678", type="string", format="uuid"),
        "host": Param("db.example.com", type="string", format="idn-hostname"),
        "pattern": Param("^a+$", type="string", format="regex"),
        "color": Param("red", type="string", enum=["red", "green"],
                       values_display={"red": "Red", "green": "Green"}),
        "api": Param("v2", type="string", const="v2"),  # hidden in Airflow's form
        "maybe": Param(None, type=["null", "string"]),
        "count": Param(3, type="integer", minimum=1, maximum=10),
        "target": Param({"host": "db", "port": 5432}, type="object", required=["host"],
                        properties={"host": {"type": "string"},
                                    "port": {"type": "integer", "minimum": 1}}),
        "rows": Param([{"n": 1}], type="array", minItems=1,
                      items={"type": "object", "required": ["n"],
                             "properties": {"n": {"type": "integer"}}}),
        "suggest": Param("a", type="string", examples=["a", "b"]),
    },
)
def example_params_formats():
    @task
    def show_conf(**context):
        print("CONF=" + json.dumps(context["dag_run"].conf or {}, sort_keys=True))

    show_conf()


example_params_formats()
