"""The API layer against the REAL Airflow 3 and Airflow 2 servers of the harness.

Every test runs once per server (the `server` fixture of tests/conftest.py). Runs are triggered
through AirflowClient itself and awaited by polling, so each test also exercises list/get calls.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from astro_tui.airflow import (
    Airflow3PasswordAuth,
    AirflowClient,
    BasicAuth,
    Conflict,
    Forbidden,
    Invalid,
    LogFollower,
    NotFound,
    Unauthorized,
)
from astro_tui.airflow.models import DagRun, LogLine

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 240.0


def make_auth(server, password: str | None = None):
    password = server.password if password is None else password
    if server.major == 3:
        return Airflow3PasswordAuth(server.url, server.username, password)
    return BasicAuth(server.username, password)


@pytest.fixture
async def client(server):
    c = await AirflowClient.connect(server.url, auth=make_auth(server))
    try:
        yield c
    finally:
        await c.aclose()


async def wait_for_run(client: AirflowClient, dag_id: str, run_id: str,
                       timeout: float = RUN_TIMEOUT) -> DagRun:
    deadline = time.monotonic() + timeout
    while True:
        run = await client.get_run(dag_id, run_id)
        if run.finished:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"{dag_id} {run_id} still {run.state} after {timeout:.0f} s")
        await asyncio.sleep(0.5)


async def trigger_and_wait(client: AirflowClient, dag_id: str, conf=None, **kw) -> DagRun:
    await client.set_paused(dag_id, False)
    run = await client.trigger(dag_id, conf or {}, **kw)
    assert run.dag_id == dag_id and run.state in ("queued", "running")
    return await wait_for_run(client, dag_id, run.run_id)


async def full_log(client: AirflowClient, dag_id: str, run_id: str, task_id: str,
                   try_number: int, map_index: int = -1) -> list[LogLine]:
    follower = LogFollower(client, dag_id, run_id, task_id, try_number, map_index, interval=0.5)
    return [line async for batch in follower for line in batch]


def texts(lines: list[LogLine]) -> list[str]:
    return [t for line in lines for t in line.lines()]


# -- connection ----------------------------------------------------------------------------------

async def test_connect_detects_version_from_any_pasted_url(server):
    for url in (server.url, server.url + "/", server.url + "/home", server.api,
                server.url + "/?orgId=abc"):
        async with await AirflowClient.connect(url, auth=make_auth(server)) as c:
            assert c.version.major == server.major
            assert str(c.version) == server.version
            assert c.root_url == server.url
            assert c.api_prefix == ("/api/v2" if server.major == 3 else "/api/v1")


async def test_health(client):
    health = await client.health()
    assert health.status_of("metadatabase") == "healthy"
    assert health.status_of("scheduler") == "healthy"


async def test_wrong_password_is_an_auth_error(server):
    auth = make_auth(server, "wrong-password")
    with pytest.raises((Unauthorized, Forbidden)) as info:
        async with await AirflowClient.connect(server.url, auth=auth) as c:
            await c.list_dags()
    assert "wrong-password" not in str(info.value) and "wrong-password" not in repr(info.value)
    assert "wrong-password" not in repr(auth)


# -- DAGs ----------------------------------------------------------------------------------------

async def test_list_dags_and_filters(client):
    dags = {d.dag_id: d for d in await client.list_dags()}
    for dag_id in ("example_success", "example_fail", "example_params", "example_long",
                   "example_biglog", "example_mapped", "example_taskgroup", "example_cron"):
        assert dag_id in dags
    assert dags["example_params"].tags and "demo" in dags["example_params"].tags
    assert dags["example_params"].owners == ["team"]
    assert dags["example_params"].schedule  # "Never, external triggers only"
    lo = {d.dag_id for d in await client.list_dags(pattern="lo")}
    assert {"example_biglog", "example_long"} <= lo and "example_success" not in lo
    mapped = {d.dag_id for d in await client.list_dags(tags=["mapped"])}
    assert mapped == {"example_mapped"}
    assert await client.list_import_errors() == []


async def test_dag_details_params(client):
    details = await client.get_dag_details("example_params")
    assert set(details.params) == {"name", "count", "flag", "color"}
    assert details.params["count"].value == 3
    assert details.params["count"].schema.get("minimum") == 1
    assert details.params["count"].schema.get("maximum") == 100
    assert details.params["color"].schema.get("enum") == ["red", "green", "blue"]
    assert details.params["name"].description == "who to greet"
    assert details.default_conf() == {"name": "world", "count": 3, "flag": False, "color": "red"}


async def test_pause_unpause_round_trip(client):
    dag = await client.set_paused("example_taskgroup", True)
    assert dag.is_paused is True
    assert "example_taskgroup" in {d.dag_id for d in await client.list_dags(paused=True)}
    dag = await client.set_paused("example_taskgroup", False)
    assert dag.is_paused is False
    assert "example_taskgroup" in {d.dag_id for d in await client.list_dags(paused=False)}
    assert "example_taskgroup" not in {d.dag_id for d in await client.list_dags(paused=True)}


# -- runs ----------------------------------------------------------------------------------------

async def test_trigger_with_conf_succeeds_and_log_shows_conf(client):
    conf = {"name": "itest", "count": 2, "color": "blue"}
    await client.set_paused("example_params", False)
    created = await client.trigger("example_params", conf, note="from the integration tests")
    assert created.conf == conf and created.note == "from the integration tests"
    run = await wait_for_run(client, "example_params", created.run_id)
    assert run.state == "success" and run.duration is not None and run.run_after is not None

    runs, total = await client.list_runs("example_params", limit=5)
    assert runs[0].run_id == run.run_id and total >= 1  # newest first
    batch, _ = await client.list_runs_batch(["example_params", "example_success"], states=["success"])
    assert run.run_id in {r.run_id for r in batch}
    changed, _ = await client.list_runs("example_params", updated_at_gte=run.start_date)
    assert run.run_id in {r.run_id for r in changed}

    tis = await client.list_task_instances("example_params", run.run_id)
    assert [(t.task_id, t.state, t.try_number) for t in tis] == [("show_conf", "success", 1)]
    lines = await full_log(client, "example_params", run.run_id, "show_conf", 1)
    expected = "CONF=" + json.dumps(conf, sort_keys=True)
    assert any(expected in t for t in texts(lines)), texts(lines)[-20:]
    assert any("hello itest #2 (blue)" in t for t in texts(lines))


async def test_trigger_errors(client):
    await client.set_paused("example_params", False)
    with pytest.raises(NotFound):
        await client.trigger("no_such_dag", {})
    with pytest.raises(Invalid) as info:
        await client.trigger("example_params", {"count": "not a number"})
    assert "count" in info.value.message
    run = await client.trigger("example_params", {}, run_id="itest_duplicate_" + str(time.time_ns()))
    with pytest.raises(Conflict):
        await client.trigger("example_params", {}, run_id=run.run_id)
    with pytest.raises(NotFound):
        await client.get_run("example_params", "no_such_run")
    await wait_for_run(client, "example_params", run.run_id)


async def test_failing_dag_fails_and_log_shows_exception(client):
    run = await trigger_and_wait(client, "example_fail")
    assert run.state == "failed"
    tis = {t.task_id: t for t in await client.list_task_instances("example_fail", run.run_id)}
    assert tis["ok"].state == "success"
    assert tis["boom"].state == "failed" and tis["boom"].try_number == 2
    assert tis["never"].state == "upstream_failed"
    for attempt in (1, 2):
        lines = await full_log(client, "example_fail", run.run_id, "boom", attempt)
        all_text = "\n".join(texts(lines))
        assert "example_fail: intentional failure" in all_text
        assert "RuntimeError" in all_text
        assert any(line.level == "error" for line in lines)


async def test_clear_dry_run_then_real_clear_reruns(client):
    run = await trigger_and_wait(client, "example_success")
    assert run.state == "success"
    before = {t.task_id: t for t in await client.list_task_instances("example_success", run.run_id)}
    assert set(before) == {"extract", "transform", "load"}

    preview = await client.clear_task_instances(
        "example_success", run.run_id, ["transform"], dry_run=True, include_downstream=True)
    assert {t.task_id for t in preview} == {"transform", "load"}
    still = await client.get_run("example_success", run.run_id)
    assert still.state == "success"  # a dry run changes nothing

    cleared = await client.clear_task_instances(
        "example_success", run.run_id, ["transform"], dry_run=False, include_downstream=True)
    assert {t.task_id for t in cleared} == {"transform", "load"}
    # the run goes back to queued/running and finishes again, with a second try of the cleared TIs
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        tis = {t.task_id: t for t in await client.list_task_instances("example_success", run.run_id)}
        rerun = await client.get_run("example_success", run.run_id)
        if rerun.finished and tis["load"].try_number == before["load"].try_number + 1:
            break
        assert time.monotonic() < deadline, (rerun, tis)
        await asyncio.sleep(0.5)
    assert rerun.state == "success"
    assert tis["transform"].try_number == before["transform"].try_number + 1
    assert tis["extract"].try_number == before["extract"].try_number  # not cleared


async def test_mark_task_and_run_state(client):
    run = await trigger_and_wait(client, "example_taskgroup")
    assert run.state == "success"
    tis = {t.task_id: t for t in await client.list_task_instances("example_taskgroup", run.run_id)}
    assert {"start", "group.fetch", "group.check", "finish"} == set(tis)
    marked_tis = await client.set_task_state("example_taskgroup", run.run_id, "group.check", "failed")
    assert [t.task_id for t in marked_tis] == ["group.check"]
    ti = await client.get_task_instance("example_taskgroup", run.run_id, "group.check")
    assert ti.state == "failed"
    marked = await client.set_run_state("example_taskgroup", run.run_id, "failed")
    assert marked.state == "failed"
    assert (await client.get_run("example_taskgroup", run.run_id)).state == "failed"
    lines = await full_log(client, "example_taskgroup", run.run_id, "group.fetch", 1)
    assert any("group.fetch: fetched" in t for t in texts(lines))


async def test_mapped_task_logs_by_map_index(client):
    run = await trigger_and_wait(client, "example_mapped")
    assert run.state == "success"
    tis = await client.list_task_instances("example_mapped", run.run_id)
    squares = sorted((t for t in tis if t.task_id == "square"), key=lambda t: t.map_index)
    assert [t.map_index for t in squares] == [0, 1, 2]
    for ti, x in zip(squares, (2, 3, 4)):
        lines = await full_log(client, "example_mapped", run.run_id, "square", ti.try_number,
                               ti.map_index)
        all_text = "\n".join(texts(lines))
        assert f"square: {x} * {x} = {x * x}" in all_text
        for other in {2, 3, 4} - {x}:
            assert f"square: {other} * {other}" not in all_text


async def test_hostile_log_text_comes_through_literally(client):
    run = await trigger_and_wait(client, "example_hostile")
    assert run.state == "success"
    lines = await full_log(client, "example_hostile", run.run_id, "shout", 1)
    all_text = "\n".join(texts(lines))
    assert "[@click=app.quit]click to quit[/]" in all_text
    ansi = [t for t in texts(lines) if "ansi " in t]
    assert ansi and "red" in ansi[0]  # escapes pass through as data (Airflow 2 may strip some)
    if client.version.major >= 3:
        assert "\x1b[31mred" in all_text
    assert "x" * 10000 in all_text


# -- following a running task ---------------------------------------------------------------------

async def test_follow_long_task_without_duplicates_or_gaps(client):
    seconds = 12
    await client.set_paused("example_long", False)
    run = await client.trigger("example_long", {"seconds": seconds})
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:  # start following while the task is running
        ti = await client.get_task_instance("example_long", run.run_id, "tick")
        if ti.state == "running":
            break
        assert ti.state not in ("success", "failed"), ti
        assert time.monotonic() < deadline
        await asyncio.sleep(0.3)

    followers = [LogFollower(client, "example_long", run.run_id, "tick", ti.try_number, interval=1.0)]
    if client.version.major >= 3 and followers[0].mode != "poll":
        # the strategy of 3.0–3.3.0 (no token, skip header + already shown) on the real server too
        poller = LogFollower(client, "example_long", run.run_id, "tick", ti.try_number, interval=1.5)
        poller.mode = "poll"
        followers.append(poller)

    async def collect(follower):
        got, batches = [], 0
        async for batch in follower:
            batches += 1
            got.extend(batch)
        return got, batches

    results = await asyncio.wait_for(asyncio.gather(*(collect(f) for f in followers)),
                                     timeout=seconds + RUN_TIMEOUT)
    for follower, (lines, batches) in zip(followers, results):
        ticks = [m.group(1) for t in texts(lines) if (m := re.search(r"tick (\d+) of", t))]
        assert ticks == [str(i) for i in range(1, seconds + 1)], (follower.mode, ticks)
        assert sum("done after" in t for t in texts(lines)) == 1
        assert batches >= 3, f"{follower.mode}: the log did not arrive incrementally"
        assert follower.finished
        # nothing repeated at all, header included
        keyed = [(l.timestamp, l.text) for l in lines if l.timestamp is not None]
        assert len(keyed) == len(set(keyed)), follower.mode
    assert (await wait_for_run(client, "example_long", run.run_id)).state == "success"


async def test_big_log_200k_lines(client):
    run = await trigger_and_wait(client, "example_biglog")
    assert run.state == "success"
    started = time.monotonic()
    chunk = await client.read_log("example_biglog", run.run_id, "write", 1)
    lines = chunk.lines
    if not chunk.end_of_log:  # v1 may still hand out the rest with its token
        while not chunk.end_of_log and chunk.token:
            chunk = await client.read_log("example_biglog", run.run_id, "write", 1, token=chunk.token)
            lines += chunk.lines
    elapsed = time.monotonic() - started
    body = [l.text for l in lines if "the quick brown fox" in l.text]
    assert len(body) == 200_000
    assert body[0].startswith("line 000001 of 200000")
    assert body[-1].startswith("line 200000 of 200000")
    assert elapsed < 120
