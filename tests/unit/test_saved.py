"""The saved DAG list (astro_tui/watch/saved.py) and the Watcher painting it at once, marked with
its age, until the server's list replaces it whole (tests/ui/fake.py: the recorded deployment)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from datetime import datetime, timedelta, timezone

import pytest

from astro_tui.airflow.models import Dag, DagRun
from astro_tui.watch.events import DagList, DagsChanged
from astro_tui.watch.saved import MAX_RECENT_RUNS, DagListStore
from astro_tui.watch.watcher import Watcher
from tests.conftest import until
from tests.ui.fake import FakeDeployment
from tests.unit.test_watcher import DEADLINE, SETTINGS, Events

SAVED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTRO_TUI_STATE_DIR", str(tmp_path / "state"))


def runs_of(fake: FakeDeployment) -> list[DagRun]:
    return [DagRun.from_json(r) for r in fake.runs]


def saved(fake: FakeDeployment) -> tuple[dict[str, Dag], dict[str, DagRun], dict]:
    dags = {d["dag_id"]: Dag.from_json(d) for d in fake.dags}
    runs = runs_of(fake)
    latest: dict[str, DagRun] = {}
    recent: dict[str, list[DagRun]] = {}
    for run in runs:
        latest.setdefault(run.dag_id, run)
        recent.setdefault(run.dag_id, []).append(run)
    return dags, latest, recent


def test_the_list_round_trips_privately_without_confs():
    fake = FakeDeployment()
    dags, latest, recent = saved(fake)
    store = DagListStore("prod")
    store.save(SAVED_AT, dags, latest, recent)
    back = DagListStore("prod").load()
    assert back is not None and back.saved_at == SAVED_AT
    assert back.dags == dags
    assert {k: (r.run_id, r.state, r.end_date) for k, r in back.latest.items()} == {
        k: (r.run_id, r.state, r.end_date) for k, r in latest.items()}
    assert all(r.conf is None and r.note is None for r in back.latest.values())
    assert '"conf"' not in store.path.read_text()  # (the key; a description may say conf)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert DagListStore("staging", store.path).load() is None  # another profile's file


@pytest.mark.parametrize("text", ["", "{", "[]", '{"version": 1, "profile": "prod"}',
                                  '{"version": 2, "profile": "prod", "saved_at": "x"}',
                                  '{"version": 1, "profile": "prod", "saved_at": "nope", '
                                  '"dags": [], "latest": [], "recent": []}',
                                  '{"version": 1, "profile": "prod", "saved_at": '
                                  '"2026-12-01T09:00:00Z", "dags": 3, "latest": [], "recent": []}'])
def test_a_damaged_file_is_no_cache(text):
    store = DagListStore("prod")
    store.path.parent.mkdir(parents=True)
    store.path.write_text(text)
    assert store.load() is None


def test_the_recent_runs_kept_are_bounded():
    run = DagRun.from_json({"dag_id": "d", "dag_run_id": "r", "state": "success"})
    many = {"d": [DagRun.from_json({"dag_id": "d", "dag_run_id": f"r{n}", "state": "success",
                                    "run_after": (SAVED_AT - timedelta(minutes=n)).isoformat()})
                  for n in range(MAX_RECENT_RUNS + 500)]}
    store = DagListStore("prod")
    store.save(SAVED_AT, {"d": Dag.from_json({"dag_id": "d"})}, {"d": run}, many)
    doc = json.loads(store.path.read_text())
    assert len(doc["recent"]) == MAX_RECENT_RUNS and doc["recent"][0]["dag_run_id"] == "r0"


async def test_the_watcher_shows_the_saved_list_at_once_then_the_servers():
    fake = FakeDeployment()
    dags, latest, recent = saved(fake)
    # in the saved list example_long was still running; the server now says it failed
    long_run = latest["example_long"]
    fake.run("example_long")["state"] = "failed"
    gate = asyncio.Event()

    async def slow_connect():
        await gate.wait()
        return await fake.connect()

    watcher = Watcher(slow_connect, SETTINGS)
    watcher.cache.seed(SAVED_AT, dags, latest, recent)
    watcher.start()
    events = Events()
    try:
        watcher.subscribe(DagList(), events)
        first = await until(lambda: events.last(DagsChanged), "the saved list")
        assert first.cached_at == SAVED_AT and first.dags.keys() == dags.keys()
        assert first.latest["example_long"].state == long_run.state == "running"
        assert fake.requests == []  # painted before any request
        gate.set()
        fresh = await until(lambda: [e for e in events.of(DagsChanged) if e.cached_at is None],
                            "the server's list")
        assert fresh[0].latest["example_long"].state == "failed"
        assert watcher.cache.cached_at is None
    finally:
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


def test_unknown_last_runs_are_kept_as_unknown_not_as_never_ran():
    """Issue 19: a DAG whose last run was not read yet comes back as such (with the state the
    server's filter told), so the next start does not paint it as "never ran"."""
    fake = FakeDeployment()
    dags, latest, recent = saved(fake)
    del latest["example_fail"], latest["example_long"]
    store = DagListStore("prod")
    store.save(SAVED_AT, dags, latest, recent,
               {"example_fail": "failed", "example_long": None, "gone": None})
    back = DagListStore("prod").load()
    assert back is not None and back.unknown == {"example_fail": "failed", "example_long": None}
    doc = json.loads(store.path.read_text())
    del doc["unknown"]  # a file of before: none unknown
    store.path.write_text(json.dumps(doc))
    back = DagListStore("prod").load()
    assert back is not None and back.unknown == {}
