"""The monitor's headless commands (`failures`, `health`, `import-errors`, `status DAG latest`)
against the REAL Airflow 3 and Airflow 2 servers of the harness (each test once per server).

The broken DAG file of the import-error test is written into the running server's DAG folder
only for that test, and the test waits until the server has forgotten it again: it defines no
DAG, so DAG counts never change, and other tests see no import error.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from astro_tui.airflow import AirflowClient
from astro_tui.watch.inbox import read_failures
from tests.integration import test_cli_live
from tests.integration.test_cli_live import TIMEOUT, ok
from tests.integration.test_client import make_auth

pytestmark = pytest.mark.integration

# the CLI tests' fixtures: the connection in the environment, the CLI run in-process
conn_env, run_cli = test_cli_live.conn_env, test_cli_live.run_cli

BROKEN_FILE = "astro_tui_broken_import.py"
# Mentions airflow and dag (safe-mode discovery skips files that do not) and defines no DAG.
BROKEN_SOURCE = '''"""astro-tui integration test: an Airflow DAG file that fails to import."""
from airflow import DAG  # noqa: F401

raise RuntimeError("astro_tui_broken: intentional import error")
'''


def wait_until(cond: Any, what: str, timeout: float) -> Any:
    """Poll `cond()` until it returns something truthy (the server's own pace, no fixed sleep
    between assertions); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(1.0)


class Counting(httpx.AsyncHTTPTransport):
    """A real transport that records the API requests it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/api/"):
            self.sent.append((request.method, request.url.path))
        return await super().handle_async_request(request)


def test_a_failed_run_shows_in_failures_with_its_failed_task(server, run_cli):
    r = run_cli("trigger", "example_fail", "--unpause", "--wait", "--timeout", TIMEOUT)
    assert r.code == 3, (r.code, r.err)
    run_id = r.out.strip()

    doc = json.loads(ok(run_cli("failures", "--json", "--since", "2h")).out)
    rows = {(f["dag_id"], f["run_id"]): f for f in doc["failed"]}
    row = rows[("example_fail", run_id)]
    assert row["state"] == "failed" and row["end_date"] is not None
    task = row["first_failed_task"]
    assert (task["task_id"], task["label"], task["state"], task["try_number"]) == (
        "boom", "boom", "failed", 2)
    assert doc["failed_total"] >= 1 and doc["tasks_complete"] is True
    ends = [f["end_date"] for f in doc["failed"]]
    assert ends == sorted(ends, reverse=True)  # latest failure first

    table = ok(run_cli("failures", "--since", "2h")).out.splitlines()
    assert table[0].split()[:3] == ["DAG", "RUN", "STATE"]
    line = next(t for t in table if run_id in t)
    assert line.startswith("example_fail ") and line.split()[-1] == "boom"

    # nothing failed in the future: an empty inbox, still exit 0
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    empty = json.loads(ok(run_cli("failures", "--json", "--since", later)).out)
    assert empty["failed"] == [] and empty["failed_total"] == 0

    # `latest` is this run (example_fail has no schedule: only the tests trigger it)
    status = json.loads(ok(run_cli("status", "example_fail", "latest", "--json")).out)
    assert status["run_id"] == run_id and status["state"] == "failed"
    r = run_cli("status", "example_fail", "latest", "--wait", "--timeout", "30")
    assert r.code == 3 and f"run {run_id}: failed" in r.err


async def test_failures_costs_three_api_requests(server):
    """One page of failed runs, one of running/queued runs, one batch of failed TIs."""
    sent, inbox = await _count_failures(server)
    assert [m for m, _ in sent] == ["POST"] * 3, sent
    prefix = "/api/v2" if server.major == 3 else "/api/v1"
    assert [p for _, p in sent] == [prefix + "/dags/~/dagRuns/list"] * 2 + [
        prefix + "/dags/~/dagRuns/~/taskInstances/list"]
    assert any(row.first_failed is not None and row.first_failed.task_id == "boom"
               for row in inbox.failed if row.run.dag_id == "example_fail")


async def _count_failures(server) -> tuple[list[tuple[str, str]], Any]:
    transport = Counting()
    client = await AirflowClient.connect(server.url, auth=make_auth(server), transport=transport)
    try:
        since = datetime.now(timezone.utc) - timedelta(days=1)
        if not (await client.list_runs_batch(None, states=["failed"], limit=1,
                                             end_date_gte=since))[0]:
            await client.set_paused("example_fail", False)
            run = await client.trigger("example_fail")
            deadline = time.monotonic() + float(TIMEOUT)
            while not (await client.get_run("example_fail", run.run_id)).finished:
                assert time.monotonic() < deadline, "example_fail did not finish"
                await asyncio.sleep(1.0)
        transport.sent.clear()
        inbox = await read_failures(client, since, limit=25)
        return list(transport.sent), inbox
    finally:
        await client.aclose()


def test_health_reports_a_healthy_scheduler(server, run_cli):
    def healthy() -> Any:
        r = run_cli("health", "--json")
        return r if r.code == 0 else None  # a loaded machine may see a heartbeat late

    r = wait_until(healthy, "health to exit 0", 90)
    doc = json.loads(r.out)
    comps = doc["components"]
    assert doc["healthy"] is True
    assert comps["scheduler"]["status"] == "healthy" and comps["scheduler"]["ok"] is True
    assert comps["metadatabase"]["status"] == "healthy"
    assert 0 <= comps["scheduler"]["heartbeat_age_seconds"] < 120
    assert set(comps) >= {"metadatabase", "scheduler", "triggerer", "dag_processor"}
    assert isinstance(doc["import_errors"], int)
    human = ok(run_cli("health")).out
    assert any(line.split()[:2] == ["scheduler", "healthy"] for line in human.splitlines())
    assert "import errors: " in human


def _import_errors(run_cli) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = json.loads(ok(run_cli("import-errors", "--json")).out)
    return [e for e in errors if (e["filename"] or "").endswith(BROKEN_FILE)]


def test_a_broken_dag_file_shows_in_import_errors(server, run_cli):
    path = Path(server.home) / "dags" / BROKEN_FILE
    dags_before = {d["dag_id"] for d in json.loads(ok(run_cli("dags", "--json")).out)}
    path.write_text(BROKEN_SOURCE)
    try:
        found = wait_until(lambda: _import_errors(run_cli), "the import error", 180)
        assert "astro_tui_broken: intentional import error" in found[0]["stack_trace"]
        lines = ok(run_cli("import-errors")).out.splitlines()
        head = next(i for i, line in enumerate(lines) if BROKEN_FILE in line)
        trace = lines[head + 1:]
        assert trace and trace[0].startswith("    ")
        assert any("RuntimeError: astro_tui_broken" in line for line in trace)
        count = json.loads(ok(run_cli("health", "--json")).out)["import_errors"]
        assert count >= 1
        dags_now = {d["dag_id"] for d in json.loads(ok(run_cli("dags", "--json")).out)}
        assert dags_now == dags_before
    finally:
        path.unlink(missing_ok=True)
        wait_until(lambda: not _import_errors(run_cli), "the import error to go away", 180)
