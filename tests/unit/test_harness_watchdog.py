"""The harness and the bench cannot hang and leave nothing behind (checked without Airflow):
a dead server process becomes one clear line, a phase past its limit fails, an interrupt stops
every process started, and the home with the logs is kept when a process died."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.airflow import harness
from tests.airflow.procs import (
    ProcId,
    exit_status,
    family,
    is_alive,
    proc_id,
    stop_tracked,
    track,
    tracked,
    untrack,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _own_registry(monkeypatch):
    """A registry of our own: the session's real servers (tracked in this process) stay out."""
    from tests.airflow import procs

    monkeypatch.setattr(procs, "_TRACKED", {})
    monkeypatch.setattr(procs, "_POPENS", {})
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _server(tmp_path, *names: str) -> tuple[harness.AirflowServer, dict[str, subprocess.Popen]]:
    """A server record whose "processes" are sleepers we started (tracked like the harness's)."""
    home = tmp_path / "home"
    home.mkdir()
    s = harness.AirflowServer(major=3, url="http://127.0.0.1:1", port=1, home=str(home),
                              venv="/nonexistent")
    popens = {}
    for name in names:
        p = subprocess.Popen(SLEEPER, start_new_session=True)
        pid = track(p, name)
        popens[name] = p
        s.procs.append({"name": name, "pid": pid.pid, "start": pid.start,
                        "log": str(home / f"{name}.log"), "args": []})
    return s, popens


def _wait(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_segfaulted_process_is_one_line_naming_it_its_signal_and_log(tmp_path):
    s, popens = _server(tmp_path, "api-server", "scheduler")
    try:
        assert s.death() is None
        os.kill(popens["api-server"].pid, signal.SIGSEGV)
        _wait(lambda: s.death() is not None)
        msg = s.death()
        assert msg == (f"Airflow 3 api-server (pid {popens['api-server'].pid}) died: killed by "
                       f"signal 11 (SIGSEGV); its log is kept in {s.home}/api-server.log")
        with pytest.raises(harness.ServerDied, match="api-server"):
            s.check()
    finally:
        s.stop()
    assert Path(s.home).is_dir(), "a process died: the home with its logs must be kept"
    assert not tracked()


def test_exit_codes_are_reported_and_a_clean_stop_removes_the_home(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"], start_new_session=True)
    p.wait()
    track(p, "quitter")
    assert exit_status(p.pid) == "exit code 3"
    s, _ = _server(tmp_path, "scheduler")
    s.stop()
    assert not Path(s.home).exists()
    assert not tracked()


def test_the_watchdog_raises_a_death_out_of_a_blocking_wait(tmp_path):
    s, popens = _server(tmp_path, "api-server")
    r, w = os.pipe()
    try:
        with harness.Watchdog(s, interval=0.1) as dog:
            t0 = time.monotonic()
            with pytest.raises(harness.ServerDied, match=r"api-server .* signal 11 \(SIGSEGV\)"):
                with dog.phase("P1", 600):
                    os.kill(popens["api-server"].pid, signal.SIGSEGV)
                    select.select([r], [], [], 60)  # would block for a minute
            assert time.monotonic() - t0 < 10
            # Every later phase fails at once.
            with pytest.raises(harness.ServerDied):
                with dog.phase("P2", 600):
                    pytest.fail("a phase ran on a dead server")
    finally:
        os.close(r)
        os.close(w)
        s.stop()


def test_a_phase_past_its_limit_fails_and_the_next_one_runs(tmp_path):
    s, _ = _server(tmp_path, "api-server")
    try:
        with harness.Watchdog(s, interval=0.1) as dog:
            t0 = time.monotonic()
            with pytest.raises(harness.PhaseTimeout, match="P1 exceeded its time limit of 1 s"):
                with dog.phase("P1", 1):
                    time.sleep(60)
            assert time.monotonic() - t0 < 10
            with dog.phase("P5", 30):
                time.sleep(0.3)  # a phase within its limit is left alone
        time.sleep(0.3)  # no late signal may arrive after the watchdog stopped
    finally:
        s.stop()
    assert not Path(s.home).exists()


# A process that tracks a child in its own session, as the harness does, then waits.
TRACKER = textwrap.dedent("""
    import subprocess, sys, time
    sys.path.insert(0, sys.argv[1])
    from tests.airflow.procs import install_signal_handlers, track
    install_signal_handlers("[test]")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                             start_new_session=True)
    track(child, "child")
    print(child.pid, flush=True)
    time.sleep(120)
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_stops_every_tracked_process(sig):
    p = subprocess.Popen([sys.executable, "-c", TRACKER, str(ROOT)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    child = proc_id(int(p.stdout.readline()))
    everyone = family([proc_id(p.pid)])
    assert child in everyone
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode != 0
    assert "stopping what this process started: child" in err
    assert not [q for q in everyone if is_alive(q)]


def test_stop_tracked_spares_the_excluded(tmp_path):
    a = subprocess.Popen(SLEEPER, start_new_session=True)
    b = subprocess.Popen(SLEEPER, start_new_session=True)
    ia, ib = track(a, "app"), track(b, "server")
    try:
        assert stop_tracked(exclude={ib}) == []
        assert not is_alive(ia) and is_alive(ib)
        assert set(tracked()) == {ib}
    finally:
        b.kill()
        b.wait()
        untrack(ib)
        a.wait()


def test_state_written_before_the_db_option_still_loads(tmp_path):
    s = harness.AirflowServer(major=3, url="u", port=1, home=str(tmp_path), venv="v")
    old = json.loads(s.to_json())
    del old["db"], old["pg"]
    back = harness.AirflowServer.from_json(json.dumps(old))
    assert back.db == "sqlite" and back.pg == {}


def test_unknown_exit_status_for_a_server_this_process_did_not_start(tmp_path):
    s, popens = _server(tmp_path, "api-server")
    rec = s.procs[0]
    from tests.airflow import procs

    popen = procs._POPENS.pop(rec["pid"])
    untrack(ProcId(rec["pid"], rec["start"]))
    popen.kill()
    popen.wait()
    assert "exit status unknown" in s.death()
    s.stop()


def test_a_swallowed_death_is_raised_again_while_the_phase_goes_on(tmp_path):
    s, popens = _server(tmp_path, "api-server")
    try:
        with harness.Watchdog(s, interval=0.1, refire=0.5) as dog:
            with pytest.raises(harness.ServerDied):
                with dog.phase("P1", 600):
                    os.kill(popens["api-server"].pid, signal.SIGSEGV)
                    try:
                        time.sleep(30)
                    except harness.ServerDied:
                        pass  # as if it had hit a finalizer, where exceptions are lost
                    time.sleep(30)
    finally:
        s.stop()
