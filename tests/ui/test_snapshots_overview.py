"""Snapshots of the overview at 80x24 and 120x40: a failed run with its first failed task, a
request waiting for a person, a running run, an import error, and two 50-character DAG ids that
differ only at the end.

Regenerate with `scripts/test tests/ui/test_snapshots_overview.py --snapshot-update`.
"""

from __future__ import annotations

import pytest

from tests.conftest import wait_for
from tests.ui.fake import FakeDeployment, make_app

SIZES = [(80, 24), (120, 40)]
LONG = "warehouse_ingestion_pipeline_for_customer_orders_{}"


def busy_deployment() -> FakeDeployment:
    fake = FakeDeployment()
    fake.import_errors.append({"import_error_id": 1, "timestamp": "2026-11-25T10:08:00Z",
                               "filename": "/dags/broken.py", "bundle_name": "dags-folder",
                               "stack_trace": "SyntaxError: invalid syntax"})
    fake.hitl_request("example_long", "manual__2026-11-25T10:06:45.775837+00:00", "approve",
                      "Ship the nightly report?", ["Approve", "Reject"])
    for region in ("emea", "apac"):
        fake.dags.append({**fake.dags[0], "dag_id": LONG.format(region),
                          "dag_display_name": LONG.format(region), "tags": []})
    return fake


async def _shown(pilot) -> None:
    ov = pilot.app.overview
    await wait_for(pilot, lambda: ov.dag_table.row_count == 11 and ov.inbox_table.row_count == 3
                   and "import error" in ov.health_strip.plain, what="the whole overview")
    await wait_for(pilot, lambda: "●" in ov.status.text, what="the status line")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_overview(snap_compare, size):
    app = make_app(busy_deployment(), landing="overview", clock=lambda: 1000.0)
    assert snap_compare(app, terminal_size=size, run_before=_shown)
