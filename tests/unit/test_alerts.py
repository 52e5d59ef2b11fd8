"""Which runs end (astro_tui/watch/ends.py) and what alerts (astro_tui/watch/alerts.py): the
notify modes and the person's watches, driven by a real Watcher under plain asyncio against the
recorded fake deployment (tests/ui/fake.py). Tests wait for state, never for a fixed time."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timezone

import pytest

from astro_tui.airflow.models import DagRun
from astro_tui.notify import Alert, Limiter, run_alert
from astro_tui.watch import alerts as alerts_module, ends as ends_module
from astro_tui.watch.alerts import Alerts, Watch
from astro_tui.watch.ends import Ends
from astro_tui.watch.events import RunEnded
from tests.conftest import until
from tests.ui.fake import FakeDeployment
from tests.unit.test_watcher import DEADLINE, LONG_RUN, SETTINGS, Events, changes_polls, dag_list

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def run(dag: str, run_id: str, state: str | None, end: str | None = None) -> DagRun:
    return DagRun.from_json({"dag_id": dag, "dag_run_id": run_id, "state": state,
                             "end_date": end})


# -- Ends ------------------------------------------------------------------------------------------


def test_only_runs_that_end_after_watching_began_end():
    ends = Ends()
    assert ends.feed([run("a", "r", "failed", "2026-12-01T12:05:00Z")]) == []  # not begun
    ends = Ends()
    ends.begin(T0, [run("a", "old", "failed"), run("b", "r1", "running")])
    assert ends.feed([run("a", "old", "failed")]) == []  # failed before: never
    assert ends.feed([run("b", "r1", "running")]) == []
    ended = ends.feed([run("b", "r1", "failed"), run("c", "r2", "running")])
    assert [(r.run_id, before) for r, before in ended] == [("r1", "running")]
    assert ends.feed([run("b", "r1", "failed")]) == []  # seen again: once only
    # first seen already over: only if it ended after watching began
    assert ends.feed([run("d", "yesterday", "failed", "2026-11-30T08:00:00Z")]) == []
    late = ends.feed([run("d", "new", "success", "2026-12-01T12:00:05Z")])
    assert [(r.run_id, before) for r, before in late] == [("new", None)]
    # marked success after failing: the run did not end again
    assert ends.feed([run("b", "r1", "success")]) == []
    # cleared and run again: it ends again
    assert ends.feed([run("b", "r1", "queued")]) == []
    assert [r.state for r, _ in ends.feed([run("b", "r1", "failed")])] == ["failed"]


def test_an_all_day_monitor_forgets_the_runs_that_ended_longest_ago(monkeypatch):
    """Ends remembers every run it saw: over MAX_KNOWN it forgets those that ended first, and
    they do not end again when seen again; the runs still going are kept."""
    monkeypatch.setattr(ends_module, "MAX_KNOWN", 8)
    ends = Ends()
    ends.begin(T0, [run("a", "going", "running")])
    done = [run("a", f"r{i}", "success", f"2026-12-01T12:{i:02d}:00Z") for i in range(10)]
    assert len(ends.feed(done)) == 10  # (each ended after watching began)
    assert len(ends._state) <= 8 and ("a", "going") in ends._state
    assert ("a", "r0") not in ends._state and ("a", "r9") in ends._state
    # a forgotten run seen again, still over: it did not end again
    assert ends.feed([run("a", "r0", "success", "2026-12-01T12:00:00Z")]) == []
    assert ends.feed(done) == []
    # a forgotten run cleared and run again ends again; the one going ends once
    assert ends.feed([run("a", "r1", "queued")]) == []
    again = ends.feed([run("a", "r1", "failed", "2026-12-01T13:00:00Z"),
                       run("a", "going", "failed", "2026-12-01T13:00:00Z")])
    assert [(r.run_id, before) for r, before in again] == [("r1", "queued"), ("going", "running")]
    # a new run that ended after the forgotten ones is new
    late = ends.feed([run("b", "new", "failed", "2026-12-01T12:30:00Z")])
    assert [r.run_id for r, _ in late] == ["new"]


def test_watch_round_trips_and_junk_is_refused():
    for watch in (Watch("dag", "etl"), Watch("run", "etl", "r1"), Watch("task", "etl", "r1", "t[2]")):
        assert Watch.from_json(json.loads(json.dumps(watch.to_json()))) == watch
    for junk in (None, [], {"kind": "dag"}, {"kind": "nope", "dag_id": "x"},
                 {"kind": "run", "dag_id": "x"}, {"kind": "task", "dag_id": "x", "run_id": "r"},
                 {"kind": "dag", "dag_id": 3}, {"kind": "run", "dag_id": "x", "run_id": ["r"]}):
        with pytest.raises(ValueError):
            Watch.from_json(junk)


# -- Alerts on a Watcher -----------------------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def __call__(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)

    def titles(self) -> list[str]:
        return [a.title for a in self.alerts]


@pytest.fixture
def fake() -> FakeDeployment:
    return FakeDeployment()


@pytest.fixture
async def watcher(fake):
    from astro_tui.watch.watcher import Watcher

    w = Watcher(fake.connect, SETTINGS)
    w.start()
    yield w
    await asyncio.wait_for(w.aclose(), DEADLINE)


async def alerts_on(watcher, mode: str, **kwargs) -> tuple[Alerts, Sink, Events]:
    sink = Sink()
    alerts = Alerts(watcher, sink, mode=mode, **kwargs)
    alerts.start()
    listened = Events()
    watcher.listen(listened)
    await dag_list(watcher)
    return alerts, sink, listened


async def test_failures_mode_alerts_on_a_new_failure_only(watcher, fake):
    alerts, sink, listened = await alerts_on(watcher, "failures")
    await changes_polls(fake, 2)
    assert sink.alerts == []  # example_fail failed before: never alerts
    fake.add_run("example_success", "manual__ok", "running", "2026-12-01T10:00:00Z")
    fake.add_run("example_fail", "manual__bad", "running", "2026-12-01T10:00:00Z")
    await changes_polls(fake, 2)
    fake.set_run_state("example_success", "manual__ok", "success")
    fake.set_run_state("example_fail", "manual__bad", "failed")
    await until(lambda: sink.alerts, "the failure's alert")
    await until(lambda: len(listened.of(RunEnded)) == 2, "both ends heard")
    assert sink.titles() == ["example_fail: failed"]  # the success did not alert
    assert sink.alerts[0].run.run_id == "manual__bad" and sink.alerts[0].watched is None
    await alerts.aclose()


async def test_all_mode_alerts_every_end(watcher, fake):
    alerts, sink, _ = await alerts_on(watcher, "all")
    fake.set_run_state("example_long", LONG_RUN, "success")
    await until(lambda: sink.alerts, "the alert")
    assert sink.titles() == ["example_long: success"]
    await alerts.aclose()


async def test_a_watched_run_alerts_once_even_with_notify_off(watcher, fake):
    alerts, sink, _ = await alerts_on(watcher, "off")
    watch = Watch("run", "example_long", LONG_RUN)
    assert alerts.toggle(watch) and alerts.watching(watch)
    assert alerts.marks()[1] == {("example_long", LONG_RUN)}
    fake.set_run_state("example_long", LONG_RUN, "failed")
    await until(lambda: sink.alerts, "the watched run's alert")
    assert sink.alerts[0].watched == "run" and sink.titles() == ["example_long: failed"]
    assert not alerts.watching(watch)  # a watch alerts once, then goes
    await alerts.aclose()


async def test_a_watched_dag_alerts_when_its_next_run_ends(watcher, fake):
    alerts, sink, _ = await alerts_on(watcher, "off")
    alerts.add(Watch("dag", "example_success"))
    fake.add_run("example_success", "manual__next", "running", "2026-12-01T10:00:00Z")
    await changes_polls(fake, 2)
    assert sink.alerts == []
    fake.set_run_state("example_success", "manual__next", "success")
    await until(lambda: sink.alerts, "the DAG's next run's alert")
    assert sink.alerts[0].watched == "dag" and alerts.watches == []
    await alerts.aclose()


async def test_a_watched_task_alerts_when_it_ends_and_its_tasks_poll_stops(watcher, fake):
    alerts, sink, _ = await alerts_on(watcher, "off")
    alerts.add(Watch("task", "example_long", LONG_RUN, "tick"))
    tasks_path = f"/api/v2/dags/example_long/dagRuns/{LONG_RUN}/taskInstances"
    await until(lambda: fake.count(tasks_path) >= 2, "the watched task's run polled")
    assert sink.alerts == []  # still running
    fake.tis[f"example_long {LONG_RUN}"][0]["state"] = "failed"
    await until(lambda: sink.alerts, "the watched task's alert")
    alert = sink.alerts[0]
    assert (alert.title, alert.task, alert.state, alert.watched) == (
        "tick: failed", "tick", "failed", "task")
    assert alerts.watches == [] and not any(
        getattr(t, "run_id", None) == LONG_RUN for t in watcher.topics())
    await alerts.aclose()


async def test_fifty_failures_at_once_are_one_alert_and_late_ones_leave_as_a_summary(watcher):
    sink = Sink()
    alerts = Alerts(watcher, sink, mode="failures", limiter=Limiter(burst=1, window=0.3))
    alerts.send([run_alert(run(f"dag_{n:02}", "r", "failed")) for n in range(50)])
    assert sink.titles() == ["50 runs failed"]
    alerts.send([run_alert(run("late", "r", "failed"))])  # the window is full: it waits
    alerts.send([run_alert(run("later", "r", "failed"))])
    assert sink.titles() == ["50 runs failed"]
    await until(lambda: len(sink.alerts) == 2, "the window's end")
    assert sink.titles()[1] == "2 runs failed" and sink.alerts[1].body == "late, later"
    await alerts.aclose()


# -- the notify_command hook -----------------------------------------------------------------------


async def test_the_hook_reads_the_alert_as_json_on_stdin(watcher, tmp_path):
    out = tmp_path / "event.json"
    script = tmp_path / "hook.py"
    script.write_text(f"import sys\nopen({str(out)!r}, 'w').write(sys.stdin.read())\n")
    errors: list[str] = []
    alerts = Alerts(watcher, Sink(), mode="failures", profile="prod",
                    command=f"{sys.executable} {script}", on_hook_error=errors.append)
    alerts.send([run_alert(run("etl", "r1", "failed"))])
    await until(lambda: out.exists() and out.read_text(), "the hook's output")
    event = json.loads(out.read_text())
    assert (event["profile"], event["dag_id"], event["state"]) == ("prod", "etl", "failed")
    await until(lambda: alerts.hooks_running == 0, "the hook finished")
    assert errors == []
    await alerts.aclose()


async def test_a_hook_that_hangs_is_stopped_and_said_once(watcher, tmp_path, monkeypatch):
    monkeypatch.setattr(alerts_module, "HOOK_TIMEOUT", 0.3)
    errors: list[str] = []
    alerts = Alerts(watcher, Sink(), mode="failures",
                    command=f"{sys.executable} -c 'import time; time.sleep(60)'",
                    on_hook_error=errors.append)
    alerts.send([run_alert(run("etl", "r1", "failed"))])
    await until(lambda: errors, "the timeout")
    assert errors == ["notify_command took over 0.3 s: stopped"]
    bad = Alerts(watcher, Sink(), mode="failures", command=str(tmp_path / "missing"),
                 on_hook_error=errors.append)
    bad.send([run_alert(run("etl", "r2", "failed"))])
    await until(lambda: len(errors) == 2, "the start failure")
    assert errors[1].startswith("notify_command could not start")
    await alerts.aclose()
    await bad.aclose()
