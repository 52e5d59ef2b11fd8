"""`python -m bench` (or `bench/run`): the monitor's costs, side by side, in one run.

Brings up a real Airflow 3 from the test harness with 1,000 generated DAGs (plus the examples),
then measures astro-tui, a raw-API baseline and flowrs (the peer, if it installs) against it:

  P1 launch -> first rows / the whole DAG list painted  (baseline: a plain httpx script paging);
     astro-tui again in the same home: a warm start, painting the DAG list saved on quit;
     a filter keystroke -> the DAG list repainted (ms, astro-tui)
  P2 requests and KB per minute at a counting relay: (a) DAG list, (b) a DAG's runs while a run
     is active, (c) a running task's log
  P3 CPU % of one core while nothing changes (from /proc/PID/stat, real pty)
  P4 bytes per minute written to the terminal while nothing changes
  P5 opening a 200k- and a 1M-line log (bench/logs.py): time and RSS, vs Textual's Log widget
  P6 follow latency: a log line written by the task -> on screen; bytes per log poll
  P7 soak RSS (bench/soak.py: 1 h, poll 0.2 s; run in this run with --soak 60, otherwise its last
     result, bench/results/soak.json)

Equal freshness: both clients poll at the same interval (--poll, default 2 s = flowrs's default;
astro-tui's profile `poll_seconds` = 2). Prints a table and writes it as JSON (--out).

It cannot hang: a watchdog (harness.Watchdog) checks the server's processes every 0.5 s, and a
dead one (say, a segfaulted api-server) fails the bench at once with one line naming it, how it
ended and where its log is kept (the server's home is kept). Each phase has a time limit
(phase_limits, or --phase-limit); one that runs over fails with a line and the bench goes on with
the next phase, then exits 1. Ctrl+C, SIGTERM or SIGHUP stops every process it started: the
server's (when it started the server) and the apps under test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.apps import Flowrs, Ours, proc_cpu_seconds, rss_mb, tree_cpu_seconds  # noqa: E402
from bench.relay import Relay  # noqa: E402
from tests.airflow import harness  # noqa: E402
from tests.airflow.procs import (  # noqa: E402
    Interrupted,
    install_signal_handlers,
    stop_all,
    stop_tracked,
    track,
    untrack,
)

TICK = re.compile(r"tick (\d+) of (\d+)")

BASELINE = r'''
import sys, httpx
url, user, pw = sys.argv[1:4]
with httpx.Client(timeout=60) as c:
    tok = c.post(url + "/auth/token", json={"username": user, "password": pw}).json()["access_token"]
    h = {"Authorization": "Bearer " + tok}
    offset, total, n = 0, None, 0
    while total is None or offset < total:
        page = c.get(url + "/api/v2/dags", params={"limit": 100, "offset": offset}, headers=h).json()
        total = page["total_entries"]; n += len(page["dags"]); offset += 100
        if offset == 100:
            print("first", flush=True)
    print("all", n, flush=True)
'''


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def median(xs: list[float]) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 3) if xs else None


# -- P1 ------------------------------------------------------------------------------------------

def baseline_paint(server) -> tuple[float, float]:
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", BASELINE, server.url, server.username,
                             server.password], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    pid = track(proc, "baseline")
    try:
        first = None
        for line in proc.stdout:
            if line.startswith("first"):
                first = time.monotonic() - t0
        proc.wait()
        return first, time.monotonic() - t0
    finally:
        stop_all([pid], timeout=5)
        untrack(pid)
        proc.stdout.close()


def p1(server, total: int, work: Path, reps: int, tools: list[str], poll: float) -> dict:
    out: dict[str, Any] = {}
    for rep in range(reps):
        first, whole = baseline_paint(server)
        out.setdefault("baseline", {"first": [], "all": []})
        out["baseline"]["first"].append(first)
        out["baseline"]["all"].append(whole)
        for tool in tools:
            app = make(tool, server, server.url, work / f"p1-{tool}-{rep}", poll)
            try:
                first = app.term.wait_for(app.first_rows, 60)
                whole = app.all_dags_painted(total, 90)
                if tool == "ours" and whole is not None:
                    keys = app.filter_keystrokes()
                    out.setdefault("filter_ms", []).extend(keys)
                    log(f"P1 rep {rep} {tool}: filter keystrokes {keys} ms")
            finally:
                app.close()
            out.setdefault(tool, {"first": [], "all": []})
            out[tool]["first"].append(first)
            out[tool]["all"].append(whole)
            log(f"P1 rep {rep} {tool}: first {first} all {whole}")
            if tool == "ours":  # again, in the same home: a warm start from the saved list
                app = make(tool, server, server.url, work / f"p1-{tool}-{rep}", poll)
                try:
                    warm = app.term.wait_for(app.first_rows, 60)
                finally:
                    app.close()
                out[tool].setdefault("warm", []).append(warm)
                log(f"P1 rep {rep} {tool}: warm first {warm}")
    filter_ms = out.pop("filter_ms", [])
    res = {k: {m: median(v) for m, v in d.items()} for k, d in out.items()}
    if filter_ms and "ours" in res:
        res["ours"]["filter_ms_median"] = median(filter_ms)
        res["ours"]["filter_ms_max"] = max(filter_ms)
    return res


# -- windows: P2, P3, P4, P6 ---------------------------------------------------------------------

def make(tool: str, server, url: str, work: Path, poll: float):
    if tool == "ours":
        return Ours(server, url, work, poll)
    return Flowrs(server, url, work, int(poll * 1000))


class LogFileWatch:
    """When each 'tick N' line lands in the task's log file on the server (the physical limit)."""

    def __init__(self, home: str, dag_id: str, run_id: str) -> None:
        self.base = Path(home) / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> LogFileWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for f in self.base.glob("task_id=tick/attempt=*.log"):
                try:
                    text = f.read_text(errors="replace")
                except OSError:
                    continue
                now = time.monotonic()
                for m in TICK.finditer(text):
                    self.seen.setdefault(int(m.group(1)), now)


def window(app, relay: Relay, server, seconds: float, watch: LogFileWatch | None = None) -> dict:
    api_pid = next(p["pid"] for p in server.procs if p["name"] == "api-server")
    term = app.term
    term.drain(1.0)
    t0 = time.monotonic()
    out0, cpu0, api0 = len(term.output), proc_cpu_seconds(app.pid), tree_cpu_seconds(api_pid)
    shown: dict[int, float] = {}
    end = t0 + seconds
    while time.monotonic() < end:
        term.pump(0.05)
        if watch is not None:
            now = time.monotonic()
            for m in TICK.finditer(term.screen.text()):
                shown.setdefault(int(m.group(1)), now)
    dt = time.monotonic() - t0
    reqs = relay.since(t0)
    res = {
        "seconds": round(dt, 1),
        "req_per_min": round(len(reqs) * 60 / dt, 1),
        "kb_per_min": round(sum(r.down + r.up for r in reqs) / 1024 * 60 / dt, 1),
        "cpu_pct": round(100 * (proc_cpu_seconds(app.pid) - cpu0) / dt, 2),
        "api_server_cpu_pct": round(100 * (tree_cpu_seconds(api_pid) - api0) / dt, 1),
        "term_bytes_per_min": round((len(term.output) - out0) * 60 / dt),
        "rss_mb": round(rss_mb(app.pid), 1),
        "by_path": by_path(reqs),
    }
    if watch is not None:
        lat = [shown[n] - watch.seen[n] for n in shown if n in watch.seen and shown[n] >= t0 + 2]
        logs = [r for r in reqs if "/logs/" in r.path]
        res["follow_latency_median_s"] = median(lat)
        res["follow_latency_p95_s"] = (round(sorted(lat)[int(0.95 * (len(lat) - 1))], 3)
                                       if lat else None)
        res["follow_lines"] = len(lat)
        res["log_polls"] = len(logs)
        res["bytes_per_log_poll"] = round(sum(r.down for r in logs) / len(logs)) if logs else None
    return res


def by_path(reqs) -> dict[str, list[int]]:
    """{path pattern: [requests, KB down]} with ids folded, largest first."""
    out: dict[str, list[int]] = {}
    for r in reqs:
        p = re.sub(r"/dagRuns/[^/]+", "/dagRuns/{run}", r.path)
        p = re.sub(r"/dags/(?!~)[^/]+", "/dags/{dag}", p)
        p = re.sub(r"/taskInstances/[^/]+", "/taskInstances/{task}", p)
        p = re.sub(r"/logs/\d+", "/logs/{try}", p)
        e = out.setdefault(p, [0, 0])
        e[0] += 1
        e[1] += r.down
    return {k: [n, round(b / 1024)] for k, (n, b) in
            sorted(out.items(), key=lambda kv: -kv[1][1])}


def windows(server, total: int, work: Path, tools: list[str], poll: float, seconds: float,
            warmup: float) -> dict:
    res: dict[str, dict] = {}
    relay = Relay("127.0.0.1", server.port).start()
    try:
        # (a) idle: the DAG list, nothing running (P2a, P3, P4)
        for tool in tools:
            app = make(tool, server, relay.url, work / f"idle-{tool}", poll)
            try:
                app.all_dags_painted(total, 90)
                app.term.drain(warmup)
                res.setdefault(tool, {})["idle"] = window(app, relay, server, seconds)
                log(f"idle {tool}: {res[tool]['idle']}")
            finally:
                app.close()
        run_id = trigger_long(server, seconds=int(len(tools) * 2 * (seconds + warmup + 40) + 60))
        log(f"triggered example_long {run_id}")
        wait_running(server, run_id)
        watch = LogFileWatch(server.home, "example_long", run_id).start()
        try:
            for tool in tools:
                app = make(tool, server, relay.url, work / f"active-{tool}", poll)
                try:
                    # (the whole list: the windows measure a steady state, not the first read)
                    app.all_dags_painted(total, 120)
                    app.term.drain(2)
                    if not app.open_dag("example_long"):
                        raise RuntimeError(f"{tool}: could not open example_long's runs")
                    app.term.drain(warmup)
                    res[tool]["runs"] = window(app, relay, server, seconds)
                    log(f"runs {tool}: {res[tool]['runs']}")
                    if not app.open_newest_run() or not app.open_task_log("tick"):
                        raise RuntimeError(f"{tool}: could not open the running task's log")
                    app.term.drain(warmup)
                    res[tool]["log"] = window(app, relay, server, seconds, watch)
                    log(f"log {tool}: {res[tool]['log']}")
                finally:
                    app.close()
        finally:
            watch.stop()
    finally:
        relay.stop()
    return res


def trigger_long(server, seconds: int) -> str:
    with server.http_client(timeout=30) as c:
        c.patch(f"{server.api}/dags/example_long", json={"is_paused": False}).raise_for_status()
        r = c.post(f"{server.api}/dags/example_long/dagRuns",
                   json={"conf": {"seconds": seconds}, "logical_date": None})
        r.raise_for_status()
        return r.json()["dag_run_id"]


def wait_running(server, run_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with server.http_client(timeout=30) as c:
        while time.monotonic() < deadline:
            tis = c.get(f"{server.api}/dags/example_long/dagRuns/{run_id}/taskInstances").json()
            if any(t["state"] == "running" for t in tis.get("task_instances", [])):
                return
            time.sleep(0.5)
    raise RuntimeError("example_long never started running")


# -- P5, P7 --------------------------------------------------------------------------------------

def p5() -> dict:
    res = {}
    for n in (200_000, 1_000_000):
        for case in ("view", "log"):
            out = subprocess.run([sys.executable, str(ROOT / "bench" / "logs.py"), "--child", case,
                                  str(n), "v2"], capture_output=True, text=True, check=True)
            res[f"{case}_{n}"] = json.loads(out.stdout.strip().splitlines()[-1])
            log(f"P5 {case} {n}: {res[f'{case}_{n}']}")
    return res


def p7(server=None, work: Path | None = None, minutes: float = 0.0) -> dict | None:
    """The soak: with `minutes`, bench/soak.py runs now against this run's server (its result
    also goes to bench/results/soak.json); otherwise its last result is reported."""
    f = ROOT / "bench" / "results" / "soak.json"
    if minutes and server is not None and work is not None:
        state = work / "server.json"
        state.write_text(server.to_json())
        log(f"P7 soak: {minutes:g} min against the run's server …")
        subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), str(state),
                        "--minutes", str(minutes), "--out", str(f)], check=True,
                       stdout=subprocess.DEVNULL)
    if not f.exists():
        return None
    d = json.loads(f.read_text())
    out = {k: v for k, v in d.items() if k != "samples"}
    out["live"] = bool(minutes)  # run in this bench run (False: an earlier result)
    # the drift after a longer warm-up too: the first minutes fill caches and the runs pane
    late = [x for x in d.get("samples", []) if x["t"] >= 600]
    if late:
        out["rss_10min_mb"] = late[0]["rss_mb"]
    return out


# -- table ---------------------------------------------------------------------------------------

def ratio(a, b) -> str:
    if a is None or b is None:
        return "—"
    if b == 0:
        return "0 vs 0" if a == 0 else "∞"
    return f"{a / b:.2f}×"


def fmt(v, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"
    return f"{v}{unit}"


def rows(r: dict) -> list[list[str]]:
    """metric | baseline | astro-tui | astro-tui/baseline | flowrs | astro-tui/flowrs"""
    out = []
    p1_ = r.get("p1") or {}
    fl = "flowrs" in p1_

    def row(name, base, ours, flow, unit="", base_unit=None):
        out.append([name, fmt(base, base_unit if base_unit is not None else unit), fmt(ours, unit),
                    ratio(ours, base) if isinstance(base, (int, float)) else "—",
                    fmt(flow, unit) if fl else "n/a", ratio(ours, flow) if fl else "—"])

    g = lambda tool, *ks: _dig(r, tool, *ks)  # noqa: E731
    row("P1 launch → first DAG rows (s)", _dig(p1_, "baseline", "first"),
        _dig(p1_, "ours", "first"), _dig(p1_, "flowrs", "first"))
    row(f"P1 launch → all {r['dags']} DAGs painted (s)", _dig(p1_, "baseline", "all"),
        _dig(p1_, "ours", "all"), _dig(p1_, "flowrs", "all"))
    if _dig(p1_, "ours", "filter_ms_median") is not None:
        out.append(["P1 filter keystroke → list repainted, median / max (ms)", "—",
                    f"{fmt(_dig(p1_, 'ours', 'filter_ms_median'))} / "
                    f"{fmt(_dig(p1_, 'ours', 'filter_ms_max'))}", "—", "n/a", "—"])
    if _dig(p1_, "ours", "warm") is not None:
        row("P1 warm start → first DAG rows (s), the saved list", _dig(p1_, "baseline", "first"),
            _dig(p1_, "ours", "warm"), None)
    for label, key in (("a DAG list", "idle"), ("b runs, 1 active", "runs"),
                       ("c running log", "log")):
        row(f"P2{label[0]} requests/min ({label[2:]})", 0 if key == "idle" else None,
            g("ours", key, "req_per_min"), g("flowrs", key, "req_per_min"))
        row(f"P2{label[0]} KB/min ({label[2:]})", 0 if key == "idle" else None,
            g("ours", key, "kb_per_min"), g("flowrs", key, "kb_per_min"))
    row("P2a api-server CPU % (DAG list)", None, g("ours", "idle", "api_server_cpu_pct"),
        g("flowrs", "idle", "api_server_cpu_pct"))
    row("P3 idle CPU % of one core", 0, g("ours", "idle", "cpu_pct"),
        g("flowrs", "idle", "cpu_pct"))
    row("P4 terminal bytes/min, idle", 0, g("ours", "idle", "term_bytes_per_min"),
        g("flowrs", "idle", "term_bytes_per_min"))
    row("P4 terminal bytes/min, following a running log", None,
        g("ours", "log", "term_bytes_per_min"), g("flowrs", "log", "term_bytes_per_min"))
    row("P3 CPU % of one core, following a running log", None, g("ours", "log", "cpu_pct"),
        g("flowrs", "log", "cpu_pct"))
    p5_ = r.get("p5") or {}
    for n in (200_000, 1_000_000):
        v, lg = p5_.get(f"view_{n}", {}), p5_.get(f"log_{n}", {})
        out.append([f"P5 {n // 1000}k-line log: first screen / all (s)",
                    f"{fmt(lg.get('open'))} (Log widget)",
                    f"{fmt(v.get('first'))} / {fmt(v.get('open'))}",
                    ratio(v.get("open"), lg.get("open")), "n/a", "—"])
        out.append([f"P5 {n // 1000}k-line log: RSS growth (MB)", f"{fmt(lg.get('after'))} (Log widget)",
                    fmt(v.get("after")), ratio(v.get("after"), lg.get("after")), "n/a", "—"])
    row("P6 follow latency, median (s)", None, g("ours", "log", "follow_latency_median_s"),
        g("flowrs", "log", "follow_latency_median_s"))
    row("P6 follow latency, p95 (s)", None, g("ours", "log", "follow_latency_p95_s"),
        g("flowrs", "log", "follow_latency_p95_s"))
    row("P6 bytes per log poll", None, g("ours", "log", "bytes_per_log_poll"),
        g("flowrs", "log", "bytes_per_log_poll"))
    s = r.get("p7")
    if s:
        shown = f"{s['rss_start_mb']} → {s['rss_end_mb']} ({s['rss_peak_mb']}), " \
                f"{100 * (s['rss_end_mb'] / s['rss_start_mb'] - 1):+.0f} %"
        if s.get("rss_10min_mb"):
            shown += f"; from 10 min: {100 * (s['rss_end_mb'] / s['rss_10min_mb'] - 1):+.0f} %"
        if not s.get("live"):
            shown += " (an earlier run's)"
    out.append(["P7 soak RSS after 1 min → end (peak), MB; drift", "—",
                shown if s else "not run", "—", "n/a", "—"])
    return out


def _dig(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _reorg(r: dict) -> dict:
    """windows[tool][case] -> r[tool][case], for _dig."""
    for tool, cases in (r.get("windows") or {}).items():
        r[tool] = cases
    return r


def table(r: dict) -> str:
    head = ["metric", "baseline", "astro-tui", "astro-tui ÷ baseline", "flowrs",
            "astro-tui ÷ flowrs"]
    body = rows(_reorg(dict(r)))
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(x) + " |" for x in body]
    return "\n".join(lines)


def phase_limits(args, tools: list[str]) -> dict[str, float]:
    """Generous time limits per phase (s), from the waits each phase may do; --phase-limit
    replaces them all."""
    if args.phase_limit:
        return {k: args.phase_limit for k in ("P1", "P2-P4,P6", "P5", "P7")}
    n = len(tools)
    # P1, per rep: the baseline (at most 60 s per page request) + each app (60 + 90 s + close).
    p1_ = args.reps * (300 + n * 160) + 60
    # The windows: idle per app (90 s paint + warmup + window), the run starting (120 s), then
    # per app 60 + 20 + 20 + 30 s of waits and two (warmup + window).
    w = n * (100 + args.warmup + args.window) + 180 + n * (140 + 2 * (args.warmup + args.window))
    return {"P1": p1_, "P2-P4,P6": w + 120, "P5": 1200, "P7": 60 * args.soak + 300}


def main() -> int:
    install_signal_handlers("[bench]")
    try:
        return run(parse_args())
    except Interrupted as e:
        stop_tracked()
        log(f"{e}: stopped everything the bench had started")
        return e.exit_code
    except harness.ServerDied as e:  # while the harness started the server
        log(f"FAILED: {e}")
        return 1


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dags", type=int, default=1000, help="generated DAGs (plus the example DAGs)")
    ap.add_argument("--db", choices=harness.DBS, default="sqlite",
                    help="the server's metadata database (postgres: PostgreSQL 15, as deployed)")
    ap.add_argument("--poll", type=float, default=2.0, help="poll interval for both clients (s)")
    ap.add_argument("--window", type=float, default=60.0, help="seconds per P2/P3/P4/P6 window")
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--reps", type=int, default=3, help="P1 repetitions (median)")
    ap.add_argument("--no-flowrs", action="store_true")
    ap.add_argument("--skip-p5", action="store_true")
    ap.add_argument("--soak", type=float, default=0.0, metavar="MIN",
                    help="P7: run the soak (bench/soak.py) for MIN minutes in this run "
                         "(default: report its last result)")
    ap.add_argument("--only", choices=("P1",), help="run only this phase (P1: for quick checks)")
    ap.add_argument("--phase-limit", type=float, metavar="S",
                    help="time limit of every phase (s); default: from the phase's own waits")
    ap.add_argument("--state", type=Path, help="use a running harness server (harness up --state)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    ap.add_argument("--table", type=Path, help="only print the table of an earlier JSON result")
    return ap.parse_args()


def run(args: argparse.Namespace) -> int:
    if args.table:
        r = json.loads(args.table.read_text())
        r.pop("table", None)
        print(table(r))
        return 0

    tools = ["ours"] + ([] if args.no_flowrs else ["flowrs"])
    if "flowrs" in tools:
        try:
            from bench.flowrs import ensure_flowrs, installed_version
            flowrs_version = installed_version(ensure_flowrs())
        except Exception as exc:  # noqa: BLE001 - the peer is optional
            log(f"flowrs unavailable ({exc}); measuring astro-tui alone")
            tools, flowrs_version = ["ours"], None
    else:
        flowrs_version = None
    limits = phase_limits(args, tools)
    own = args.state is None
    if own:
        log(f"starting Airflow 3 with {args.dags} generated DAGs on {args.db} …")
        server = harness.start(3, many_dags=args.dags, db=args.db)
    else:
        server = harness.AirflowServer.from_json(args.state.read_text())
    log(f"server {server.url}, home {server.home}" + (" (ours)" if own else ""))
    total = len(harness.example_dag_ids(3)) + server.many_dags
    work = Path(tempfile.mkdtemp(prefix="astro-tui-bench-"))
    failed: list[str] = []
    died: harness.ServerDied | None = None
    try:
        r: dict = {
            "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
                       f"{platform.release()}, Python {platform.python_version()}",
            "airflow": server.version, "db": server.db, "dags": total, "poll_seconds": args.poll,
            "window_seconds": args.window, "flowrs": flowrs_version,
        }
        phases = [
            ("P1", "p1", lambda: p1(server, total, work, args.reps, tools, args.poll)),
            ("P2-P4,P6", "windows", lambda: windows(server, total, work, tools, args.poll,
                                                    args.window, args.warmup)),
            ("P5", "p5", lambda: None if args.skip_p5 else p5()),
            ("P7", "p7", lambda: p7(server, work, args.soak)),
        ]
        if args.only:
            phases = [p for p in phases if p[0] == args.only]
        with harness.Watchdog(server) as dog:
            for name, key, fn in phases:
                try:
                    with dog.phase(name, limits[name]):
                        r[key] = fn()
                except harness.PhaseTimeout as e:
                    stop_tracked(exclude=_server_ids(server))  # the apps the phase left behind
                    failed.append(f"FAILED: {e}")
                    log(failed[-1])
                    r[key] = None
                except subprocess.CalledProcessError as e:  # a child bench crashed: go on
                    stop_tracked(exclude=_server_ids(server))
                    failed.append(f"FAILED: phase {name}: {e}")
                    log(failed[-1])
                    r[key] = None
    except harness.ServerDied as e:
        died = e
    finally:
        stop_tracked(exclude=_server_ids(server))
        shutil.rmtree(work, ignore_errors=True)  # the apps' configs and HOMEs
        if own:
            server.stop()  # keeps the home (the logs) if a server process died
    if died is not None:
        log(f"FAILED: {died}")
        return 1
    r["failed"] = failed
    text = table(r)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**r, "table": text}, indent=1, default=str) + "\n")
    log(f"wrote {args.out}")
    for line in failed:
        log(line)
    return 1 if failed else 0


def _server_ids(server) -> set:
    """The server's own processes: not the bench's to stop (unless it started the server)."""
    from tests.airflow.procs import ProcId
    return {ProcId(p["pid"], p["start"]) for p in server._records()}


if __name__ == "__main__":
    raise SystemExit(main())
