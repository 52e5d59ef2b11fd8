"""Soak: run the real app in a pty for a long time with accelerated polling while runs come and go,
and record its memory (RSS) over time. Not part of the test suite.

    python -m tests.airflow.harness up 3 --state /tmp/af3.json
    python bench/soak.py /tmp/af3.json --minutes 60 --poll 0.2 --out bench/results/soak.json
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import struct
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.airflow.harness import AirflowServer  # noqa: E402

DAGS = [("example_success", {}), ("example_fail", {}), ("example_params", {"count": 3}),
        ("example_mapped", {}), ("example_taskgroup", {})]
KEYS = [b"j", b"j", b"\r", b"\r", b"\r", b"\x1b", b"\x1b", b"\x1b", b"k", b"G", b"g"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("state", type=Path)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--poll", type=float, default=0.2, help="profile poll_seconds")
    ap.add_argument("--trigger-every", type=float, default=20.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    server = AirflowServer.from_json(args.state.read_text())

    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"astro-tui-soak-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    config = work / "config.toml"
    config.write_text(
        'default_profile = "soak"\n[profiles.soak]\n'
        f'url = "{server.url}"\nauth = "password"\nusername = "{server.username}"\n'
        'secret = "env:SOAK_PASSWORD"\n'
        f"poll_seconds = {args.poll}\n"
    )
    os.chmod(config, 0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ASTRO"))}
    env.update(TERM="xterm-256color", ASTRO_TUI_CONFIG=str(config),
               SOAK_PASSWORD=server.password)
    exe = str(Path(sys.executable).parent / "astro-tui")
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(exe, [exe, "--fresh"], env)  # no saved session
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    written = [0]

    def drain() -> None:
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            written[0] += len(chunk)

    threading.Thread(target=drain, daemon=True).start()
    with server.http_client(timeout=30) as c:
        for dag_id, _ in DAGS:
            c.patch(f"{server.api}/dags/{dag_id}", json={"is_paused": False})
    samples: list[dict] = []
    start = time.monotonic()
    end = start + args.minutes * 60
    next_trigger = start
    next_key = start + 10
    next_sample = start
    triggered = 0
    keys = 0
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_trigger:
            dag_id, conf = DAGS[triggered % len(DAGS)]
            body: dict = {"conf": conf}
            if server.major == 3:
                body["logical_date"] = None
            try:
                with server.http_client(timeout=30) as c:
                    c.post(f"{server.api}/dags/{dag_id}/dagRuns", json=body)
                triggered += 1
            except Exception as exc:  # noqa: BLE001 - the soak goes on
                print(f"trigger failed: {exc}", file=sys.stderr)
            next_trigger = now + args.trigger_every
        if now >= next_key:
            os.write(fd, KEYS[keys % len(KEYS)])
            keys += 1
            next_key = now + 3
        if now >= next_sample:
            samples.append({"t": round(now - start), "rss_mb": round(rss_mb(pid), 1),
                            "cpu_s": round(cpu_seconds(pid), 1)})
            print(json.dumps(samples[-1]), flush=True)
            next_sample = now + 30
        time.sleep(0.5)
    samples.append({"t": round(time.monotonic() - start), "rss_mb": round(rss_mb(pid), 1),
                    "cpu_s": round(cpu_seconds(pid), 1)})
    os.write(fd, b"q")
    time.sleep(2)
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    after_warmup = [s for s in samples if s["t"] >= 60] or samples
    result = {
        "minutes": args.minutes, "poll_seconds": args.poll, "runs_triggered": triggered,
        "keys_sent": keys, "terminal_bytes": written[0],
        "rss_start_mb": after_warmup[0]["rss_mb"], "rss_end_mb": samples[-1]["rss_mb"],
        "rss_peak_mb": max(s["rss_mb"] for s in samples),
        "cpu_percent": round(100 * samples[-1]["cpu_s"] / (samples[-1]["t"] or 1), 1),
        "samples": samples,
    }
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
