"""Record a whole small deployment from a real harness server, for the UI fake.

    python -m tests.airflow.harness up 3 --seed --state /tmp/af3.json   # wait ~30 s for runs
    python -m tests.ui.record_deployment /tmp/af3.json tests/fixtures/ui/deployment_v2.json

Writes the raw JSON the server sent: version, the DAG list, every run (batch list), the task
instances of every run, and the logs of every finished try. Home paths become /airflow.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from urllib.parse import quote

from tests.airflow.harness import AirflowServer


def q(s: str) -> str:
    return quote(s, safe="")


def record(server: AirflowServer) -> dict:
    api = server.api
    out: dict = {"tis": {}, "logs": {}}
    with server.http_client(timeout=60, headers={"Accept": "application/json"}) as c:
        out["version"] = c.get(f"{api}/version").json()
        out["dags"] = c.get(f"{api}/dags", params={"limit": 100}).json()
        out["details"] = {
            d["dag_id"]: c.get(f"{api}/dags/{q(d['dag_id'])}/details").json()
            for d in out["dags"]["dags"]
        }
        body = {"page_limit": 1000, "order_by": "-run_after" if server.major == 3
                else "-execution_date"}
        out["runs"] = c.post(f"{api}/dags/~/dagRuns/list", json=body).json()
        for run in out["runs"]["dag_runs"]:
            key = f"{run['dag_id']} {run['dag_run_id']}"
            tis = c.get(f"{api}/dags/{q(run['dag_id'])}/dagRuns/{q(run['dag_run_id'])}"
                        "/taskInstances", params={"limit": 100}).json()
            out["tis"][key] = tis
            for ti in tis["task_instances"]:
                if ti["state"] in ("running", "queued", None) or ti["dag_id"] == "example_biglog":
                    continue
                for attempt in range(1, (ti["try_number"] or 0) + 1):
                    log = c.get(
                        f"{api}/dags/{q(ti['dag_id'])}/dagRuns/{q(ti['dag_run_id'])}"
                        f"/taskInstances/{q(ti['task_id'])}/logs/{attempt}",
                        params={"map_index": ti["map_index"]},
                    ).json()
                    out["logs"][f"{key} {ti['task_id']} {ti['map_index']} {attempt}"] = log
    return out


def main() -> None:
    server = AirflowServer.from_json(Path(sys.argv[1]).read_text())
    data = record(server)
    text = json.dumps(data, indent=1, sort_keys=True)
    text = re.sub(re.escape(server.home), "/airflow", text)
    Path(sys.argv[2]).parent.mkdir(parents=True, exist_ok=True)
    Path(sys.argv[2]).write_text(text + "\n")
    print(f"wrote {sys.argv[2]}: {len(data['runs']['dag_runs'])} runs, {len(data['logs'])} logs")


if __name__ == "__main__":
    main()
