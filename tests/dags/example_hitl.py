"""Airflow example DAG for astro-tui: a task that waits for a person (human-in-the-loop).

Airflow 3.1+ only: the standard provider's HITLOperator asks to approve or reject, with an
optional note; the task waits (`deferred` on 3.1/3.2, `awaiting_input` from 3.3) until someone
answers in the Airflow UI, through the REST API, or with `astro-tui hitl respond`. Then
`report` logs the answer. `schedule=None`: it only waits when a run is triggered.

On Airflow 2 and 3.0 the import fails and this file defines no DAG (and no import error).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

try:  # Airflow 3.1+ with the standard provider
    from airflow.providers.standard.operators.hitl import HITLOperator
    from airflow.sdk import Param, dag, task
except Exception:  # noqa: BLE001 - Airflow 2 / 3.0: ImportError, or the provider's
    HITLOperator = None  # AirflowOptionalProviderFeatureException ("needs Airflow 3.1+")

log = logging.getLogger(__name__)

if HITLOperator is not None:

    @dag(
        dag_id="example_hitl",
        schedule=None,
        start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
        catchup=False,
        tags=["demo", "hitl"],
        description="Waits for a person to approve or reject (human-in-the-loop, Airflow 3.1+)",
        default_args={"owner": "team"},
    )
    def example_hitl():
        approve = HITLOperator(
            task_id="approve",
            subject="Ship the nightly report of {{ run_id }}?",
            body="The nightly report is ready.\n\n**Approve** ships it; **Reject** holds it.",
            options=["Approve", "Reject"],
            params={"note": Param("", type="string", description="a note for the log")},
        )

        @task
        def report(answer: dict):
            log.info("CHOSEN=%s", ",".join(answer["chosen_options"]))
            log.info("NOTE=%s", (answer.get("params_input") or {}).get("note", ""))

        report(approve.output)

    example_hitl()
