"""The fleet's cost (issue 17): N deployments watched at once against one deployment, side by side.

The same harness server stands behind N profiles, each through its own counting relay
(bench/relay.py), so each deployment's requests are counted apart. `astro-tui` runs in a real pty
(120x40) on the overview, first with one profile, then with `--all-profiles` over N; after
`--warmup` seconds it measures `--seconds` of idle: requests per minute per deployment, bytes
written to the terminal, and the app's CPU.

    python -m tests.airflow.harness up 3 --state /tmp/af3.json
    python bench/fleet.py /tmp/af3.json --deployments 10 --seconds 60 --out bench/results/fleet10.json

Goal: N deployments cost at most N times one deployment's overview requests, and the app's idle
CPU stays under 1 % of a core.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.idle import cpu_seconds, drain, quit_app  # noqa: E402
from bench.relay import Relay  # noqa: E402


def run(server: dict, n: int, warmup: float, seconds: float) -> dict:
    relays = [Relay("127.0.0.1", server["port"]).start() for _ in range(n)]
    home = Path(tempfile.mkdtemp(prefix="astro-tui-fleet-bench-"))
    config = home / "config.toml"
    config.write_text("".join(
        f'[profiles.d{i:02d}]\nurl = "{r.url}"\nauth = "password"\n'
        f'username = "{server["username"]}"\nsecret = "env:BENCH_PASSWORD"\n'
        for i, r in enumerate(relays)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASTRO_", "AIRFLOW_"))}
    env.update(TERM="xterm-256color", ASTRO_TUI_CONFIG=str(config),
               ASTRO_TUI_STATE_DIR=str(home / "state"), ASTRO_TUI_DATA_DIR=str(home / "data"),
               BENCH_PASSWORD=server["password"])
    exe = str(Path(sys.executable).parent / "astro-tui")
    argv = [exe, "--fresh", "--all-profiles"] if n > 1 else [exe, "--fresh", "--profile", "d00"]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(exe, argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    drain(fd, time.monotonic() + warmup)
    t0, cpu0 = time.monotonic(), cpu_seconds(pid)
    written = drain(fd, time.monotonic() + seconds)
    cpu = cpu_seconds(pid) - cpu0
    per = [len(r.since(t0)) for r in relays]
    down = [sum(q.down for q in r.since(t0)) for r in relays]
    quit_app(pid, fd)
    for r in relays:
        r.stop()
    minutes = seconds / 60
    return {
        "deployments": n,
        "requests_per_min": round(sum(per) / minutes, 1),
        "requests_per_min_each": [round(x / minutes, 1) for x in per],
        "kb_per_min": round(sum(down) / 1024 / minutes, 1),
        "idle_bytes_per_min": round(written / minutes),
        "idle_cpu_percent_of_one_core": round(100 * cpu / seconds, 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("state", type=Path, help="state file written by `harness up`")
    ap.add_argument("--deployments", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    server = json.loads(args.state.read_text())
    one = run(server, 1, args.warmup, args.seconds)
    many = run(server, args.deployments, args.warmup, args.seconds)
    ratio = many["requests_per_min"] / one["requests_per_min"] if one["requests_per_min"] else None
    result = {
        "airflow": server.get("version"), "one": one, "many": many,
        "requests_ratio": round(ratio, 2) if ratio is not None else None,
        "requests_goal": f"<= {args.deployments} (N x one deployment's overview)",
        "cpu_goal_percent": 1.0,
        "ok": ratio is not None and ratio <= args.deployments
        and many["idle_cpu_percent_of_one_core"] < 1.0,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
