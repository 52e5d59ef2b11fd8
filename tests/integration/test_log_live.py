"""The log pane against the REAL Airflow 3 and Airflow 2 servers: following a running task live,
a failing task's traceback (and its retry), mapped task logs per index, and the 200k-line log.

Each test runs once per server. Runs are triggered through the API (DAGs are paused at creation);
the app opens the task's log through the main screen and its own log poll loop.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path

import pytest

from astro_tui.config import Profile
from astro_tui.session import open_client
from astro_tui.tui.app import AstroTuiApp, Settings
from tests.conftest import wait_for

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 600.0  # Airflow 2 runs one task at a time, behind whatever else is queued


def trigger(server, dag_id: str, conf: dict) -> str:
    with server.http_client(timeout=30) as c:
        c.patch(f"{server.api}/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        body: dict = {"conf": conf}
        if server.major == 3:
            body["logical_date"] = None
        r = c.post(f"{server.api}/dags/{dag_id}/dagRuns", json=body)
        r.raise_for_status()
        return r.json()["dag_run_id"]


def run_state(server, dag_id: str, run_id: str) -> str:
    with server.http_client(timeout=30) as c:
        r = c.get(f"{server.api}/dags/{dag_id}/dagRuns/{run_id}")
        r.raise_for_status()
        return r.json()["state"]


def wait_run(server, dag_id: str, run_id: str, timeout: float = RUN_TIMEOUT) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = run_state(server, dag_id, run_id)
        if state in ("success", "failed"):
            return state
        time.sleep(1)
    raise AssertionError(f"{dag_id} {run_id} not finished after {timeout:.0f} s")


@contextlib.asynccontextmanager
async def live_app(server, monkeypatch):
    monkeypatch.setenv("ASTRO_TUI_TEST_PASSWORD", server.password)
    profile = Profile(name="it", url=server.url, auth="password", username=server.username,
                      secret="env:ASTRO_TUI_TEST_PASSWORD")
    settings = Settings(dags_seconds=30, runs_seconds=1, tasks_seconds=1, log_seconds=1)
    app = AstroTuiApp(lambda: open_client(profile), profile_name="it", settings=settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.main.watcher.client is not None and bool(app.main.selection.dags), 90,
                       "the DAG list")
        yield pilot


class LogBytes:
    """Counts the log responses of the app's client: (monotonic time, body bytes)."""

    def __init__(self, client) -> None:
        self.reads: list[tuple[float, int]] = []
        client._http.event_hooks["response"].append(self._hook)

    async def _hook(self, response) -> None:
        if "/logs/" in response.request.url.path:
            await response.aread()
            self.reads.append((time.monotonic(), len(response.content)))


async def open_task(pilot, dag_id: str, run_id: str, key: str, timeout: float = RUN_TIMEOUT):
    main = pilot.app.main
    main.nav.show_run(dag_id, run_id)
    await wait_for(pilot, lambda: main.selection.run_id == run_id, 120, f"run {run_id}")
    await wait_for(pilot, lambda: key in main.selection.tis, timeout, f"task {key}")
    main.task_table.select_key(key)
    main.nav.select_task(key)
    main.pane_layout.activate("log")
    return main.log_view


def tick_numbers(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := re.search(r"tick (\d+) of 8\b", line))]


async def test_follow_a_running_task_live(server, monkeypatch, record_property):
    run_id = trigger(server, "example_long", {"seconds": 8})
    async with live_app(server, monkeypatch) as pilot:
        counter = LogBytes(pilot.app.main.watcher.client)
        view = await open_task(pilot, "example_long", run_id, "tick")
        partial: set[int] = set()  # tick counts seen while the task was still running

        def progress() -> bool:
            f = view.follower
            if f is not None and f.ti is not None and f.ti.state == "running":
                partial.add(len(tick_numbers(view.lines)))
            return view.ended

        await wait_for(pilot, progress, RUN_TIMEOUT, "the end of example_long's log")
        lines = list(view.lines)
        assert tick_numbers(lines) == list(range(1, 9))  # every line once, in order
        assert any("done after 8 ticks" in line for line in lines)
        assert "end of log" in view.context and lines[-1] == "— end of log —"
        assert partial & set(range(1, 8)), f"no partial log seen while running: {partial}"
        requests = view.follower.requests
        await pilot.pause(3.5)  # three poll intervals: following has stopped
        assert view.follower.requests == requests
        sizes = [size for _, size in counter.reads]
        full = await pilot.app.main.watcher.client.read_log_body("example_long", run_id, "tick", 1)
    record_property("log_read_bytes", sizes)
    print(f"\nAirflow {server.version}: {len(sizes)} log reads, bytes per read {sizes}, "
          f"total {sum(sizes)}, whole log {len(full)}")
    # O(new lines): everything read adds up to about one copy of the log, not one per poll.
    assert sum(sizes) < 2 * len(full) + 4096
    assert max(sizes[1:], default=0) < len(full) / 2


async def test_failing_task_shows_a_readable_exception_and_follows_the_retry(server,
                                                                              monkeypatch):
    run_id = trigger(server, "example_fail", {})
    async with live_app(server, monkeypatch) as pilot:
        view = await open_task(pilot, "example_fail", run_id, "boom")
        await wait_for(pilot, lambda: view.ended and view.follower.try_number == 2,
                       RUN_TIMEOUT, "the end of boom's second try")
        text = "\n".join(view.lines)
        assert "RuntimeError: example_fail: intentional failure" in text
        assert "Traceback (most recent call last):" in text
        assert re.search(r'^ +File ".*example_fail\.py", line \d+, in boom$', text, re.M)
        assert "try 2/2" in view.context
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: view.ended and view.follower.try_number == 1, 60, "try 1")
        assert "RuntimeError: example_fail: intentional failure" in "\n".join(view.lines)
        assert "try 1/2" in view.context
        pilot.app.main.pane_layout.activate("log")  # keys to the log view (this test is about its filter)
        await pilot.pause(0.2)
        for _ in range(3):  # l cycles all → ≥ warning → ≥ error
            if view.store.level_min == 4:
                break
            await pilot.press("l")
        assert "≥ error" in view.status.plain  # errors only: the traceback stays with its error
        shown = [view.lines[i] for i in view.store.rows]
        assert any("Traceback" in line for line in shown)
        assert not any("about to fail" in line for line in shown), (view.context, shown)


async def test_mapped_task_logs_per_map_index(server, monkeypatch):
    run_id = trigger(server, "example_mapped", {})
    assert wait_run(server, "example_mapped", run_id) == "success"
    async with live_app(server, monkeypatch) as pilot:
        for index, x in enumerate([2, 3, 4]):
            view = await open_task(pilot, "example_mapped", run_id, f"square[{index}]")
            await wait_for(pilot, lambda: view.ended and view.follower.map_index == index, 120,
                           f"square[{index}]")
            text = "\n".join(view.lines)
            assert f"square: {x} * {x} = {x * x}" in text
            others = [y for y in (2, 3, 4) if y != x]
            assert not any(f"square: {y} * {y}" in text for y in others)
            assert f"square[{index}]" in view.context


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 1e6


async def test_the_200k_line_log_opens(server, monkeypatch, record_property):
    run_id = trigger(server, "example_biglog", {})
    assert wait_run(server, "example_biglog", run_id) == "success"
    async with live_app(server, monkeypatch) as pilot:
        counter = LogBytes(pilot.app.main.watcher.client)
        await pilot.pause(0.5)
        before = rss_mb()
        peak = [before]
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], rss_mb())
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        view = await open_task(pilot, "example_biglog", run_id, "write")
        await wait_for(pilot, lambda: len(view.store.rows) > 0, 300, "the first screen")
        first = time.monotonic()
        await wait_for(pilot, lambda: view.ended, 120, "the end of the log")
        done = time.monotonic()
        stop.set()
        sampler.join()
        arrived = counter.reads[0][0]
        lines = view.lines
        assert len(lines) > 200_000
        assert any("line 200000 of 200000" in line for line in lines[-10:])
        await pilot.pause(0.2)
        assert view.store.rows and view.is_vertical_scroll_end
        growth = peak[0] - before
    record_property("first_screen_seconds", round(first - arrived, 2))
    record_property("whole_log_seconds", round(done - arrived, 2))
    record_property("rss_growth_mb", round(growth))
    print(f"\nAirflow {server.version}: {counter.reads[0][1]} bytes; after the response "
          f"arrived: first screen {first - arrived:.2f} s, whole log {done - arrived:.2f} s; "
          f"RSS +{growth:.0f} MB")
    # Time and memory targets (< 2 s, < 150 MB) are benchmark figures (bench/logs.py), reported
    # above and in the closing note, not pass/fail conditions of a functional test.
