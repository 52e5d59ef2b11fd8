"""Each DAG's last run beyond the newest runs read (watch/lastrun.py, issue 19), under plain
asyncio against the recorded fake deployment (tests/ui/fake.py), with a window of 2 runs
instead of 1,000: the window holds example_params and example_hostile; example_fail's last run
failed and example_long's runs, outside it; example_biglog and example_cron never ran.

Request counts are the point: no request of its own for a DAG the window resolved, one per
DAG that matters, none twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from astro_tui.airflow.dialect import dialect_for
from astro_tui.airflow.errors import Unsupported
from astro_tui.airflow.models import Dag, DagRun, Version
from astro_tui.watch.cache import Cache
from astro_tui.watch.events import DagList, DagsChanged
from astro_tui.watch.watcher import Watcher
from tests.conftest import until
from tests.ui.fake import FakeDeployment
from tests.unit.test_watcher import DAGS, DEADLINE, SETTINGS, Events, changes_polls, hits

WINDOW = replace(SETTINGS, runs_window=2)
IN_WINDOW = ("example_params", "example_hostile")
FAIL_RUN = "manual__2026-11-25T10:06:45.688918+00:00"


def per_dag(fake: FakeDeployment) -> dict[str, int]:
    """Requests for one DAG's runs, by DAG."""
    found: dict[str, int] = {}
    for r in fake.requests:
        parts = r.url.path.split("/")
        if r.method == "GET" and len(parts) == 6 and parts[5] == "dagRuns" and parts[4] != "~":
            found[parts[4]] = found.get(parts[4], 0) + 1
    return found


def filtered(fake: FakeDeployment) -> list[str]:
    return [r.url.params["last_dag_run_state"] for r in fake.requests
            if r.url.path == DAGS and "last_dag_run_state" in r.url.params]


@pytest.fixture
def fake() -> FakeDeployment:
    return FakeDeployment()


async def watch(fake: FakeDeployment, settings=WINDOW) -> tuple[Watcher, Events]:
    w = Watcher(fake.connect, settings)
    w.start()
    events = Events()
    w.subscribe(DagList(), events)
    await until(lambda: events.of(DagsChanged), "the DAG list")
    return w, events


def last(events: Events) -> DagsChanged:
    return events.last(DagsChanged)


async def test_a_window_with_every_run_needs_nothing_more(fake):
    w, events = await watch(fake, SETTINGS)
    try:
        await changes_polls(fake, 3)
        e = last(events)
        assert e.unknown == {} and "example_cron" not in e.latest  # never ran, and says so
        assert per_dag(fake) == {} and filtered(fake) == []
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_failed_and_running_dags_outside_the_window_are_read_at_once(fake):
    w, events = await watch(fake)
    try:
        first = events.of(DagsChanged)[0]
        # Not "never ran": unknown, with the state the filter told (failed, running)
        assert set(first.unknown) == {"example_biglog", "example_cron", "example_fail",
                                      "example_long", "example_mapped", "example_success",
                                      "example_taskgroup"}
        assert first.unknown["example_fail"] == "failed"
        assert first.unknown["example_long"] == "running"
        assert first.unknown["example_cron"] is None
        assert sorted(filtered(fake)) == ["failed", "queued", "running"]
        await until(lambda: "example_fail" in last(events).latest, "example_fail read")
        await until(lambda: "example_long" in last(events).latest, "example_long read")
        e = last(events)
        assert e.latest["example_fail"].run_id == FAIL_RUN
        assert e.latest["example_fail"].state == "failed"
        assert "example_fail" not in e.unknown and "example_long" not in e.unknown
        await changes_polls(fake, 3)
        # the flagged two, once each; nothing for the window's DAGs nor the unflagged ones
        assert per_dag(fake) == {"example_fail": 1, "example_long": 1}
        assert w.state("lastrun") is not None
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_rows_in_view_are_read_once_each(fake):
    w, events = await watch(fake)
    try:
        await until(lambda: per_dag(fake).get("example_long"), "the flagged DAGs read")
        view = ["example_biglog", "example_cron", "example_mapped", "example_params"]
        w.want_latest(view)
        w.want_latest(view)  # scrolling back and forth: no more requests
        await until(lambda: not ({"example_biglog", "example_cron", "example_mapped"}
                                 & set(last(events).unknown)), "the rows in view read")
        e = last(events)
        assert e.latest["example_mapped"].state == "success"
        # never ran, and now known to: neither latest nor unknown ("—")
        assert "example_cron" not in e.latest and "example_cron" not in e.unknown
        w.want_latest(view + ["example_fail"])
        await changes_polls(fake, 3)
        counts = per_dag(fake)
        assert counts == {"example_fail": 1, "example_long": 1, "example_biglog": 1,
                          "example_cron": 1, "example_mapped": 1}, counts
        assert set(last(events).unknown) == {"example_success", "example_taskgroup"}
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_full_refresh_keeps_what_was_read_and_reads_nothing_again(fake):
    w, events = await watch(fake)
    try:
        w.want_latest(["example_cron"])
        await until(lambda: "example_cron" not in last(events).unknown, "cron read")
        await until(lambda: "example_fail" in last(events).latest, "example_fail read")
        before = len(events.of(DagsChanged))
        w.refresh("dags")
        await until(lambda: hits(fake, DAGS) >= 5, "the second full read")  # 1 + 3 + 1 + 3
        await until(lambda: len(events.of(DagsChanged)) > before, "its event")
        e = last(events)
        assert e.latest["example_fail"].run_id == FAIL_RUN
        assert "example_cron" not in e.unknown and "example_cron" not in e.latest
        await changes_polls(fake, 3)
        assert per_dag(fake) == {"example_fail": 1, "example_long": 1, "example_cron": 1}
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_new_run_of_an_unknown_dag_makes_it_known_without_a_read(fake):
    w, events = await watch(fake)
    try:
        fake.add_run("example_taskgroup", "manual__new", "running", "2026-11-25T10:08:30Z")
        await until(lambda: "example_taskgroup" in last(events).latest, "the new run")
        assert "example_taskgroup" not in last(events).unknown
        w.want_latest(["example_taskgroup"])
        await changes_polls(fake, 3)
        assert "example_taskgroup" not in per_dag(fake)
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_many_rows_in_view_are_read_a_round_at_a_time(fake, monkeypatch):
    """No storm: a hundred new rows in view cost a hundred requests, once each, `ROUND` per
    round of the reader's poll (the client's gate lets one on the wire)."""
    import astro_tui.watch.lastrun as lastrun

    extra = [f"gen_{i:03}" for i in range(100)]
    fake.dags += [{**fake.dags[0], "dag_id": d} for d in extra]
    rounds: list[int] = []
    read_many = lastrun.read_many

    async def counted(client: Any, dag_ids: Any) -> Any:
        if dag_ids:
            rounds.append(len(dag_ids))
        return await read_many(client, dag_ids)

    monkeypatch.setattr(lastrun, "read_many", counted)
    w, events = await watch(fake)
    try:
        w.want_latest(extra)
        w.want_latest(extra[:50])
        w.want_latest(extra[::-1])
        await until(lambda: not set(extra) & set(last(events).unknown), "all 100 read")
        counts = per_dag(fake)
        assert all(counts.get(d) == 1 for d in extra), counts
        assert max(rounds) == lastrun.ROUND and sum(rounds) == 100 + 2  # (+ fail, long)
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


# -- the pieces --------------------------------------------------------------------------------


def _run(dag_id: str, run_id: str, state: str, when: str) -> DagRun:
    return DagRun.from_json({"dag_id": dag_id, "dag_run_id": run_id, "state": state,
                             "run_after": when})


def test_cache_tells_unknown_from_never_ran():
    dags = [Dag.from_json({"dag_id": d}) for d in ("a", "b", "c")]
    cache = Cache()
    cache.load(dags, [_run("a", "r1", "success", "2026-01-02T00:00:00Z")], complete=False,
               states={"b": "failed"})
    assert cache.unknown == {"b": "failed", "c": None}
    assert cache.resolved("c", None) and cache.unknown == {"b": "failed"}
    assert not cache.resolved("c", None)  # nothing new
    assert cache.resolved("b", _run("b", "r0", "failed", "2026-01-01T00:00:00Z"))
    assert cache.latest["b"].run_id == "r0" and cache.unknown == {}
    # the next full read: what was read stays (b's run, c never ran)
    cache.load(dags, [_run("a", "r2", "running", "2026-01-03T00:00:00Z")], complete=False)
    assert cache.unknown == {} and cache.latest["b"].run_id == "r0"
    assert cache.event().unknown == {}
    # a complete window: a DAG without a run there never ran
    cache.load(dags, [], complete=True)
    assert cache.unknown == {}


def test_a_dags_empty_runs_page_means_it_never_ran():
    cache = Cache()
    cache.load([Dag.from_json({"dag_id": "a"})], [], complete=False)
    assert cache.unknown == {"a": None}
    assert cache.note_runs("a", []) and cache.unknown == {} and "a" in cache.never


def test_the_last_run_filter_is_airflow_3s():
    v2 = dialect_for(Version.parse("3.0.6")).list_dags(offset=0, limit=100,
                                                       last_run_state="failed")
    assert v2.params["last_dag_run_state"] == "failed"
    v1 = dialect_for(Version.parse("2.11.2"))
    assert not v1.has_last_run_filter
    with pytest.raises(Unsupported):
        v1.list_dags(offset=0, limit=100, last_run_state="failed")


async def test_flagged_dags_are_read_at_most_flagged_per_full_read(fake, monkeypatch):
    import astro_tui.watch.lastrun as lastrun

    monkeypatch.setattr(lastrun, "FLAGGED", 1)
    w, events = await watch(fake)
    try:
        await until(lambda: "example_fail" in last(events).latest, "example_fail read")
        await changes_polls(fake, 3)
        assert per_dag(fake) == {"example_fail": 1}
        assert last(events).unknown["example_long"] == "running"  # its state shows meanwhile
        w.refresh("dags")
        await until(lambda: "example_long" in last(events).latest, "example_long read next")
        assert per_dag(fake) == {"example_fail": 1, "example_long": 1}
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_the_window_is_read_a_page_of_100_at_a_time(fake):
    """One 1,000-run page crashed Airflow 3.3.2's api-server (SQLite) on the second full read:
    the window comes in pages of 100, one request while there are fewer runs."""
    from astro_tui.watch.lastrun import newest_runs

    client = await fake.connect()
    try:
        runs, total = await newest_runs(client, None, 1000)
        assert (len(runs), total) == (8, 8) and fake.count("/dagRuns/list", "POST") == 1
        for i in range(250):
            fake.add_run("example_cron", f"scheduled__{i:03}", "success",
                         f"2026-11-25T10:{10 + i // 60:02}:{i % 60:02}Z")
        before = fake.count("/dagRuns/list", "POST")
        runs, total = await newest_runs(client, None, 1000)
        assert total == 258 and len({r.run_id for r in runs}) == 258
        assert fake.count("/dagRuns/list", "POST") - before == 3
        runs, total = await newest_runs(client, None, 150)
        assert len(runs) == 150 and runs[0].run_id == "scheduled__249"
    finally:
        await client.aclose()
