"""Issue 13: the harness and the bench never hang on a dead Airflow and never leave processes
behind. Each test runs the real command (`python -m bench`, `python -m tests.airflow.harness up`)
against a real, small Airflow 3 and waits for what it prints, never for a fixed time."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.airflow.procs import family, is_alive, proc_id

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"\[harness\] started (\S+) \(pid (\d+)\), log: (\S+)")


class Cmd:
    """A command in its own session; its stderr lines arrive on a queue as it prints them."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("NO_COLOR", None)
        self.p = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
        self.lines: list[str] = []
        self._q: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.p.stderr:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def wait_line(self, pattern: str, timeout: float) -> re.Match:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if m := rx.search(line):
                return m
        raise AssertionError(f"no line matching {pattern!r}; got:\n" + "\n".join(self.lines))

    def finish(self, timeout: float) -> int:
        """Wait for the exit (collecting every line); kill it and fail if it takes longer."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"still running after {timeout:.0f} s (it hangs):\n"
                                 + "\n".join(self.lines)) from None
        while (line := self._q.get(timeout=10)) is not None:
            self.lines.append(line)
        return self.p.returncode

    def kill(self) -> None:
        from tests.airflow.procs import stop_all

        stop_all([proc_id(self.p.pid)], timeout=10)

    def started(self) -> dict[str, tuple[int, str]]:
        """{name: (pid, log)} from the harness's "started" lines so far."""
        return {m[1]: (int(m[2]), m[3]) for line in self.lines if (m := STARTED.search(line))}


def _leftovers(procs) -> list:
    deadline = time.monotonic() + 10  # reaping by init may lag a little
    while (alive := [p for p in procs if is_alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def test_the_bench_fails_in_one_line_when_the_api_server_dies(tmp_path):
    """The crash of issue 13: the api-server segfaults while P1 waits for the app."""
    cmd = Cmd("-m", "bench", "--dags", "0", "--no-flowrs", "--only", "P1", "--reps", "50",
              "--out", str(tmp_path / "out.json"))
    home = None
    try:
        cmd.wait_line(r"\[bench\] server .* home (\S+) \(ours\)", 600)
        cmd.wait_line(r"P1 rep 0 ours: ", 300)  # P1 runs ...
        api_pid, api_log = cmd.started()["api-server"]
        home = Path(api_log).parent
        everyone = family([proc_id(cmd.p.pid)])
        assert {pid for pid, _ in cmd.started().values()} <= {p.pid for p in everyone}
        os.kill(api_pid, signal.SIGSEGV)  # ... until the api-server crashes
        t0 = time.monotonic()
        rc = cmd.finish(timeout=120)
        took = time.monotonic() - t0
    finally:
        if cmd.p.poll() is None:
            cmd.kill()
    assert rc == 1, "\n".join(cmd.lines)
    failures = [line for line in cmd.lines if "FAILED" in line]
    assert failures == [
        f"[bench] FAILED: Airflow 3 api-server (pid {api_pid}) died: killed by signal 11 "
        f"(SIGSEGV); its log is kept in {api_log}"
    ], "\n".join(cmd.lines)
    assert took < 90, "\n".join(cmd.lines)
    assert Path(api_log).is_file() and home.is_dir()  # the logs are kept
    assert not _leftovers(everyone), "\n".join(cmd.lines)
    assert not (tmp_path / "out.json").exists()
    shutil.rmtree(home, ignore_errors=True)


def test_sigterm_to_harness_up_while_it_starts_leaves_nothing(tmp_path):
    cmd = Cmd("-m", "tests.airflow.harness", "up", "3", "--state", str(tmp_path / "s.json"))
    try:
        cmd.wait_line(r"\[harness\] started dag-processor", 600)  # every server process is up
        started = cmd.started()
        everyone = family([proc_id(cmd.p.pid)])
        assert {pid for pid, _ in started.values()} <= {p.pid for p in everyone}
        cmd.p.send_signal(signal.SIGTERM)
        rc = cmd.finish(timeout=120)
    finally:
        if cmd.p.poll() is None:
            cmd.kill()
    assert rc == 128 + signal.SIGTERM, "\n".join(cmd.lines)
    assert not _leftovers(everyone)
    home = Path(started["api-server"][1]).parent
    assert not home.exists()  # nothing died: nothing to keep
    assert not (tmp_path / "s.json").exists()


def test_sigint_to_the_bench_stops_its_apps_and_spares_a_server_it_did_not_start(
        airflow3, tmp_path):
    state = tmp_path / "state.json"
    state.write_text(airflow3.to_json())
    cmd = Cmd("-m", "bench", "--state", str(state), "--no-flowrs", "--only", "P1", "--reps",
              "50", "--out", str(tmp_path / "out.json"))
    try:
        cmd.wait_line(r"P1 rep 0 ours: first [\d.]+", 300)
        # Catch an app under test running (a rep launches a new one every few seconds).
        deadline = time.monotonic() + 120
        while True:
            everyone = family([proc_id(cmd.p.pid)])
            if len(everyone) > 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(everyone) > 1, "no app under test seen"
        cmd.p.send_signal(signal.SIGINT)
        rc = cmd.finish(timeout=60)
    finally:
        if cmd.p.poll() is None:
            cmd.kill()
    assert rc == 128 + signal.SIGINT, "\n".join(cmd.lines)
    assert any("interrupted by SIGINT" in line for line in cmd.lines)
    assert not _leftovers(everyone)
    assert airflow3.death() is None  # not the bench's server: still running
