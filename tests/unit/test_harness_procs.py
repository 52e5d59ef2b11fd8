"""The harness stops what it started, including processes that escaped into new sessions."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.airflow.procs import family, is_alive, proc_id, stop_all

# A parent that starts a child in a new session (as Airflow's task runners do), then waits.
SPAWNER = r"""
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         start_new_session=True)
print(child.pid, flush=True)
time.sleep(120)
"""


def test_stop_all_kills_descendants_that_called_setsid():
    parent = subprocess.Popen(
        [sys.executable, "-c", SPAWNER], stdout=subprocess.PIPE, start_new_session=True, text=True
    )
    child_pid = int(parent.stdout.readline())
    root = proc_id(parent.pid)
    child = proc_id(child_pid)
    assert {root, child} <= family([root])
    assert stop_all([root], timeout=10) == []
    parent.wait(timeout=5)
    assert not is_alive(child)


def test_stop_all_never_touches_a_recycled_pid():
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    real = proc_id(victim.pid)
    stale = type(real)(real.pid, real.start + 1)  # same pid, other start time
    assert stop_all([stale], timeout=2) == []
    time.sleep(0.2)
    assert is_alive(real)
    victim.kill()
    victim.wait()
