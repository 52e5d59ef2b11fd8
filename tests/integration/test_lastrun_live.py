"""Issue 19, against the REAL Airflow 3 and Airflow 2 of the harness: a DAG fails once, then more
than 1,000 newer runs are created on another, paused DAG (they are created at once and never
run). The DAG's last run is then older than the newest 1,000 runs of the deployment, and still:

* `dags --json` says "failed", with the run's id;
* the Watcher (the data layer, no Textual) gives it as the DAG's latest run: on Airflow 3 on its
  own (the DAG list's last-run filter flags it), on Airflow 2 once its row is in view
  (`want_latest`: Airflow 2 has no such filter);
* `failures` still lists it.

Every run the test creates is deleted at the end and the two DAGs get their paused state back
(the overview and inbox tests count queued runs).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest

import astro_tui.watch.lastrun as lastrun
from astro_tui.airflow import AirflowClient
from astro_tui.watch.events import DagList, DagsChanged
from astro_tui.watch.settings import LATEST_RUNS_WINDOW, Settings
from astro_tui.watch.watcher import Watcher
from tests.conftest import until
from tests.integration import test_cli_live
from tests.integration.test_cli_live import ok
from tests.integration.test_client import make_auth
from tests.integration.test_monitor_live import Counting

pytestmark = pytest.mark.integration

conn_env, run_cli = test_cli_live.conn_env, test_cli_live.run_cli

FAIL_DAG = "example_fail"
BULK_DAG = "example_warehouse_ingestion_pipeline_customer_apac"  # no other test uses it
BULK = LATEST_RUNS_WINDOW + 20
#: one write at a time: the harness's SQLite answers concurrent writes with "database is
#: locked" (HTTP 500)
WRITERS = 1


def _post_run(c: Any, api: str, dag_id: str, run_id: str, logical: datetime | None) -> None:
    body: dict[str, Any] = {"dag_run_id": run_id}
    if api.endswith("/v2"):
        body["logical_date"] = None  # (3.x: mandatory key; null: no logical date)
    else:
        body["logical_date"] = logical.isoformat() if logical else None
    for _attempt in range(3):  # (the scheduler writes too: SQLite may be busy; 409: it was
        r = c.post(f"{api}/dags/{dag_id}/dagRuns", json=body)  # created after all)
        if r.status_code != 500:
            break
    assert r.status_code in (200, 201, 409), (r.status_code, r.text)


@pytest.fixture
def scenario(server) -> Iterator[SimpleNamespace]:
    api = server.api
    stamp = datetime.now(timezone.utc)
    tag = stamp.strftime("%H%M%S%f")
    failed_id = f"lastrun_failed_{tag}"
    bulk_ids = [f"lastrun_bulk_{tag}_{i:04}" for i in range(BULK)]
    created: list[tuple[str, str]] = []
    with server.http_client(timeout=60) as c, ThreadPoolExecutor(WRITERS) as pool:
        paused = {d: c.get(f"{api}/dags/{d}").json()["is_paused"] for d in (FAIL_DAG, BULK_DAG)}
        try:
            for d in paused:  # queued runs of a paused DAG never start
                r = c.patch(f"{api}/dags/{d}", params={"update_mask": "is_paused"},
                            json={"is_paused": True})
                assert r.status_code == 200, r.text
            _post_run(c, api, FAIL_DAG, failed_id, stamp)
            created.append((FAIL_DAG, failed_id))
            r = c.patch(f"{api}/dags/{FAIL_DAG}/dagRuns/{failed_id}", json={"state": "failed"})
            assert r.status_code == 200 and r.json()["state"] == "failed", r.text
            t0 = time.monotonic()
            # Airflow 2 orders by logical date: the bulk runs' are later than the failed run's
            list(pool.map(lambda i: _post_run(c, api, BULK_DAG, bulk_ids[i],
                                              stamp + timedelta(minutes=1, seconds=i)),
                          range(BULK)))
            created += [(BULK_DAG, r) for r in bulk_ids]
            print(f"created {BULK} runs in {time.monotonic() - t0:.1f} s")
            yield SimpleNamespace(run_id=failed_id, server=server)
        finally:
            def delete(key: tuple[str, str]) -> int:
                for _attempt in range(3):  # (SQLite may be busy: 500)
                    code = c.delete(f"{api}/dags/{key[0]}/dagRuns/{key[1]}").status_code
                    if code != 500:
                        break
                return code

            codes = list(pool.map(delete, created))
            for d, was in paused.items():
                c.patch(f"{api}/dags/{d}", params={"update_mask": "is_paused"},
                        json={"is_paused": was})
            assert set(codes) <= {204, 404}, codes


@pytest.fixture
def per_dag_reads(monkeypatch) -> list[str]:
    """The DAGs whose newest run was read one request each (watch/lastrun.py)."""
    read: list[str] = []
    inner = lastrun.read_latest

    async def counted(client: AirflowClient, dag_id: str) -> Any:
        read.append(dag_id)
        return await inner(client, dag_id)

    monkeypatch.setattr(lastrun, "read_latest", counted)
    return read


def test_a_failed_run_older_than_the_newest_1000_still_says_failed(scenario, run_cli,
                                                                   per_dag_reads):
    server, run_id = scenario.server, scenario.run_id
    # the window really misses it: the newest 1,000 runs are all the bulk DAG's
    # (in pages of 100: one page of 1,000 twice in a row crashes 3.3.2's api-server)
    with server.http_client(timeout=60) as c:
        window = []
        for offset in range(0, LATEST_RUNS_WINDOW, 100):
            body = {"page_offset": offset, "page_limit": 100,
                    "order_by": "-run_after" if server.major == 3 else "-execution_date"}
            window += c.post(f"{server.api}/dags/~/dagRuns/list", json=body).json()["dag_runs"]
        assert len(window) == LATEST_RUNS_WINDOW
        assert {r["dag_id"] for r in window} == {BULK_DAG}

    dags = {d["dag_id"]: d for d in json.loads(ok(run_cli("dags", "--json")).out)}
    fail = dags[FAIL_DAG]
    assert fail["last_run_state"] == "failed" and fail["last_run_known"] is True
    assert fail["last_run"]["run_id"] == run_id and fail["last_run"]["state"] == "failed"
    assert dags[BULK_DAG]["last_run"]["state"] == "queued"
    # one read per DAG outside the window (a handful here; at most 200 a call), none of BULK_DAG
    assert BULK_DAG not in per_dag_reads and FAIL_DAG in per_dag_reads
    assert len(per_dag_reads) == len(set(per_dag_reads)) == len(dags) - 1
    cli_reads = len(per_dag_reads)

    table = ok(run_cli("dags", "--pattern", FAIL_DAG)).out.splitlines()
    row = next(line for line in table if line.startswith(FAIL_DAG + " "))
    assert "failed" in row.split() and run_id in row.split()

    failures = json.loads(ok(run_cli("failures", "--json", "--since", "1h")).out)
    assert any(r["dag_id"] == FAIL_DAG and r["run_id"] == run_id for r in failures["failed"])

    per_dag_reads.clear()
    found, sent = asyncio.run(_watch(server, run_id))
    assert found.state == "failed" and found.run_id == run_id
    assert per_dag_reads.count(FAIL_DAG) == 1
    print(f"dags --json: {cli_reads} per-DAG reads for {len(dags)} DAGs; Watcher:"
          f" {len(per_dag_reads)} per-DAG reads, requests until resolved: {sent}")


async def _watch(server: Any, run_id: str) -> tuple[Any, dict[str, int]]:
    transport = Counting()

    async def connect() -> AirflowClient:
        return await AirflowClient.connect(server.url, auth=make_auth(server),
                                           transport=transport, attempts=1)

    watcher = Watcher(connect, Settings(dags_seconds=60, runs_seconds=2))
    events: list[DagsChanged] = []
    watcher.start()
    sub = watcher.subscribe(DagList(), lambda e: events.append(e)
                            if isinstance(e, DagsChanged) else None)
    try:
        first = await until(lambda: events and events[0], "the DAG list", timeout=120)
        assert FAIL_DAG not in first.latest  # older than the window: not known yet, and
        assert FAIL_DAG in first.unknown  # not claimed to have never run
        if server.major == 3:
            assert first.unknown[FAIL_DAG] == "failed"  # the filter tells at once
        else:
            assert first.unknown[FAIL_DAG] is None  # Airflow 2: nothing tells, until in view
            watcher.want_latest([FAIL_DAG])

        def resolved() -> Any:
            return events[-1].latest.get(FAIL_DAG)

        run = await until(resolved, f"{FAIL_DAG}'s last run", timeout=60)
        assert FAIL_DAG not in events[-1].unknown
        sent: dict[str, int] = {}
        for method, path in transport.sent:
            kind = "per-DAG runs" if path.endswith("/dagRuns") and "/~/" not in path else \
                f"{method} {path.split('/', 3)[-1]}"
            sent[kind] = sent.get(kind, 0) + 1
        return run, sent
    finally:
        sub.close()
        await asyncio.wait_for(watcher.aclose(), 30)
