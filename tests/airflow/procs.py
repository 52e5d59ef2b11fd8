"""Find and stop the processes the harness started, and nothing else.

Airflow renames its processes (setproctitle), and its task runners call setsid/setpgid, so we
cannot rely on names, environments or a single process group. We record (pid, start time) for each
process we start; at stop time we snapshot every descendant and every member of their sessions and
process groups, then TERM, wait, and KILL the leftovers. A pid is only signalled while its start
time still matches, so a recycled pid is never hit.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcId:
    pid: int
    start: int  # start time in clock ticks since boot (/proc/PID/stat field 22)


@dataclass(frozen=True)
class _Stat:
    pid: int
    state: str
    ppid: int
    pgrp: int
    session: int
    start: int


def _read_stat(pid: int) -> _Stat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    rest = raw[raw.rindex(")") + 2 :].split()
    return _Stat(
        pid=pid,
        state=rest[0],
        ppid=int(rest[1]),
        pgrp=int(rest[2]),
        session=int(rest[3]),
        start=int(rest[19]),
    )


def _all_stats() -> list[_Stat]:
    stats = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _read_stat(int(entry))
            if st is not None:
                stats.append(st)
    return stats


def proc_id(pid: int) -> ProcId:
    st = _read_stat(pid)
    if st is None:
        raise ProcessLookupError(pid)
    return ProcId(pid, st.start)


def is_alive(p: ProcId) -> bool:
    st = _read_stat(p.pid)
    return st is not None and st.start == p.start and st.state not in ("Z", "X")


def family(roots: list[ProcId]) -> set[ProcId]:
    """The live roots, their descendants, and every process in their sessions or groups."""
    stats = _all_stats()
    live_roots = {r.pid for r in roots if is_alive(r)}
    groups = {st.pgrp for st in stats if st.pid in live_roots} | live_roots
    sessions = {st.session for st in stats if st.pid in live_roots} | live_roots
    children: dict[int, list[_Stat]] = {}
    for st in stats:
        children.setdefault(st.ppid, []).append(st)
    found: dict[int, _Stat] = {st.pid: st for st in stats if st.pid in live_roots}
    for st in stats:
        if st.pgrp in groups or st.session in sessions:
            found[st.pid] = st
    queue = list(found)
    while queue:
        for child in children.get(queue.pop(), []):
            if child.pid not in found:
                found[child.pid] = child
                queue.append(child.pid)
    me = os.getpid()
    return {
        ProcId(st.pid, st.start)
        for st in found.values()
        if st.pid != me and st.state not in ("Z", "X")
    }


def _signal(p: ProcId, sig: int) -> None:
    if is_alive(p):
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            pass


def stop_all(roots: list[ProcId], timeout: float = 20.0) -> list[ProcId]:
    """Stop the roots and everything they spawned. Returns what survived (should be empty)."""
    seen: set[ProcId] = set()
    deadline = time.monotonic() + timeout
    # TERM in rounds: a scheduler may still spawn a task runner while it shuts down.
    for _ in range(3):
        fam = family(roots) | {p for p in seen if is_alive(p)}
        seen |= fam
        if not fam:
            break
        for r in roots:
            if is_alive(r):
                try:
                    os.killpg(r.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
        for p in fam:
            _signal(p, signal.SIGTERM)
        while time.monotonic() < deadline and any(is_alive(p) for p in seen):
            time.sleep(0.2)
        if not any(is_alive(p) for p in seen):
            break
    leftovers = {p for p in seen | family(roots) if is_alive(p)}
    for p in leftovers:
        _signal(p, signal.SIGKILL)
    time.sleep(0.3)
    return sorted((p for p in leftovers if is_alive(p)), key=lambda p: p.pid)


# ---------------------------------------------------------------- what this process started
#
# Every process the harness or the bench starts is tracked here until it is stopped, so that an
# interrupt (Ctrl+C, SIGTERM, SIGHUP) or a plain interpreter exit stops all of them, and so that
# the exit status of a child that died can be reported.

_POPENS: dict[int, subprocess.Popen] = {}  # pid -> Popen of our own children (exit status)
_TRACKED: dict[ProcId, str] = {}  # ProcId -> name; stopped at exit unless untracked first


def track(proc: subprocess.Popen | int, name: str) -> ProcId:
    """Remember a process we started (and its whole family) until `untrack` or `stop_tracked`."""
    if isinstance(proc, subprocess.Popen):
        _POPENS[proc.pid] = proc
        pid = proc.pid
    else:
        pid = proc
    try:
        pid_ = proc_id(pid)
    except ProcessLookupError:  # already gone: nothing to stop, but keep its exit status
        return ProcId(pid, -1)
    _TRACKED[pid_] = name
    return pid_


def untrack(*ids: ProcId) -> None:
    """Forget these processes; reap (and forget) the ones that are our finished children."""
    for p in ids:
        _TRACKED.pop(p, None)
        popen = _POPENS.get(p.pid)
        if popen is not None and popen.poll() is not None:
            del _POPENS[p.pid]


def tracked() -> dict[ProcId, str]:
    return dict(_TRACKED)


def exit_status(pid: int) -> str | None:
    """How our child `pid` ended ("exit code 1", "killed by signal 11 (SIGSEGV)"), or None if it
    still runs or is not our child (then nobody here can know)."""
    popen = _POPENS.get(pid)
    if popen is None:
        return None
    rc = popen.poll()
    if rc is None:
        return None
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = "?"
        return f"killed by signal {-rc} ({name})"
    return f"exit code {rc}"


def stop_tracked(exclude: set[ProcId] | frozenset = frozenset(), timeout: float = 20.0) -> list:
    """Stop every tracked process (but `exclude`) and its family; returns the survivors."""
    roots = [p for p in list(_TRACKED) if p not in exclude]
    if not roots:
        return []
    survivors = stop_all(roots, timeout)
    untrack(*roots)
    return survivors


def _stop_tracked_at_exit() -> None:
    if _TRACKED:
        names = sorted(set(_TRACKED.values()))
        print(f"[procs] stopping what this process started: {', '.join(names)}",
              file=sys.stderr, flush=True)
        stop_tracked()


atexit.register(_stop_tracked_at_exit)


class Interrupted(BaseException):
    """Raised in the main thread by a SIGINT, SIGTERM or SIGHUP (see install_signal_handlers)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def install_signal_handlers(prefix: str = "[procs]") -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise Interrupted in the main thread, once: the unwinding
    (finally blocks, then the atexit hook) stops what was started. A second signal while that
    runs is reported and otherwise ignored, so the cleanup is never cut short."""
    state = {"hit": False}

    def handler(signum, frame):
        if state["hit"]:
            print(f"{prefix} {signal.Signals(signum).name} again: still stopping what was "
                  "started", file=sys.stderr, flush=True)
            return
        state["hit"] = True
        raise Interrupted(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
