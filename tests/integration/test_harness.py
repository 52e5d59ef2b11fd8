"""Proof that the harness gives real, working Airflow servers (plain httpx, no app code)."""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.integration

EXAMPLE_DAGS = {
    "example_success", "example_fail", "example_params", "example_long", "example_biglog",
    "example_mapped", "example_taskgroup", "example_hostile", "example_cron",
}


def test_version_is_detected_from_the_real_api(server):
    with server.http_client(timeout=30) as c:
        r = c.get(f"{server.api}/version")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    version = r.json()["version"]
    assert int(version.split(".")[0]) == server.major
    assert version == server.version


def test_the_other_api_generation_is_not_served(server):
    other = 1 if server.major == 3 else 2
    with server.http_client(timeout=30) as c:
        r = c.get(f"{server.url}/api/v{other}/version")
    is_json_version = (
        r.status_code == 200
        and r.headers.get("content-type", "").startswith("application/json")
        and "version" in r.json()
    )
    assert not is_json_version


def test_dag_list_includes_every_example_dag(server):
    with server.http_client(timeout=30) as c:
        r = c.get(f"{server.api}/dags", params={"limit": 100})
    r.raise_for_status()
    listed = {d["dag_id"] for d in r.json()["dags"]}
    assert EXAMPLE_DAGS <= listed


def test_the_api_refuses_requests_without_credentials(server):
    import httpx

    r = httpx.get(f"{server.api}/dags", timeout=30)
    assert r.status_code in (401, 403)


def test_triggered_params_dag_succeeds_and_logs_its_conf(server):
    conf = {"name": "harness", "count": 2, "flag": True, "color": "blue"}
    body: dict = {"conf": conf}
    if server.major == 3:
        body["logical_date"] = None
    with server.http_client(timeout=60) as c:
        c.patch(f"{server.api}/dags/example_params", json={"is_paused": False}).raise_for_status()
        r = c.post(f"{server.api}/dags/example_params/dagRuns", json=body)
        assert r.status_code == 200, r.text
        run_id = r.json()["dag_run_id"]
        deadline = time.monotonic() + 180
        state = None
        while time.monotonic() < deadline:
            state = c.get(f"{server.api}/dags/example_params/dagRuns/{run_id}").json()["state"]
            if state in ("success", "failed"):
                break
            time.sleep(0.5)
        assert state == "success"
        log = c.get(
            f"{server.api}/dags/example_params/dagRuns/{run_id}/taskInstances/show_conf/logs/1",
            headers={"Accept": "application/json"},
        )
        log.raise_for_status()
    assert "CONF=" + json.dumps(conf, sort_keys=True) in str(log.json()["content"]).replace(
        '\\"', '"'
    )
