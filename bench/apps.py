"""The two clients under test, each launched in a real pty (120x40) against a server URL:
astro-tui (ours) and flowrs (the peer). Both expose the same small interface for the benchmark:
`term` (a bench.flowrs.FlowrsPty: keys in, screen text and output bytes out), `pid`, `open_dag`,
`open_newest_run`, `open_task_log`, `close`.

Each app is tracked (tests/airflow/procs.py) from launch to close, so an interrupted or failed
bench never leaves one running."""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from bench.flowrs import (
    KEYS,
    WAIT_FOR,
    FlowrsPty,
    ensure_flowrs,
    flowrs_argv,
    flowrs_env,
    installed_version,
    keys_open_dag,
    keys_open_task,
)
from tests.airflow.harness import example_dag_ids
from tests.airflow.procs import ProcId, stop_all, track, untrack

ROOT = Path(__file__).resolve().parents[1]


def _close(term, proc: ProcId) -> None:
    """Quit the app, then stop whatever of it (and its children) is left."""
    try:
        term.close()
    finally:
        stop_all([proc], timeout=5)
        untrack(proc)


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and all its descendants (uvicorn workers of the api-server)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += proc_cpu_seconds(p)
        except OSError:
            continue
        todo.extend(children.get(p, []))
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _dag_count(text: str) -> str | None:
    found = re.search(r"DAGs \(([\d/]+)\)", text)
    return found.group(1) if found else None


class Ours:
    name = "astro-tui"

    def __init__(self, server, url: str, workdir: Path, poll_seconds: float) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "config.toml"
        config.write_text(
            'default_profile = "bench"\n[profiles.bench]\n'
            f'url = "{url}"\nauth = "password"\nusername = "{server.username}"\n'
            'secret = "env:BENCH_PASSWORD"\n'
            f"poll_seconds = {poll_seconds}\n"
        )
        os.chmod(config, 0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ASTRO"))}
        env.update(TERM="xterm-256color", COLORTERM="truecolor", ASTRO_TUI_CONFIG=str(config),
                   BENCH_PASSWORD=server.password, HOME=str(workdir))
        env.pop("NO_COLOR", None)
        exe = str(Path(sys.executable).parent / "astro-tui")
        self.term = FlowrsPty([exe, "--fresh"], env)  # a cold start: no saved session
        self.pid = self.term.pid
        self.proc = track(self.pid, "astro-tui")
        self.first_rows = "example_biglog"  # the first DAG id in sort order

    def all_dags_painted(self, total: int, timeout: float = 60) -> float | None:
        return self.term.wait_for(f"DAGs ({total})", timeout)

    def filter_keystrokes(self, chars: str = "123") -> list[float]:
        """Open the DAG filter and type `chars` one at a time: ms from each keystroke to the
        DAG count in the title changing (the list repainted), then Esc."""
        self.term.send(b"/")
        if self.term.wait_for("Enter keeps it", 10) is None:
            return []
        out: list[float] = []
        for ch in chars:
            before = _dag_count(self.term.screen.text())
            t0 = time.monotonic()
            self.term.send(ch.encode(), gap=0)
            while time.monotonic() < t0 + 10:
                self.term.pump(0.002)
                if _dag_count(self.term.screen.text()) != before:
                    out.append(round((time.monotonic() - t0) * 1000, 1))
                    break
        self.term.send(b"\x1b")  # Esc clears the filter
        self.term.drain(1.0)
        return out

    def open_dag(self, dag_id: str) -> bool:
        self.term.send(b"/" + dag_id.encode(), gap=0.05)
        self.term.drain(0.6)  # the filter applies as you type
        self.term.send(b"\r")  # close the filter: focus back on the (filtered) table
        self.term.drain(0.5)
        self.term.send(b"\r")  # open the DAG's runs (from the overview: in the drill-down)
        return self.term.wait_for("Runs (", 20) is not None and \
            self.term.wait_for("manual__", 20) is not None

    def open_newest_run(self) -> bool:
        self.term.send(b"g\r")
        return self.term.wait_for("tick", 20) is not None  # the task id in the tasks pane

    def open_task_log(self, task_id: str) -> bool:
        self.term.send(b"g\r")
        return self.term.wait_for(" of ", 30) is not None  # "tick N of M" lines

    def close(self) -> None:
        _close(self.term, self.proc)


class Flowrs:
    name = "flowrs"

    def __init__(self, server, url: str, workdir: Path, poll_ms: int = 2000) -> None:
        binary = ensure_flowrs()
        self.version = installed_version(binary)
        env = flowrs_env(replace(server, url=url), workdir, poll_interval_ms=poll_ms)
        self.term = FlowrsPty(flowrs_argv(binary), env)
        self.pid = self.term.pid
        self.proc = track(self.pid, "flowrs")
        self.first_rows = WAIT_FOR["dag_list"]

    def all_dags_painted(self, total: int, timeout: float = 60) -> float | None:
        """flowrs shows no count: go to the bottom of the list until the last DAG is there."""
        examples = sorted(example_dag_ids(3))
        many = total - len(examples)  # gen_0000 .. gen_{many - 1} sort after the examples
        last = f"gen_{many - 1:04d}" if many > 0 else examples[-1]
        deadline = time.monotonic() + timeout
        if self.term.wait_for(self.first_rows, timeout) is None:
            return None
        while time.monotonic() < deadline:
            self.term.send(b"G", gap=0.0)
            t = self.term.wait_for(last, 0.25)
            if t is not None:
                return t
        return None

    def open_dag(self, dag_id: str) -> bool:
        self.term.send(keys_open_dag(dag_id))
        return self.term.wait_for("manual__", 20) is not None

    def open_newest_run(self) -> bool:
        self.term.send(KEYS["open_first_run"])
        return self.term.wait_for("Task ID", 20) is not None and \
            self.term.wait_for("tick", 20) is not None

    def open_task_log(self, task_id: str) -> bool:
        self.term.send(keys_open_task(task_id))
        return self.term.wait_for(" of ", 30) is not None

    def close(self) -> None:
        _close(self.term, self.proc)
