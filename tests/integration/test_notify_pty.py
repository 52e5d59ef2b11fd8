"""Alerts from a real terminal (issue 16's acceptance): `astro-tui --notify failures` runs in a
pty "inside tmux" ($TMUX set, which is what changes the wrapping) against the real Airflow 3;
a failing DAG is triggered from outside (the REST API, as another shell would). The app's
output must then hold a BEL and the tmux-wrapped OSC 9 / OSC 777 notification for that run
within two poll intervals of the run's end (the server runs on this machine: one clock)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.integration.test_log_live import RUN_TIMEOUT, run_state, trigger
from tests.integration.test_log_pty import Terminal, app_env

pytestmark = pytest.mark.integration

POLL_SECONDS = 5.0  # the profile default: the "runs changed since" poll's interval


def end_time(server, dag_id: str, run_id: str) -> float:
    with server.http_client(timeout=30) as c:
        r = c.get(f"{server.api}/dags/{dag_id}/dagRuns/{run_id}")
        r.raise_for_status()
        return datetime.fromisoformat(r.json()["end_date"].replace("Z", "+00:00")).timestamp()


def test_notify_failures_reaches_the_terminal_through_tmux(airflow3, tmp_path):
    term = Terminal(app_env(airflow3, tmp_path, TMUX="/tmp/tmux-0/default,1,0"),
                    args=("--notify", "failures"))
    try:
        term.wait_text("example_taskgroup", 90)  # the overview is up (and watching)
        run_id = trigger(airflow3, "example_fail", {})
        deadline = time.monotonic() + RUN_TIMEOUT
        while run_state(airflow3, "example_fail", run_id) not in ("success", "failed"):
            assert time.monotonic() < deadline, "example_fail did not finish"
            term.read(1.0)  # (reading all along: a full pty would stall the app's writes)
        assert run_state(airflow3, "example_fail", run_id) == "failed"
        ended = end_time(airflow3, "example_fail", run_id)
        # tmux passthrough: DCS "tmux;" with every ESC doubled, then ST
        osc9 = f"\x1bPtmux;\x1b\x1b]9;example_fail: failed: {run_id}\x07\x1b\\"
        osc777 = f"\x1bPtmux;\x1b\x1b]777;notify;example_fail: failed;{run_id}\x07\x1b\\"
        deadline = time.monotonic() + 60
        while osc9.encode() not in term.out and time.monotonic() < deadline:
            term.read(0.1)
        seen = time.time()
        raw = bytes(term.out)
        assert osc9.encode() in raw, "no notification"
        assert osc777.encode() in raw
        assert ("\x07" + osc9).encode() in raw  # the bell, just before
        latency = seen - ended
        print(f"alert {latency:.1f} s after the run ended (poll {POLL_SECONDS:g} s)")
        assert latency <= 2 * POLL_SECONDS, f"the alert took {latency:.1f} s"
        # no plain OSC 9 outside the tmux wrapping
        assert re.search(rb"(?<!\x1b)\x1b\]9;", raw) is None
    finally:
        term.close()


def test_sighup_saves_the_session_and_the_next_start_reopens_there(airflow3, tmp_path):
    """An SSH drop (SIGHUP) ends the app after it wrote where it was; the next start, in a new
    terminal, reopens the drill-down on the same DAG and paints the saved DAG list."""
    env = app_env(airflow3, tmp_path)
    term = Terminal(env)
    try:
        term.wait_text("example_taskgroup", 90)
        term.press("/", 1)
        term.press("example_success", 1)
        term.press("\r", 1)  # keep the filter
        term.press("\r", 1)  # the drill-down on example_success's runs
        term.wait_text("· example_success", 30)
        os.kill(term.pid, signal.SIGHUP)
        deadline = time.monotonic() + 30
        while os.waitpid(term.pid, os.WNOHANG) == (0, 0):
            assert time.monotonic() < deadline, "the app did not end on SIGHUP"
            term.read(0.2)
    finally:
        try:
            os.kill(term.pid, signal.SIGKILL)
            os.waitpid(term.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(term.fd)
    sessions = list((tmp_path / "state" / "sessions").glob("*.json"))
    assert len(sessions) == 1 and stat.S_IMODE(sessions[0].stat().st_mode) == 0o600
    saved = json.loads(sessions[0].read_text())
    assert (saved["screen"], saved["dag_id"], saved["pane"]) == ("main", "example_success", "runs")
    assert list((tmp_path / "state" / "cache").glob("*.json"))  # the DAG list too

    again = Terminal(env)
    try:
        again.wait_text("· example_success", 60)  # the runs pane of the same DAG, at once
        assert "Inbox" not in again.screen_text()  # the drill-down, not the overview
    finally:
        again.close()


def test_an_alert_passes_through_a_real_tmux_to_the_outer_terminal(airflow3, tmp_path):
    """The acceptance end to end: astro-tui runs inside a real tmux (allow-passthrough on), and
    the bytes tmux writes to ITS terminal (our pty) carry the desktop notification, unwrapped
    by tmux, and a bell."""
    tmux = shutil.which("tmux")
    assert tmux, "tmux is needed (.ci/run installs it)"
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g allow-passthrough on\nset -g status off\n")
    socket = f"astro-tui-test-{os.getpid()}"
    app = f"{Path(sys.executable).parent / 'astro-tui'} --notify failures"
    env = app_env(airflow3, tmp_path)
    outer = Terminal(env, argv=[tmux, "-L", socket, "-f", str(conf), "new-session", app])
    try:
        outer.wait_text("example_taskgroup", 90)  # the overview, drawn through tmux
        run_id = trigger(airflow3, "example_fail", {})
        deadline = time.monotonic() + RUN_TIMEOUT
        while run_state(airflow3, "example_fail", run_id) not in ("success", "failed"):
            assert time.monotonic() < deadline, "example_fail did not finish"
            outer.read(1.0)
        osc9 = f"\x1b]9;example_fail: failed: {run_id}\x07".encode()
        deadline = time.monotonic() + 2 * POLL_SECONDS + 10
        while osc9 not in outer.out and time.monotonic() < deadline:
            outer.read(0.2)
        assert osc9 in outer.out, "tmux did not pass the notification through"
        assert b"\x07" in outer.out.replace(osc9, b"")  # the bell too
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], check=False, capture_output=True)
        outer.close()
