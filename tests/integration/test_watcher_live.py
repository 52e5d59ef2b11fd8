"""The Watcher against the real Airflow 3, driven from a plain `asyncio.run(...)` script in its own
process (no Textual, no pytest event loop): it connects, delivers the DAG list, keeps polling
the changes, and closes without leaving a task, a client or a warning behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.airflow import harness

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DAGS = sorted(harness.example_dag_ids(3))

SCRIPT = r'''
import asyncio, json, os, sys

from astro_tui.config import Profile
from astro_tui.session import open_client
from astro_tui.watch.events import Connected, DagList, DagsChanged, PollFailed
from astro_tui.watch.settings import Settings
from astro_tui.watch.watcher import Watcher


async def main() -> dict:
    me = asyncio.current_task()
    before = asyncio.all_tasks()
    profile = Profile(name="it", url=os.environ["WATCH_URL"], auth="password",
                      username=os.environ["WATCH_USER"], secret="env:ASTRO_TUI_TEST_PASSWORD")
    watcher = Watcher(lambda: open_client(profile),
                      Settings(dags_seconds=30, runs_seconds=1, tasks_seconds=1, log_seconds=1))
    listened, events = [], []
    first = asyncio.get_running_loop().create_future()

    def on_dags(event):
        events.append(event)
        if isinstance(event, DagsChanged) and not first.done():
            first.set_result(event)

    watcher.listen(listened.append)
    watcher.start()
    sub = watcher.subscribe(DagList(), on_dags)
    dags = await asyncio.wait_for(first, 120)
    # The changes poll answers at least twice after the DAG list (every second).
    async def changes_answered(n):
        seen = set()
        while len(seen) < n:
            state = watcher.state("changes")
            if state.last_ok is not None:
                seen.add(state.last_ok)
            await asyncio.sleep(0.05)
    await asyncio.wait_for(changes_answered(2), 60)
    client = watcher.client
    during = len(asyncio.all_tasks() - before - {me})
    status = watcher.status()
    sub.close()
    await asyncio.wait_for(watcher.aclose(), 30)
    left = sorted(t.get_name() for t in asyncio.all_tasks() - before - {me})
    return {
        "dag_ids": sorted(dags.dags),
        "latest": sorted(dags.latest),
        "connected": [e.version for e in listened if isinstance(e, Connected)],
        "failed": [f"{e.kind}: {e.error}" for e in listened if isinstance(e, PollFailed)],
        "status": [status.connected, status.version, str(status.error) if status.error else None],
        "tasks_while_running": during,
        "tasks_left": left,
        "client_closed": client is not None and client.closed,
        "client_after": watcher.client is None,
        "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual.")),
        "feeds_after": len(watcher.topics()),
    }


print("RESULT " + json.dumps(asyncio.run(main())))
'''


def test_a_watcher_in_plain_asyncio_run_against_airflow3(airflow3, tmp_path):
    env = dict(os.environ, WATCH_URL=airflow3.url, WATCH_USER=airflow3.username,
               ASTRO_TUI_TEST_PASSWORD=airflow3.password, PYTHONWARNINGS="default",
               PYTHONPATH=str(ROOT), ASTRO_TUI_CONFIG=str(tmp_path / "config.toml"))
    script = tmp_path / "watch.py"
    script.write_text(SCRIPT)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, (proc.stdout[-2000:], proc.stderr[-3000:])
    result = json.loads(line[len("RESULT "):])

    assert set(DAGS) <= set(result["dag_ids"]), result["dag_ids"]
    assert set(result["latest"]) <= set(result["dag_ids"])
    assert result["connected"] == [airflow3.version], result["connected"]
    assert result["failed"] == [], result["failed"]
    assert result["status"] == [True, airflow3.version, None]
    assert result["tasks_while_running"] > 0  # the watcher did run tasks of its own
    assert result["tasks_left"] == [], result["tasks_left"]
    assert result["client_closed"] and result["client_after"]
    assert result["feeds_after"] == 0
    assert result["textual"] == [], "the Watcher must not import Textual"
    # No "Task was destroyed but it is pending", no unclosed transport or client.
    for warning in ("Task was destroyed", "ResourceWarning", "Unclosed", "never awaited"):
        assert warning not in proc.stderr, proc.stderr[-3000:]
