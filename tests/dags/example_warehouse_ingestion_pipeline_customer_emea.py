"""Airflow example DAG for astro-tui (tests only): a 50-character DAG id that differs from its
twin only at the end (_emea / _apac), and task groups nested 3 deep whose task ids share a long
prefix. Rows cut at a fixed width would all look the same (issue 15)."""
from __future__ import annotations

from datetime import datetime, timezone

try:  # Airflow 3
    from airflow.sdk import dag, task, task_group
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task, task_group

REGION = "emea"


@dag(
    dag_id=f"example_warehouse_ingestion_pipeline_customer_{REGION}",
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    tags=["demo", "long-ids"],
    description="A long DAG id and task groups nested 3 deep",
)
def pipeline():
    @task_group(group_id="extract_stage")
    def extract_stage():
        @task_group(group_id="validate_partitions")
        def validate_partitions():
            @task_group(group_id="regional_checks")
            def regional_checks():
                @task
                def check_row_counts():
                    print(f"{REGION}: row counts ok")

                @task
                def check_null_ratios():
                    print(f"{REGION}: null ratios ok")

                @task
                def check_duplicates():
                    print(f"{REGION}: no duplicates")

                check_row_counts() >> check_null_ratios() >> check_duplicates()

            regional_checks()

        validate_partitions()

    extract_stage()


pipeline()
