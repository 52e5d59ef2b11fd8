"""The Watcher (astro_tui/watch/watcher.py) under plain asyncio, against the recorded fake
deployment (tests/ui/fake.py: the real client over httpx.MockTransport; no Textual).

Every test waits for a state (an event received, a request count reached) with a deadline, never
for a fixed time. "Nothing was polled" is shown by letting another poll run several more times.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import LogLine
from astro_tui.watch.events import (
    Connected,
    DagList,
    DagsChanged,
    HealthChanged,
    HealthOf,
    ImportErrorsChanged,
    ImportErrorsOf,
    LogOf,
    LogRead,
    PollFailed,
    RunsChanged,
    RunsOf,
    TasksChanged,
    TasksOf,
)
from astro_tui.watch.schedule import Poll
from astro_tui.watch.settings import Settings
from astro_tui.watch.watcher import Watcher
from tests.conftest import until
from tests.ui.fake import FakeDeployment
from tests.ui.log_fake import LogFake

DEADLINE = 10.0
SETTINGS = Settings(dags_seconds=30, runs_seconds=0.2, tasks_seconds=0.2, log_seconds=0.2)

API = "/api/v2"
DAGS = f"{API}/dags"
BATCH = f"{API}/dags/~/dagRuns/list"
CHANGES = f"{API}/dags/~/dagRuns"
LONG_RUN = "manual__2026-11-25T10:06:45.775837+00:00"  # example_long: running
SUCCESS_RUN = "manual__2026-11-25T10:06:45.610960+00:00"  # example_success: success
PARAMS_NEWEST = "manual__2026-11-25T10:07:56.273473+00:00"
PARAMS_OLDER = "manual__2026-11-25T10:06:45.753314+00:00"


def hits(fake: FakeDeployment, path: str, method: str = "GET", **params: str) -> int:
    """Requests to exactly `path` (decoded), with these query parameters."""
    return sum(1 for r in fake.requests if r.method == method and r.url.path == path
               and all(r.url.params.get(k) == v for k, v in params.items()))


def runs_path(dag_id: str) -> str:
    return f"{API}/dags/{dag_id}/dagRuns"


def tis_path(dag_id: str, run_id: str) -> str:
    return f"{API}/dags/{dag_id}/dagRuns/{run_id}/taskInstances"


def probes(fake: FakeDeployment) -> int:
    return hits(fake, DAGS, limit="1")


class Events:
    """A callback that records events."""

    def __init__(self) -> None:
        self.all: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.all.append(event)

    def of(self, cls: type) -> list[Any]:
        return [e for e in self.all if isinstance(e, cls)]

    def last(self, cls: type) -> Any:
        found = self.of(cls)
        return found[-1] if found else None


async def changes_polls(fake: FakeDeployment, n: int) -> None:
    """Wait for `n` more "runs changed since" polls (every 0.2 s): the time in which any other
    poll at 0.2 s would certainly have run again."""
    start = hits(fake, CHANGES)
    await until(lambda: hits(fake, CHANGES) >= start + n, f"{n} more changes polls")


async def reference_polls(n: int) -> None:
    """Let an independent poll at 0.02 s answer `n` times (when no watcher poll can serve as the
    clock)."""
    calls = 0

    async def fetch() -> None:
        nonlocal calls
        calls += 1

    poll = Poll("reference", 0.02, lambda d, e: None)
    poll.retarget(fetch)
    try:
        await until(lambda: calls >= n, f"{n} reference polls")
    finally:
        await asyncio.wait_for(poll.aclose(), DEADLINE)


@pytest.fixture
def fake() -> FakeDeployment:
    return FakeDeployment()


@pytest.fixture
async def watcher(fake):
    w = Watcher(fake.connect, SETTINGS)
    w.start()
    yield w
    await asyncio.wait_for(w.aclose(), DEADLINE)


async def dag_list(watcher: Watcher) -> tuple[Any, Events]:
    events = Events()
    sub = watcher.subscribe(DagList(), events)
    await until(lambda: events.of(DagsChanged), "the DAG list")
    return sub, events


# -- the DAG list and the changes poll -------------------------------------------------------------


async def test_dag_list_brings_the_dags_and_each_ones_latest_run(watcher, fake):
    listened = Events()
    watcher.listen(listened)
    _, events = await dag_list(watcher)
    assert [e.version for e in listened.of(Connected)] == ["3.3.2"]
    first = events.of(DagsChanged)[0]
    assert sorted(first.dags) == sorted(d["dag_id"] for d in fake.dags)
    latest = first.latest
    assert latest["example_params"].run_id == PARAMS_NEWEST  # the newest of its two runs
    assert latest["example_long"].state == "running"
    assert latest["example_fail"].state == "failed"
    assert latest["example_success"].state == "success"
    assert "example_biglog" not in latest and "example_cron" not in latest  # never ran
    assert hits(fake, DAGS) == 1 and hits(fake, BATCH, "POST") == 1
    assert watcher.dags.keys() == first.dags.keys()
    status = watcher.status()
    assert status.connected and status.version == "3.3.2" and status.error is None


async def test_a_new_run_arrives_through_the_changes_poll_alone(watcher, fake):
    _, events = await dag_list(watcher)
    await changes_polls(fake, 2)  # the changes poll runs (and sees nothing new)
    assert len(events.of(DagsChanged)) == 1, "no change: no event"
    fake.add_run("example_success", "manual__new", "running", "2026-11-25T10:08:30Z")

    def new_run() -> Any:
        e = events.last(DagsChanged)
        run = e.latest.get("example_success")
        return run is not None and run.run_id == "manual__new" and run.state == "running"

    await until(new_run, "the new run in DagsChanged")
    fake.set_run_state("example_success", "manual__new", "success")
    await until(lambda: events.last(DagsChanged).latest["example_success"].state == "success",
                "the run's new state in DagsChanged")
    # Without re-reading the DAG list or the latest-runs batch.
    assert hits(fake, DAGS) == 1 and hits(fake, BATCH, "POST") == 1
    assert hits(fake, CHANGES) >= 4


async def test_an_older_run_changing_does_not_replace_the_latest(watcher, fake):
    _, events = await dag_list(watcher)
    fake.set_run_state("example_params", PARAMS_OLDER, "failed")
    fake.add_run("example_cron", "scheduled__x", "queued", "2026-11-25T10:08:40Z")
    await until(lambda: "example_cron" in events.last(DagsChanged).latest, "the cron run")
    assert events.last(DagsChanged).latest["example_params"].run_id == PARAMS_NEWEST


# -- runs ------------------------------------------------------------------------------------------


async def test_runs_of_a_dag_newest_first(watcher, fake):
    events = Events()
    sub = watcher.subscribe(RunsOf("example_params"), events)
    await until(lambda: events.of(RunsChanged), "the runs")
    runs = events.of(RunsChanged)[0]
    assert runs.dag_id == "example_params" and runs.total == 2
    assert [r.run_id for r in runs.runs] == [PARAMS_NEWEST, PARAMS_OLDER]
    assert watcher.runs_of("example_params") == list(runs.runs)
    assert sub.topic == RunsOf("example_params") and sub.state.targeted
    assert hits(fake, runs_path("example_params")) == 1


async def test_a_new_run_of_a_watched_dag_rereads_its_runs(watcher, fake):
    await dag_list(watcher)
    events = Events()
    watcher.subscribe(RunsOf("example_params"), events)
    await until(lambda: events.of(RunsChanged), "the runs")
    before = hits(fake, runs_path("example_params"))
    fake.add_run("example_params", "manual__new", "queued", "2026-11-25T10:08:30Z")
    await until(lambda: events.last(RunsChanged).runs[0].run_id == "manual__new",
                "the new run at the top")
    assert events.last(RunsChanged).total == 3
    assert hits(fake, runs_path("example_params")) == before + 1
    # A known run's new state comes from the changes poll itself (no re-read).
    fake.set_run_state("example_params", "manual__new", "running")
    await until(lambda: events.last(RunsChanged).runs[0].state == "running", "the new state")
    assert hits(fake, runs_path("example_params")) == before + 1


# -- tasks -----------------------------------------------------------------------------------------


async def test_tasks_of_a_finished_run_are_fetched_once(watcher, fake):
    await dag_list(watcher)
    events = Events()
    sub = watcher.subscribe(TasksOf("example_success", SUCCESS_RUN), events)
    await until(lambda: events.of(TasksChanged), "the task instances")
    tis = events.of(TasksChanged)[0].tis
    assert sorted(t.task_id for t in tis) == ["extract", "load", "transform"]
    await changes_polls(fake, 6)
    assert hits(fake, tis_path("example_success", SUCCESS_RUN)) == 1
    assert len(events.of(TasksChanged)) == 1
    assert sub.state.interval is None
    sub.refresh()  # but it can be asked for
    await until(lambda: hits(fake, tis_path("example_success", SUCCESS_RUN)) == 2, "refresh")


async def test_tasks_of_a_finished_run_alone_are_not_polled_forever(watcher, fake):
    """Without the DAG list or the run's DAG subscribed, the run's state is unknown: once every
    task instance is finished, the tasks are not read again (a CLI using only TasksOf)."""
    events = Events()
    watcher.subscribe(TasksOf("example_success", SUCCESS_RUN), events)
    await until(lambda: events.of(TasksChanged), "the task instances")
    clock = Events()
    watcher.subscribe(RunsOf("example_fail"), clock)  # something else that keeps polling
    await dag_list(watcher)
    await changes_polls(fake, 6)
    assert hits(fake, tis_path("example_success", SUCCESS_RUN)) == 1
    assert watcher.state("tasks").interval is None


async def test_tasks_of_a_running_run_are_polled_until_it_is_over(watcher, fake):
    await dag_list(watcher)
    events = Events()
    watcher.subscribe(TasksOf("example_long", LONG_RUN), events)
    path = tis_path("example_long", LONG_RUN)
    await until(lambda: hits(fake, path) >= 3, "three polls of the running run's tasks")
    # The run and its task end: one more read, then no more.
    fake.tis[f"example_long {LONG_RUN}"][0]["state"] = "success"
    fake.set_run_state("example_long", LONG_RUN, "success")
    await until(lambda: watcher.state("tasks").interval is None, "polling to stop")
    # (the run's end pokes one last read: wait for its answer, not just for an idle moment)
    await until(lambda: events.last(TasksChanged).tis[0].state == "success"
                and not watcher.state("tasks").busy, "the last read to end")
    count = hits(fake, path)
    await changes_polls(fake, 6)
    assert hits(fake, path) == count
    assert events.last(TasksChanged).tis[0].state == "success"


# -- sharing, closing, pausing ---------------------------------------------------------------------


async def test_a_late_subscriber_gets_the_cached_data_without_a_request(watcher, fake):
    first = Events()
    watcher.subscribe(RunsOf("example_params"), first)
    await until(lambda: first.of(RunsChanged), "the runs")
    _, dags = await dag_list(watcher)
    reads = hits(fake, runs_path("example_params")), hits(fake, DAGS)
    second, third = Events(), Events()
    sub2 = watcher.subscribe(RunsOf("example_params"), second)
    watcher.subscribe(DagList(), third)
    assert second.all == [] and third.all == [], "delivered soon, not re-entrantly"
    await until(lambda: second.of(RunsChanged) and third.of(DagsChanged), "the cached data")
    assert second.of(RunsChanged)[0] is first.last(RunsChanged)
    assert third.of(DagsChanged)[0] is dags.last(DagsChanged)
    assert (hits(fake, runs_path("example_params")), hits(fake, DAGS)) == reads
    # One poll per topic, whoever asks.
    assert len(watcher.topics()) == 2
    sub2.close()
    assert RunsOf("example_params") in watcher.topics()  # the first subscriber still has it


async def test_close_stops_polling(watcher, fake):
    await dag_list(watcher)
    events = Events()
    sub = watcher.subscribe(TasksOf("example_long", LONG_RUN), events)
    path = tis_path("example_long", LONG_RUN)
    await until(lambda: hits(fake, path) >= 2, "two polls")
    sub.close()
    count = hits(fake, path)
    delivered = len(events.all)
    assert watcher.state("tasks") is None
    await changes_polls(fake, 6)
    assert hits(fake, path) == count, "a closed subscription's topic must not be polled"
    assert len(events.all) == delivered
    sub.close()  # twice is harmless


async def test_closing_the_dag_list_stops_the_changes_poll(watcher, fake):
    sub, _ = await dag_list(watcher)
    await changes_polls(fake, 1)
    sub.close()
    await until(lambda: not watcher.state("changes").busy, "the changes request to end")
    count = hits(fake, CHANGES)
    assert not watcher.state("changes").targeted
    other = Events()
    watcher.subscribe(TasksOf("example_long", LONG_RUN), other)
    path = tis_path("example_long", LONG_RUN)
    start = hits(fake, path)
    await until(lambda: hits(fake, path) >= start + 6, "6 polls of another topic")
    assert hits(fake, CHANGES) == count


async def test_pause_stops_polling_until_every_subscriber_resumes(watcher, fake):
    await dag_list(watcher)
    a, b = Events(), Events()
    topic = TasksOf("example_long", LONG_RUN)
    path = tis_path("example_long", LONG_RUN)
    sub_a = watcher.subscribe(topic, a)
    sub_b = watcher.subscribe(topic, b)
    await until(lambda: hits(fake, path) >= 2, "two polls")
    sub_a.pause()
    start = hits(fake, path)
    await until(lambda: hits(fake, path) >= start + 2, "polling on for the other subscriber")
    sub_b.pause()
    assert sub_b.state.paused
    await until(lambda: not sub_b.state.busy, "the request in flight to end")
    count = hits(fake, path)
    await changes_polls(fake, 6)
    assert hits(fake, path) == count, "a topic all of whose subscribers paused must not be polled"
    sub_a.resume()
    await until(lambda: hits(fake, path) > count, "a poll on resume")
    assert not sub_a.state.paused


async def test_resume_polls_at_once(watcher, fake):
    # RunsOf re-reads every dags_seconds (30 s): a read within the deadline comes from resume.
    events = Events()
    sub = watcher.subscribe(RunsOf("example_params"), events)
    await until(lambda: events.of(RunsChanged), "the runs")
    sub.pause()
    sub.resume()
    await until(lambda: len(events.of(RunsChanged)) == 2, "a read on resume")
    assert hits(fake, runs_path("example_params")) == 2


async def test_refresh_polls_the_kinds_asked_for(watcher, fake):
    runs = Events()
    watcher.subscribe(RunsOf("example_params"), runs)
    await until(lambda: runs.of(RunsChanged), "the runs")
    _, dags = await dag_list(watcher)
    watcher.refresh("runs")
    await until(lambda: hits(fake, runs_path("example_params")) == 2, "the refreshed runs")
    assert hits(fake, DAGS) == 1
    watcher.refresh()
    await until(lambda: hits(fake, DAGS) == 2, "everything refreshed")


# -- failures --------------------------------------------------------------------------------------


async def test_server_down_backs_off_then_the_probe_brings_it_back(watcher, fake):
    listened = Events()
    watcher.listen(listened)
    _, dags = await dag_list(watcher)
    tasks = Events()
    watcher.subscribe(TasksOf("example_long", LONG_RUN), tasks)
    path = tis_path("example_long", LONG_RUN)
    await until(lambda: tasks.of(TasksChanged), "the task instances")

    fake.down = True
    failed = await until(lambda: listened.of(PollFailed), "a PollFailed")
    assert isinstance(failed[0].error, Exception)
    await until(lambda: {e.kind for e in listened.of(PollFailed)} >= {"changes", "tasks", "probe"},
                "changes, tasks and probe failures")
    assert any(isinstance(e, PollFailed) for e in tasks.all), "the subscriber is told too"
    assert watcher.status().error is not None
    down_at = len(fake.requests)
    tasks_at_down = sum(1 for r in fake.requests[:down_at] if r.url.path == path)
    # The tasks poll backs off: 0.2, 0.4, 0.8, 1.6 s ... while the probe asks every 0.2 s.
    delays = []

    def failing_more() -> bool:
        state = watcher.state("tasks")
        if state.failures and (not delays or delays[-1][0] != state.failures):
            delays.append((state.failures, state.next_delay))
        return state.failures >= 5

    await until(failing_more, "5 failures of the tasks poll", timeout=20)
    assert [d for _, d in delays] == sorted(d for _, d in delays), delays
    assert watcher.state("tasks").next_delay >= 0.2 * 16 * 0.9
    probes_down = probes(fake)
    tasks_down = hits(fake, path) - tasks_at_down
    assert tasks_down <= 6 and probes_down >= 2 * tasks_down, (tasks_down, probes_down)

    # Back: the probe notices within about one interval and pokes the failing polls, long
    # before the tasks poll's own backoff (>= 2.9 s) would retry.
    fake.down = False
    fake.add_run("example_success", "manual__back", "running", "2026-11-25T10:08:30Z")
    back_at = time.monotonic()
    got = len(tasks.of(TasksChanged))
    await until(lambda: len(tasks.of(TasksChanged)) > got, "task instances again")
    assert time.monotonic() - back_at < 2.5
    await until(lambda: dags.last(DagsChanged).latest["example_success"].run_id == "manual__back",
                "the DAG list's changes again")
    await until(lambda: watcher.status().error is None, "the status to recover")
    assert not watcher.state("probe").targeted, "the probe stops once the server is back"


async def test_connect_retries_until_the_server_answers(fake):
    fake.down = True
    watcher = Watcher(fake.connect, SETTINGS)
    listened, events = Events(), Events()
    watcher.listen(listened)
    watcher.start()
    try:
        watcher.subscribe(DagList(), events)  # before the connection: started once connected
        await until(lambda: len(listened.of(PollFailed)) >= 2, "two failed connects")
        assert {e.kind for e in listened.of(PollFailed)} == {"connect"}
        assert not watcher.status().connected and watcher.client is None
        fake.down = False
        await until(lambda: events.of(DagsChanged), "the DAG list once connected", timeout=20)
        assert listened.of(Connected)
    finally:
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


# -- the gate --------------------------------------------------------------------------------------


class HeldFake(FakeDeployment):
    """Reads of runs and task instances wait for `release` once `hold` is set, counting how many
    wait at once."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = False
        self.release = asyncio.Event()
        self.waiting = 0
        self.peak = 0
        self.held = 0  # requests that were held (arrivals, whatever became of them)

    async def _async_handler(self, request: httpx.Request) -> httpx.Response:
        if self.hold and "/dagRuns" in request.url.path:
            self.held += 1
            self.waiting += 1
            self.peak = max(self.peak, self.waiting)
            try:
                await self.release.wait()
            finally:
                self.waiting -= 1
        return self.handler(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._async_handler)


class TimeoutFake(FakeDeployment):
    """The fake, where a read of `timing_out` times out after the server has answered two other
    requests (it hangs while the server works on others, as a read stuck behind a lock does)."""

    def __init__(self) -> None:
        super().__init__()
        self.timing_out: str | None = None
        self.answered = 0
        self._answer = asyncio.Condition()

    async def _async_handler(self, request: httpx.Request) -> httpx.Response:
        if self.timing_out is not None and request.url.path == self.timing_out:
            self.requests.append(request)
            async with self._answer:
                at = self.answered
                await self._answer.wait_for(lambda: self.answered >= at + 2)
            raise httpx.ReadTimeout("timed out", request=request)
        response = self.handler(request)
        async with self._answer:
            self.answered += 1
            self._answer.notify_all()
        return response

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._async_handler)


async def test_a_timeout_is_slow_not_down_while_the_server_answers_other_requests():
    """A poll's request timed out while the server answered other requests (a second request
    slot here): the deployment is up, if slow, not "down" (CI showed "down: Timeout" for 14 s
    after an outage while the server answered). The pane's own age still says its poll fails.
    With nothing answering after a failure it is down."""
    fake = TimeoutFake()
    watcher = Watcher(fake.connect, replace(SETTINGS, max_in_flight=2))
    watcher.start()
    try:
        await dag_list(watcher)
        fake.timing_out = runs_path("example_fail")
        runs = Events()
        watcher.subscribe(RunsOf("example_fail"), runs)
        # the status at the moment the runs poll has failed (before any retry of it)
        status = await until(
            lambda: watcher.state("runs").failures and (watcher.status("runs"),
                                                         watcher.age("runs")),
            "the runs read timed out")
        assert isinstance(watcher.state("runs").last_error, Exception)
        assert status[0].error is None and status[0].slow, status
        assert status[1][2], "the pane still says its poll fails"

        fake.timing_out = None
        await until(lambda: runs.of(RunsChanged), "the runs")
        fake.down = True  # nothing answers now
        await until(lambda: watcher.status("runs").error is not None, "the status to say down")
        fake.down = False
        await until(lambda: watcher.status("runs").error is None, "the status to recover")
    finally:
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


async def test_max_in_flight_bounds_the_requests_of_all_polls():
    fake = HeldFake()
    watcher = Watcher(fake.connect, Settings(dags_seconds=30, runs_seconds=0.2,
                                             tasks_seconds=0.2, max_in_flight=2))
    watcher.start()
    try:
        await until(lambda: watcher.client is not None, "the connection")
        fake.hold = True
        events = Events()
        dags = [d["dag_id"] for d in fake.dags]
        for dag_id in dags:
            watcher.subscribe(RunsOf(dag_id), events)
        for key in fake.tis:
            dag_id, run_id = key.split(" ", 1)
            watcher.subscribe(TasksOf(dag_id, run_id), events)
        await until(lambda: fake.waiting >= 2, "two requests in flight")
        await reference_polls(10)  # time for more requests to start, if they could
        assert fake.waiting == 2 and fake.peak == 2, (fake.waiting, fake.peak)
        assert watcher.status().waiting > 0  # the age of the oldest request on the wire
        # Even the probe's one-DAG read queues behind them (issue 13).
        ping = asyncio.ensure_future(watcher.client.ping())
        await reference_polls(3)
        assert not ping.done() and fake.peak == 2
        fake.release.set()
        await asyncio.wait_for(ping, DEADLINE)
        await until(lambda: len(events.of(RunsChanged)) >= len(dags), "every DAG's runs")
        await until(lambda: len(events.of(TasksChanged)) >= len(fake.tis), "every run's tasks")
        assert fake.peak == 2
    finally:
        fake.release.set()
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


# -- logs ------------------------------------------------------------------------------------------


def texts(lines: Iterable[LogLine], emit) -> list[str]:
    return [line.text for line in lines]


async def test_a_followed_log_arrives_in_reads_until_finished():
    fake = LogFake()
    watcher = Watcher(fake.connect, SETTINGS)
    watcher.start()
    try:
        fake.grow(3)
        events = Events()
        topic = LogOf("example_long", fake.long_run, "tick")
        sub = watcher.follow_log(topic, events, texts)
        await until(lambda: any("tick 3 of 300" in e.data for e in events.of(LogRead)),
                    "the first lines")
        fake.grow(2)
        await until(lambda: any("tick 5 of 300" in e.data for e in events.of(LogRead)),
                    "the new lines")
        assert not any(e.finished for e in events.of(LogRead))
        fake.grow(1)
        fake.finish()
        reads = await until(lambda: [e for e in events.of(LogRead) if e.finished], "the end")
        assert reads[-1] is events.of(LogRead)[-1] and reads[-1].topic == topic
        assert reads[-1].try_number == 1 and reads[-1].ti.state == "success"
        lines = [t for e in events.of(LogRead) for t in e.data if t.startswith("tick")]
        assert lines == [f"tick {i} of 300" for i in range(1, 7)], "each line exactly once"
        # Finished: no more log reads, no more events.
        log_reads = len(fake.reads)
        delivered = len(events.all)
        ref = Events()
        watcher.subscribe(DagList(), ref)  # then the changes poll runs every 0.2 s
        await until(lambda: hits(fake, CHANGES) >= 6, "6 polls of another topic")
        assert len(fake.reads) == log_reads
        assert len(events.all) == delivered
        assert sub.follower.finished
    finally:
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


# -- closing ---------------------------------------------------------------------------------------


async def test_aclose_leaves_no_task_behind_and_closes_the_client():
    before = asyncio.all_tasks()
    fake = HeldFake()
    watcher = Watcher(fake.connect, SETTINGS)
    watcher.start()
    await until(lambda: watcher.client is not None, "the connection")
    client = watcher.client
    events = Events()
    watcher.subscribe(DagList(), events)
    await until(lambda: events.of(DagsChanged), "the DAG list")
    watcher.subscribe(TasksOf("example_long", LONG_RUN), events)
    watcher.follow_log(LogOf("example_long", LONG_RUN, "tick"), events, texts)
    fake.hold = True  # requests hang now
    watcher.subscribe(RunsOf("example_params"), events)
    await until(lambda: fake.waiting >= 1, "a hung request")
    assert asyncio.all_tasks() - before, "the watcher has tasks while it runs"
    await asyncio.wait_for(watcher.aclose(), DEADLINE)
    left = asyncio.all_tasks() - before
    assert left == set(), left
    assert watcher.client is None and client.closed


async def test_aclose_before_connecting_leaves_no_task(fake):
    before = asyncio.all_tasks()
    fake.down = True
    watcher = Watcher(fake.connect, SETTINGS)
    watcher.start()
    watcher.subscribe(DagList(), Events())
    await until(lambda: watcher.state("connect").failures >= 1, "a failed connect")
    await asyncio.wait_for(watcher.aclose(), DEADLINE)
    assert asyncio.all_tasks() - before == set()


async def test_a_slow_request_is_never_abandoned():
    """Issue 13: a request the server is still working on (here: held for 5 s and more) makes
    the status say "slow", but it is neither abandoned nor joined by a probe: a slow server is
    working, and a second request in it is what crashed it."""
    fake = HeldFake()
    watcher = Watcher(fake.connect, Settings(dags_seconds=30, runs_seconds=0.5,
                                             tasks_seconds=0.5))
    watcher.start()
    try:
        await dag_list(watcher)
        fake.hold = True
        runs = Events()
        watcher.subscribe(RunsOf("example_fail"), runs)
        path = runs_path("example_fail")
        await until(lambda: fake.waiting == 1, "the runs read held by the server")
        await until(lambda: watcher.status().waiting > 5, "the status to say slow", timeout=15)
        await reference_polls(3)
        assert probes(fake) == 0 and not watcher.state("probe").targeted
        assert fake.waiting == 1 and fake.held == 1, "the slow request was abandoned"
        fake.release.set()
        await until(lambda: runs.of(RunsChanged), "the slow answer delivered")
        assert hits(fake, path) == 1  # answered once, never sent again
    finally:
        fake.release.set()
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


# -- the deployment's health and import errors ------------------------------------------------------


async def test_health_is_polled_and_reports_a_component_going_down(fake):
    watcher = Watcher(fake.connect, Settings(health_seconds=0.1))
    watcher.start()
    try:
        events = Events()
        watcher.subscribe(HealthOf(), events)
        first = await until(lambda: events.last(HealthChanged), "the health")
        assert first.health.components["scheduler"].status == "healthy"
        assert first.health.healthy
        fake.health["scheduler"] = {"status": "unhealthy",
                                    "latest_scheduler_heartbeat": "2026-11-25T09:00:00+00:00"}
        sick = await until(lambda: (e := events.last(HealthChanged)) and not e.health.healthy
                           and e, "the scheduler reported unhealthy")
        assert sick.health.components["scheduler"].status == "unhealthy"
        assert hits(fake, "/api/v2/monitor/health") >= 2
    finally:
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


async def test_import_errors_are_published_only_when_they_change(fake):
    watcher = Watcher(fake.connect, Settings(import_errors_seconds=0.05))
    watcher.start()
    try:
        events = Events()
        watcher.subscribe(ImportErrorsOf(), events)
        await until(lambda: events.of(ImportErrorsChanged), "the first read")
        assert list(events.last(ImportErrorsChanged).errors) == []
        reads = hits(fake, "/api/v2/importErrors")
        await until(lambda: hits(fake, "/api/v2/importErrors") >= reads + 3, "three more reads")
        assert len(events.of(ImportErrorsChanged)) == 1, "unchanged errors are no event"
        fake.import_errors.append({
            "import_error_id": 7, "timestamp": "2026-11-25T10:08:00Z", "bundle_name": "dags-folder",
            "filename": "/dags/broken.py", "stack_trace": "SyntaxError: invalid syntax"})
        await until(lambda: len(events.of(ImportErrorsChanged)) == 2, "the new error")
        (error,) = events.last(ImportErrorsChanged).errors
        assert (error.filename, error.stack_trace) == ("/dags/broken.py",
                                                       "SyntaxError: invalid syntax")
    finally:
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


async def test_dag_warnings_come_with_the_import_errors(fake):
    watcher = Watcher(fake.connect, Settings(import_errors_seconds=0.05))
    watcher.start()
    try:
        events = Events()
        watcher.subscribe(ImportErrorsOf(), events)
        await until(lambda: events.of(ImportErrorsChanged), "the first read")
        assert list(events.last(ImportErrorsChanged).warnings) == []
        fake.dag_warnings.append({"dag_id": "example_params", "warning_type": "non-existent pool",
                                  "message": "Dag 'example_params' references pool 'gpu'",
                                  "timestamp": "2026-11-25T10:08:00Z",
                                  "dag_display_name": "example_params"})
        await until(lambda: len(events.of(ImportErrorsChanged)) == 2, "the warning")
        (warning,) = events.last(ImportErrorsChanged).warnings
        assert (warning.dag_id, warning.warning_type) == ("example_params", "non-existent pool")
    finally:
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


async def test_a_runs_page_over_the_servers_page_size_is_read_page_by_page(fake):
    """Issue 18, papercut 7: paging back reads more than a server page (100) in pages."""
    for n in range(130):
        fake.add_run("example_cron", f"scheduled__{n:03}", "success",
                     f"2026-11-2{n // 100}T10:{n % 60:02}:00Z")
    settings = Settings(dags_seconds=30, runs_seconds=0.2, tasks_seconds=0.2, log_seconds=0.2,
                        runs_limit=120)
    w = Watcher(fake.connect, settings)
    w.start()
    try:
        events = Events()
        w.subscribe(RunsOf("example_cron"), events)
        runs = await until(lambda: events.last(RunsChanged), "the runs")
        assert len(runs.runs) == 120 and runs.total == 130
        assert len({r.run_id for r in runs.runs}) == 120
        reads = [r.url.params for r in fake.requests if r.url.path == runs_path("example_cron")]
        assert [(p["offset"], p["limit"]) for p in reads] == [("0", "100"), ("100", "20")]
    finally:
        await asyncio.wait_for(w.aclose(), DEADLINE)


async def test_a_followed_log_takes_its_task_state_from_the_tasks_poll():
    """With the run's tasks polled (the tasks pane), the follower reads no task instance of its
    own for each log read (issue 19: a request per read saved)."""
    fake = LogFake()
    watcher = Watcher(fake.connect, replace(SETTINGS, tasks_seconds=0.1, log_seconds=0.3))
    watcher.start()
    try:
        fake.grow(1)
        tasks = Events()
        watcher.subscribe(TasksOf("example_long", fake.long_run), tasks)
        await until(lambda: tasks.of(TasksChanged), "the run's tasks")
        events = Events()
        sub = watcher.follow_log(LogOf("example_long", fake.long_run, "tick"), events, texts)
        for n in range(2, 8):
            fake.grow(1)
            await until(lambda n=n: any(f"tick {n} of 300" in e.data
                                        for e in events.of(LogRead)), f"tick {n}")
        follower = sub.follower
        assert follower is not None and follower.requests >= 6
        assert follower.ti_reads <= follower.requests // 2, (follower.ti_reads, follower.requests)
        own = sum(1 for r in fake.requests if r.url.path.endswith("/taskInstances/tick"))
        assert own == follower.ti_reads
        lines = [t for e in events.of(LogRead) for t in e.data if t.startswith("tick")]
        assert lines == [f"tick {i} of 300" for i in range(1, 8)], "each line exactly once"
    finally:
        await asyncio.wait_for(watcher.aclose(), DEADLINE)


async def test_a_stale_task_state_never_makes_the_log_read_whole_again():
    """The tasks poll's answer says running; the server has meanwhile ended the try and says
    end-of-log (null token). The follower reads on from its last token (skipping what that
    read gave), never the whole log again, and ends once the try is seen over."""
    fake = LogFake()
    client = await fake.connect()
    try:
        follower = LogFollower(client, "example_long", fake.long_run, "tick", 1)
        fake.grow(3)
        first = await follower.poll()
        running = follower.ti
        assert running is not None and running.state == "running"
        fake.grow(2)
        fake.finish()
        follower.hand_over(running)  # read before the try ended
        second = await follower.poll()
        assert not follower.finished and follower.ti_reads == 1
        third = await follower.poll()  # its own read: success
        assert follower.finished and third == [] and follower.ti_reads == 2
        ticks = [line.text for line in first + second if line.text.startswith("tick")]
        assert ticks == [f"tick {i} of 300" for i in range(1, 6)]
        assert [token is None for token, _, _ in fake.reads] == [True, False, False]
        older = replace(running, try_number=0)
        follower.finished = False
        follower.hand_over(older)  # an older try's state is never used
        await follower.poll()
        assert follower.ti_reads == 3
    finally:
        await client.aclose()
