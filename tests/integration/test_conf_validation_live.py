"""Issue 18: astro-tui's params check agrees with the real server, on Airflow 3 and Airflow 2.

Each conf of the table is checked three ways:
- locally: ``astro_tui.conf.check_conf`` with the params as the server's API reports them;
- by ``jsonschema`` directly, in the server's own venv (its jsonschema, its format packages):
  ``jsonschema.validate(value, schema, format_checker=FormatChecker())`` for each param;
- by the real server: a trigger of ``example_params_formats`` (paused, so its runs never start;
  each run made is deleted again), 200 or 400.

The local verdict must equal the server's on every case. jsonschema alone must equal it too,
except where Airflow 2's ``Param.resolve`` forgives a ``date-time`` that parses as ISO 8601
(cases marked ``af2_lenient``): that is why the local check reproduces Airflow and not only
jsonschema. The table is printed (``-s``) for the closing note.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from astro_tui.airflow.client import AirflowClient
from astro_tui.conf import blocking, check_conf, formats_for
from tests.integration.test_client import make_auth

pytestmark = pytest.mark.integration

DAG = "example_params_formats"

# (name, conf, af2_lenient): the expected verdicts are the servers' own, not written here
CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("defaults", {}, False),
    ("date ok (leap day)", {"day": "2024-02-29"}, False),
    ("date: no such day", {"day": "2024-02-30"}, False),
    ("date: not ISO", {"day": "31/01/2024"}, False),
    ("date-time ok (Z)", {"at": "2024-01-31T10:00:00Z"}, False),
    ("date-time: no offset", {"at": "2024-01-31T10:00:00"}, True),
    ("date-time: space, no offset", {"at": "2024-01-31 10:00"}, True),
    ("date-time: words", {"at": "tomorrow"}, False),
    ("date-time: date only", {"at": "2024-01-31"}, False),
    ("time ok", {"clock": "23:59:59"}, False),
    ("time: no seconds", {"clock": "10:30"}, False),
    ("time: hour 25", {"clock": "25:00:00"}, False),
    ("duration ok", {"every": "P1DT2H"}, False),
    ("duration: words", {"every": "1 day"}, False),
    ("email: no @", {"mail": "ops.example.com"}, False),
    ("idn-email: no @", {"idn_mail": "ops.example.com"}, False),
    ("ipv4: 256", {"ip4": "10.0.0.256"}, False),
    ("ipv6: bad digit", {"ip6": "::g"}, False),
    ("uuid: short", {"uid": "1234-5678"}, False),
    ("idn-hostname: bad label", {"host": "-bad-.example"}, False),
    ("regex: unbalanced", {"pattern": "("}, False),
    ("enum: not offered", {"color": "purple"}, False),
    ("enum ok (labelled)", {"color": "green"}, False),
    ("const: other value", {"api": "v3"}, False),
    ("null for an optional field", {"maybe": None}, False),
    ("null for a required integer", {"count": None}, False),
    ("integer: above maximum", {"count": 11}, False),
    ("integer: a string", {"count": "3"}, False),
    ("nested object: required key missing", {"target": {"port": 1}}, False),
    ("nested object: below minimum", {"target": {"host": "h", "port": 0}}, False),
    ("array of objects: item missing its key", {"rows": [{"n": 1}, {"x": 2}]}, False),
    ("array: too few items", {"rows": []}, False),
    ("examples are only suggestions", {"suggest": "zzz"}, False),
    ("a key that is not a param", {"unknown": [1, 2]}, False),
]

_DIRECT = r"""
import json, sys
import jsonschema
from jsonschema import FormatChecker
job = json.load(sys.stdin)
out = {"formats": sorted(FormatChecker().checkers), "verdicts": []}
for conf in job["confs"]:
    values = dict(job["defaults"], **conf)
    verdict = "ok"
    for name, schema in job["schemas"].items():
        try:
            jsonschema.validate(values[name], schema, format_checker=FormatChecker())
        except jsonschema.ValidationError:
            verdict = "refused"
            break
    out["verdicts"].append(verdict)
print(json.dumps(out))
"""


def _jsonschema_in_server_venv(server, details, confs: list[dict]) -> dict:
    job = {"schemas": {k: p.schema for k, p in details.params.items()},
           "defaults": {k: p.value for k, p in details.params.items()}, "confs": confs}
    python = Path(server.venv) / "bin" / "python"
    done = subprocess.run([str(python), "-c", _DIRECT], input=json.dumps(job), text=True,
                          capture_output=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _server_verdict(c, server, conf: dict) -> tuple[str, str]:
    body: dict[str, Any] = {"conf": conf}
    if server.major == 3:
        body["logical_date"] = None
    r = c.post(f"{server.api}/dags/{DAG}/dagRuns", json=body)
    if r.status_code == 200:
        c.delete(f"{server.api}/dags/{DAG}/dagRuns/{r.json()['dag_run_id']}").raise_for_status()
        return "ok", ""
    assert r.status_code == 400, (r.status_code, r.text[:300])
    return "refused", r.json().get("detail", "")


async def test_the_params_check_agrees_with_the_server(server):
    async with await AirflowClient.connect(server.url, auth=make_auth(server)) as client:
        details = await client.get_dag_details(DAG)
        version = client.version.as_tuple
        major = version[0]
    assert major == server.major and len(details.params) == 18
    direct = _jsonschema_in_server_venv(server, details, [conf for _, conf, _ in CASES])
    # the formats this server's FormatChecker checks are the ones astro-tui assumes for it
    assert tuple(direct["formats"]) == formats_for(version)

    rows, mismatches = [], []
    with server.http_client(timeout=60) as c:
        for (name, conf, lenient), raw in zip(CASES, direct["verdicts"], strict=True):
            local_problems = blocking(check_conf(conf, details.params, airflow=version))
            local = "refused" if local_problems else "ok"
            remote, why = _server_verdict(c, server, conf)
            rows.append((name, local, raw, remote, "; ".join(map(str, local_problems)), why))
            if local != remote:
                mismatches.append((name, local, remote, local_problems, why))
            if raw != remote:
                # only Airflow 2's date-time leniency separates plain jsonschema from the server
                assert lenient and major == 2 and (raw, remote) == ("refused", "ok"), (name, raw)
    print(f"\nAirflow {client.version}: case | local | jsonschema | server")
    for name, local, raw, remote, mine, _ in rows:
        print(f"  {name:40} | {local:7} | {raw:7} | {remote:7} | {mine[:90]}")
    assert not mismatches, mismatches
    verdicts = {r[3] for r in rows}
    assert verdicts == {"ok", "refused"}  # the table has both kinds on this server
    assert sum(r[3] == "refused" for r in rows) >= 15
