"""The DAG list's refresh (watch/feeds.py `DagListFeed`, issue 19), under plain asyncio against
the recorded fake deployment (tests/ui/fake.py, shapes of Airflow 3.3.2):

* between full reads each poll is a cheap check (`AirflowClient.dags_mark`: the DAG count, the
  paused count and the DAG version count, one item each) and the list is read whole only when
  it moved, when the user asks, or every FULL_READ_SECONDS;
* a DAG with a new run is read again on its own (its next run moved);
* a list of several pages shows its pages while the first read goes on.

Request counts are the point. Tests wait for polls to happen, never for a time."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

import astro_tui.watch.feeds as feeds
from astro_tui.airflow.dialect import dialect_for
from astro_tui.airflow.models import Dag, DagsMark, Version
from astro_tui.watch.events import DagList, DagsChanged, PollFailed
from astro_tui.watch.watcher import Watcher
from tests.conftest import until
from tests.ui.fake import FakeDeployment
from tests.unit.test_watcher import API, DAGS, DEADLINE, SETTINGS, Events, hits

FAST = replace(SETTINGS, dags_seconds=0.2)
VERSIONS = f"{API}/dags/~/dagVersions"


def pages(fake: FakeDeployment) -> int:
    """Pages of the whole DAG list read (a full read of the fake is one page)."""
    return hits(fake, DAGS, limit="100", offset="0")


def checks(fake: FakeDeployment) -> int:
    """Cheap checks made (each asks for the paused count once)."""
    return hits(fake, DAGS, limit="1", paused="true")


@pytest.fixture
def fake() -> FakeDeployment:
    return FakeDeployment()


async def watch(fake: FakeDeployment, settings=FAST) -> tuple[Watcher, Events]:
    w = Watcher(fake.connect, settings)
    w.start()
    events = Events()
    w.subscribe(DagList(), events)
    await until(lambda: [e for e in events.of(DagsChanged) if not e.partial], "the DAG list")
    return w, events


async def more_checks(fake: FakeDeployment, n: int) -> None:
    start = checks(fake)
    await until(lambda: checks(fake) >= start + n, f"{n} more cheap checks")


async def test_an_unchanged_list_is_checked_not_read_again(fake):
    w, _ = await watch(fake)
    try:
        assert pages(fake) == 1 and hits(fake, VERSIONS) == 1  # counted before the read
        await more_checks(fake, 3)
        assert pages(fake) == 1
        # each check: the count, the paused count, the versions (one item each)
        assert hits(fake, VERSIONS) == 1 + checks(fake)
        assert all(r.url.params.get("limit") == "1" for r in fake.requests
                   if r.url.path == VERSIONS)
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_dag_paused_elsewhere_brings_a_full_read(fake):
    w, events = await watch(fake)
    try:
        await more_checks(fake, 1)
        dag = next(d for d in fake.dags if not d["is_paused"])
        dag["is_paused"] = True  # (by someone else, in the web UI)
        await until(lambda: events.last(DagsChanged).dags[dag["dag_id"]].is_paused,
                    "the pause shown")
        assert pages(fake) == 2
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_new_dag_version_brings_a_full_read(fake):
    w, events = await watch(fake)
    try:
        await more_checks(fake, 1)
        fake.dags[0]["tags"] = [{"name": "moved", "dag_id": fake.dags[0]["dag_id"]}]
        fake.dag_versions += 1  # its code changed: parsed, a new version
        await until(lambda: "moved" in events.last(DagsChanged).dags[fake.dags[0]["dag_id"]].tags,
                    "the new tag shown")
        assert pages(fake) == 2
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_dag_added_brings_a_full_read(fake):
    w, events = await watch(fake)
    try:
        await more_checks(fake, 1)
        fake.dags.append({**fake.dags[0], "dag_id": "brand_new"})
        await until(lambda: "brand_new" in events.last(DagsChanged).dags, "the new DAG shown")
        assert pages(fake) == 2
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_dag_with_a_new_run_is_read_again_alone(fake):
    """Its next run moved (the scheduler made the run): one request for it, no full read."""
    w, events = await watch(fake)
    try:
        dag = next(d for d in fake.dags if d["dag_id"] == "example_cron")
        dag["next_dagrun_run_after"] = "2026-11-26T00:00:00+00:00"
        fake.add_run("example_cron", "scheduled__2026-11-25T00:00:00+00:00", "running",
                     "2026-11-25T10:09:00+00:00")
        await until(lambda: events.last(DagsChanged).dags["example_cron"].next_run is not None
                    and events.last(DagsChanged).dags["example_cron"].next_run.day == 26,
                    "the next run moved")
        assert hits(fake, f"{DAGS}/example_cron") == 1
        await more_checks(fake, 2)
        assert hits(fake, f"{DAGS}/example_cron") == 1  # once
        assert pages(fake) == 1
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_dag_deleted_before_its_own_read_brings_a_full_read(fake):
    """It had a new run, then it was deleted and another DAG added (the counts did not move):
    its one-by-one read finds it gone, and the list is read whole instead, with no failure."""
    w, events = await watch(fake)
    try:
        await more_checks(fake, 1)
        gone = next(d for d in fake.dags if d["dag_id"] == "example_cron")
        fake.add_run("example_cron", "scheduled__2026-11-25T00:00:00+00:00", "running",
                     "2026-11-25T10:09:00+00:00")
        fake.dags[fake.dags.index(gone)] = {**gone, "dag_id": "brand_new"}
        await until(lambda: "brand_new" in events.last(DagsChanged).dags, "the new DAG shown")
        assert "example_cron" not in events.last(DagsChanged).dags
        assert hits(fake, f"{DAGS}/example_cron") == 1 and pages(fake) == 2
        assert not events.of(PollFailed)
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_many_dags_with_new_runs_bring_a_full_read(fake, monkeypatch):
    monkeypatch.setattr(feeds, "MOVED_MAX", 0)
    w, _ = await watch(fake)
    try:
        fake.add_run("example_cron", "scheduled__2026-11-25T00:00:00+00:00", "running",
                     "2026-11-25T10:09:00+00:00")
        await until(lambda: pages(fake) == 2, "a full read")
        assert hits(fake, f"{DAGS}/example_cron") == 0
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_the_list_is_read_whole_now_and_then_anyway(fake, monkeypatch):
    """What the check cannot see (an owner edited without a new version on Airflow 2, a pause
    swapped for another) shows after FULL_READ_SECONDS at the latest."""
    monkeypatch.setattr(feeds, "FULL_READ_SECONDS", 0.0)
    w, _ = await watch(fake)
    try:
        await until(lambda: pages(fake) >= 3, "full reads without a change")
        assert checks(fake) == 0
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_refresh_reads_the_list_whole(fake):
    w, _ = await watch(fake, SETTINGS)  # (30 s: no poll of its own meanwhile)
    try:
        w.refresh("dags")
        await until(lambda: pages(fake) == 2, "a full read")
        assert checks(fake) == 0
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_big_list_shows_its_pages_while_it_is_read(fake):
    fake.dags += [{**fake.dags[0], "dag_id": f"gen_{i:03}"} for i in range(850)]  # 859
    w = Watcher(fake.connect, SETTINGS)
    events = Events()
    w.start()
    w.subscribe(DagList(), events)
    try:
        await until(lambda: [e for e in events.of(DagsChanged) if not e.partial], "the list")
        seen = events.of(DagsChanged)
        early, whole = seen[0], seen[-1]
        assert early.partial and not whole.partial
        assert 100 <= len(early.dags) < len(fake.dags)
        assert not early.latest and set(early.unknown) == set(early.dags)  # "…", not "—"
        assert len(whole.dags) == len(fake.dags) and whole.latest
        assert all(e.partial for e in seen[:-1])
        # shown each time the pages read have doubled (each repaint costs the event loop)
        assert [len(e.dags) for e in seen[:-1]] == [100, 200, 400, 800]
        assert hits(fake, DAGS, offset="0", limit="100") == 1  # no page read twice
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_one_page_list_comes_whole(fake):
    w = Watcher(fake.connect, SETTINGS)
    events = Events()
    w.start()
    w.subscribe(DagList(), events)
    try:
        await until(lambda: events.of(DagsChanged), "the list")
        assert not events.of(DagsChanged)[0].partial
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


def test_the_mark_of_a_list_read_whole():
    dags = [Dag.from_json({"dag_id": "a", "is_paused": True}), Dag.from_json({"dag_id": "b"})]
    assert DagsMark.of(dags, 7) == DagsMark(2, 1, 7)


def test_dag_versions_are_airflow_3s():
    assert dialect_for(Version.parse("2.11.2")).list_dag_versions(limit=1) is None
    op: Any = dialect_for(Version.parse("3.0.6")).list_dag_versions(limit=1)
    assert op.path == ("dags", "~", "dagVersions") and op.params == {"limit": 1}


async def test_a_slow_list_is_read_whole_at_most_every_three_read_times(fake):
    """However often the check sees it move (issue 13: a 5,000-DAG list takes 25 s to read)."""
    w, events = await watch(fake)
    try:
        feed = w._feeds[DagList()]
        assert isinstance(feed, feeds.DagListFeed)
        feed.full_took = 3600.0  # as if the last full read had taken an hour
        dag = next(d for d in fake.dags if not d["is_paused"])
        dag["is_paused"] = True
        await more_checks(fake, 3)  # it moved, three times over: still no full read
        assert pages(fake) == 1
        feed.full_took = 0.0
        await until(lambda: events.last(DagsChanged).dags[dag["dag_id"]].is_paused,
                    "the pause shown")
        assert pages(fake) == 2
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)
