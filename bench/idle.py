"""Idle cost of the live monitor: CPU and bytes written to the terminal while nothing changes.

Runs `astro-tui` in a real pty (120x40, TERM=xterm-256color) against a running harness server,
waits `--warmup` seconds, then counts every byte the app writes and its CPU time for `--seconds`.

    python -m tests.airflow.harness up 3 --state /tmp/af3.json
    python bench/idle.py /tmp/af3.json --seconds 60
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import struct
import sys
import termios
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain(fd: int, until: float) -> int:
    total = 0
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return total
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return total
            if not chunk:
                return total
            total += len(chunk)


def quit_app(pid: int, fd: int) -> None:
    """`q`, then SIGTERM if it is still there; reaped."""
    os.write(fd, b"q")
    drain(fd, time.monotonic() + 2)
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("state", type=Path, help="state file written by `harness up`")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=15)
    args = ap.parse_args()
    server = json.loads(args.state.read_text())
    env = dict(os.environ, TERM="xterm-256color", AIRFLOW_API_URL=server["url"],
               AIRFLOW_USERNAME=server["username"], AIRFLOW_PASSWORD=server["password"])
    env.pop("ASTRO_AIRFLOW_URL", None)
    exe = str(Path(sys.executable).parent / "astro-tui")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(exe, [exe, "--fresh"], env)  # no saved session
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    startup = drain(fd, time.monotonic() + args.warmup)
    cpu0 = cpu_seconds(pid)
    written = drain(fd, time.monotonic() + args.seconds)
    cpu = cpu_seconds(pid) - cpu0
    quit_app(pid, fd)
    print(json.dumps({
        "seconds": args.seconds,
        "startup_bytes": startup,
        "idle_bytes": written,
        "idle_bytes_per_min": round(written * 60 / args.seconds),
        "idle_cpu_percent_of_one_core": round(100 * cpu / args.seconds, 3),
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
