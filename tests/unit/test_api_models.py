"""Tolerant parsing of v1 and v2 shapes into the normalized models."""

from datetime import datetime, timezone

import pytest

from astro_tui.airflow.models import (
    Dag,
    DagDetails,
    DagImportError,
    DagRun,
    Health,
    ParamSpec,
    TaskInstance,
    Version,
    parse_datetime,
)
from tests.unit.api_fake import V1_DAG, V1_RUN, V1_TI, V2_DAG, V2_RUN, V2_TI


@pytest.mark.parametrize("raw, expect", [
    ("3.3.2", (3, 3, 2)), ("2.10.5+astro.4", (2, 10, 5)), ("3.1.7+astro.1", (3, 1, 7)),
    ("3.0.0rc1", (3, 0, 0)), ("3.0.0.dev0", (3, 0, 0)), ("3", (3, 0, 0)), ("v2.11", (2, 11, 0)),
])
def test_version_parse(raw, expect):
    v = Version.parse(raw)
    assert v.as_tuple == expect and v.raw == raw and str(v) == raw


def test_version_order_ignores_raw():
    assert Version.parse("3.3.1") >= Version(3, 3, 1)
    assert Version.parse("3.2.2+astro.1") < Version(3, 3, 1)
    with pytest.raises(ValueError):
        Version.parse("latest")


def test_datetimes_z_and_offsets():
    a = parse_datetime("2026-11-25T08:32:28.578077Z")
    b = parse_datetime("2026-11-25T08:32:28.578077+00:00")
    assert a == b and a.tzinfo is not None
    assert parse_datetime("2026-11-25T08:48:39.502+0000").tzinfo is not None
    assert parse_datetime(None) is None and parse_datetime("garbage") is None


def test_dag_v2():
    d = Dag.from_json(V2_DAG)
    assert d.dag_id == "example_params" and d.display_name == "example_params"
    assert d.is_paused is True and d.tags == ["demo"] and d.owners == ["team"]
    assert d.schedule == "Never, external triggers only" and d.next_run is None
    assert d.has_import_errors is False and d.fileloc.endswith("example_params.py")


def test_dag_v1():
    d = Dag.from_json(V1_DAG)
    assert d.dag_id == "example_biglog" and d.tags == ["demo"] and d.is_paused is True


def test_dag_schedule_fallbacks_and_next_run():
    d = Dag.from_json({"dag_id": "c", "timetable_summary": "0 * * * *",
                       "next_dagrun_run_after": "2026-01-01T01:00:00Z"})
    assert d.schedule == "0 * * * *" and d.display_name == "c"
    assert d.next_run == datetime(2026, 1, 1, 1, tzinfo=timezone.utc)
    v1 = Dag.from_json({"dag_id": "c", "schedule_interval": {"__type": "CronExpression", "value": "@daily"},
                        "next_dagrun_create_after": "2026-01-02T00:00:00+00:00", "tags": None})
    assert v1.schedule == "@daily" and v1.tags == [] and v1.next_run.day == 2
    td = Dag.from_json({"dag_id": "t", "schedule_interval": {"__type": "TimeDelta", "days": 1, "seconds": 0, "microseconds": 0}})
    assert td.schedule == "every 1 day, 0:00:00"


def test_dag_minimal_and_unknown_fields():
    d = Dag.from_json({"dag_id": "x", "brand_new_field": {"a": 1}})
    assert d.dag_id == "x" and d.is_paused is None and d.description is None and d.tags == []


def test_details_params_v1_class_shape():
    data = dict(V1_DAG, params={
        "n": {"__class": "airflow.models.param.Param", "value": 5, "description": "rows",
              "schema": {"type": "integer", "minimum": 1}},
        "plain": 7,
    })
    details = DagDetails.from_json(data)
    assert details.params["n"] == ParamSpec(5, "rows", {"type": "integer", "minimum": 1})
    assert details.params["plain"].value == 7 and details.params["plain"].schema == {}
    assert details.default_conf() == {"n": 5, "plain": 7}
    assert isinstance(details, Dag)


def test_details_params_v2_source_shape():
    data = dict(V2_DAG, params={
        "name": {"value": "world", "schema": {"type": "string"}, "description": "who to greet", "source": None},
        "count": {"value": None, "schema": {}, "source": "dag"},
    }, doc_md="# hi", active_runs_count=0)
    details = DagDetails.from_json(data)
    assert details.params["name"] == ParamSpec("world", "who to greet", {"type": "string"})
    assert details.params["count"] == ParamSpec(None, None, {})
    assert details.doc_md == "# hi"


def test_details_without_params():
    assert DagDetails.from_json({"dag_id": "x", "params": None}).params == {}


def test_run_v2():
    r = DagRun.from_json(V2_RUN)
    assert r.run_id.startswith("manual__") and r.state == "success" and r.logical_date is None
    assert r.run_after == parse_datetime("2026-11-25T08:32:23.270397Z")
    assert r.duration == 2.5 and r.conf == {"name": "demo", "count": 2}
    assert r.triggered_by == "rest_api" and r.external_trigger is None and r.finished


def test_run_v1_maps_execution_date_and_computes_duration():
    r = DagRun.from_json(V1_RUN)
    assert r.logical_date == r.run_after == parse_datetime("2026-11-25T08:36:21.365077+00:00")
    assert r.duration == pytest.approx(8.0)
    assert r.external_trigger is True and r.triggered_by is None
    only_exec = DagRun.from_json({"dag_id": "d", "dag_run_id": "r", "execution_date": "2026-01-01T00:00:00+00:00"})
    assert only_exec.run_after == only_exec.logical_date is not None


def test_run_minimal():
    r = DagRun.from_json({"dag_id": "d", "run_id": "r"})
    assert r.run_id == "r" and r.state is None and r.duration is None and r.conf is None


def test_ti_v2_prefers_operator_name():
    ti = TaskInstance.from_json(V2_TI)
    assert ti.operator == "@task" and ti.map_index == -1 and ti.try_number == 1
    assert ti.run_id == "manual__x" and ti.duration == 0.116 and ti.finished


def test_ti_v1():
    ti = TaskInstance.from_json(V1_TI)
    assert ti.operator == "_PythonDecoratedOperator" and ti.max_tries == 0 and ti.duration == 0.5


def test_ti_no_state_and_reference_shape():
    assert TaskInstance.from_json(dict(V1_TI, state="none")).state is None
    assert TaskInstance.from_json(dict(V2_TI, state=None)).state is None
    ref = TaskInstance.from_json({"task_id": "load", "dag_id": "d", "execution_date": "x", "dag_run_id": "r"})
    assert ref.map_index == -1 and ref.try_number is None and ref.state is None
    computed = TaskInstance.from_json({"task_id": "t", "start_date": "2026-01-01T00:00:00Z",
                                       "end_date": "2026-01-01T00:00:03Z"})
    assert computed.duration == 3.0


def test_import_error_both_versions():
    v1 = DagImportError.from_json({"import_error_id": 1, "timestamp": "2026-01-01T00:00:00+00:00",
                                   "filename": "/d/bad.py", "stack_trace": "Traceback ..."})
    v2 = DagImportError.from_json({"import_error_id": 2, "timestamp": "2026-01-01T00:00:00Z",
                                   "filename": "bad.py", "bundle_name": "dags-folder", "stack_trace": "T"})
    assert v1.import_error_id == 1 and v1.stack_trace.startswith("Traceback") and v1.bundle_name is None
    assert v2.bundle_name == "dags-folder"


def test_health():
    h = Health.from_json({"metadatabase": {"status": "healthy"},
                          "scheduler": {"status": "healthy", "latest_scheduler_heartbeat": "2026-11-25T08:00:00Z"},
                          "triggerer": {"status": None, "latest_triggerer_heartbeat": None},
                          "dag_processor": None})
    assert h.healthy and h.status_of("scheduler") == "healthy"
    assert h.components["scheduler"].latest_heartbeat is not None
    assert not Health.from_json({"scheduler": {"status": "unhealthy"}}).healthy


def test_models_are_frozen():
    d = Dag.from_json(V2_DAG)
    with pytest.raises(AttributeError):
        d.dag_id = "y"  # type: ignore[misc]
