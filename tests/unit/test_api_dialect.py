"""What each dialect sends: paths, params and bodies that differ between v1 and v2."""

from datetime import datetime, timezone

import pytest

from astro_tui.airflow.dialect import DialectV1, DialectV2, dialect_for
from astro_tui.airflow.models import Version

V1 = DialectV1(Version(2, 11, 2))
V2 = DialectV2(Version(3, 3, 2))
WHEN = datetime(2026, 5, 1, 10, tzinfo=timezone.utc)


def test_dialect_for():
    assert isinstance(dialect_for(Version(2, 10, 5)), DialectV1)
    assert isinstance(dialect_for(Version(3, 0, 0)), DialectV2)
    assert V1.api_prefix == "/api/v1" and V2.api_prefix == "/api/v2"


def test_trigger_bodies():
    assert V2.trigger("d", {"a": 1}).json == {"logical_date": None, "conf": {"a": 1}}
    assert V1.trigger("d", {"a": 1}).json == {"conf": {"a": 1}}
    assert "logical_date" not in V1.trigger("d", None).json
    full = V1.trigger("d", {}, logical_date=WHEN, run_id="my", note="n").json
    assert full == {"logical_date": "2026-05-01T10:00:00+00:00", "conf": {}, "dag_run_id": "my", "note": "n"}
    assert V2.trigger("d", {}, logical_date=WHEN).json["logical_date"] == "2026-05-01T10:00:00+00:00"
    for d in (V1, V2):
        op = d.trigger("d", {})
        assert op.method == "POST" and op.path == ("dags", "d", "dagRuns") and not op.retry
    with pytest.raises(ValueError):
        V2.trigger("d", {}, logical_date=datetime(2026, 1, 1))  # naive


def test_runs_newest_first_and_filters():
    v1 = V1.list_runs("d", limit=25, offset=0, states=["running"], updated_at_gte=WHEN)
    v2 = V2.list_runs("d", limit=25, offset=0)
    assert v1.params["order_by"] == "-execution_date" and v2.params["order_by"] == "-run_after"
    assert v1.params["state"] == ["running"] and v1.params["updated_at_gte"].startswith("2026-05-01")
    assert v1.retry and v2.retry


def test_batch_runs_is_a_retryable_post():
    for d, order in ((V1, "-execution_date"), (V2, "-run_after")):
        op = d.list_runs_batch(["a", "b"], limit=100, offset=0, states=["running", "queued"])
        assert op.method == "POST" and op.path == ("dags", "~", "dagRuns", "list") and op.retry
        assert op.json == {"order_by": order, "page_offset": 0, "page_limit": 100,
                           "dag_ids": ["a", "b"], "states": ["running", "queued"]}


def test_list_dags_params():
    v1 = V1.list_dags(offset=0, limit=100, pattern="etl", tags=["a", "b"], paused=False)
    assert v1.params == {"limit": 100, "offset": 0, "order_by": "dag_id", "only_active": "true",
                         "dag_id_pattern": "etl", "tags": ["a", "b"], "paused": "false"}
    v2 = V2.list_dags(offset=100, limit=100)
    assert v2.params == {"limit": 100, "offset": 100, "order_by": "dag_id", "exclude_stale": "true"}


def test_clear_bodies_are_explicit():
    for d in (V1, V2):
        op = d.clear_task_instances("d", "r", ["load"], dry_run=False, include_downstream=True)
        assert op.json == {"dry_run": False, "dag_run_id": "r", "task_ids": ["load"],
                           "only_failed": False, "only_running": False, "include_upstream": False,
                           "include_downstream": True, "include_future": False,
                           "include_past": False, "reset_dag_runs": True}
        assert op.path == ("dags", "d", "clearTaskInstances") and not op.retry
    assert V1.clear_task_instances("d", "r", ["t"], dry_run=True).json["dry_run"] is True


def test_task_state_patch():
    v1 = V1.set_task_state("d", "r", "g.t", "success", -1)
    assert v1.method == "PATCH" and v1.path[-1] == "g.t"
    assert v1.json == {"new_state": "success", "dry_run": False} and not v1.params
    v1m = V1.set_task_state("d", "r", "t", "failed", 2)
    assert v1m.path[-2:] == ("t", "2")
    v2 = V2.set_task_state("d", "r", "t", "failed", 2)
    assert v2.path[-1] == "t" and v2.params == {"update_mask": "new_state", "map_index": 2}
    assert v2.json == {"new_state": "failed"} and not v2.retry


def test_run_state_and_pause():
    assert V1.set_run_state("d", "r", "failed").json == {"state": "failed"}
    assert not V1.set_run_state("d", "r", "failed").params
    v2 = V2.set_run_state("d", "r", "success")
    assert v2.params == {"update_mask": "state"} and v2.json == {"state": "success"}
    for d in (V1, V2):
        op = d.set_paused("d", True)
        assert op.method == "PATCH" and op.params == {"update_mask": "is_paused"}
        assert op.json == {"is_paused": True}


def test_log_request():
    for d in (V1, V2):
        op = d.read_log("d", "r", "t", 2, map_index=1, token="tok")
        assert op.headers == {"Accept": "application/json"}
        assert op.path[-3:] == ("t", "logs", "2") and op.params == {"map_index": 1, "token": "tok"}
    assert V2.read_log("d", "r", "t", 1, full_content=True).params == {"map_index": -1, "full_content": "true"}


def test_task_instances_paging():
    assert "order_by" not in V1.list_task_instances("d", "r", limit=100, offset=0).params
    assert V2.list_task_instances("d", "r", limit=100, offset=0).params["order_by"] == "map_index"
    assert V1.get_task_instance("d", "r", "t", 3).path[-2:] == ("t", "3")
    assert V2.get_task_instance("d", "r", "t", -1).path[-1] == "t"


def test_health_paths():
    assert V1.health_paths == ("/api/v1/health", "/health")
    assert V2.health_paths == ("/api/v2/monitor/health",)


def test_clear_run_bodies():
    v2 = V2.clear_run("d", "r", dry_run=True)
    assert v2.method == "POST" and v2.path == ("dags", "d", "dagRuns", "r", "clear")
    assert v2.json == {"dry_run": True, "only_failed": False} and not v2.retry
    assert V2.clear_run("d", "r", dry_run=False, only_failed=True).json == {
        "dry_run": False, "only_failed": True}
    v1 = V1.clear_run("d", "r", dry_run=False)
    assert v1.path == ("dags", "d", "dagRuns", "r", "clear") and v1.json == {"dry_run": False}
    # v1's run-clear body has no only_failed: that option goes through clearTaskInstances.
    v1f = V1.clear_run("d", "r", dry_run=True, only_failed=True)
    assert v1f.path == ("dags", "d", "clearTaskInstances") and not v1f.retry
    assert v1f.json["dag_run_id"] == "r" and v1f.json["only_failed"] is True
    assert v1f.json["reset_dag_runs"] is True and v1f.json["dry_run"] is True
    assert "task_ids" not in v1f.json
