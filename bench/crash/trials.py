"""Run bench/crash/replay.py several times against a (fresh) many-DAG Airflow 3 server; count
crashes. Keeps the api-server log (faulthandler stacks) and, with --gdb, a native backtrace of
the crashing thread for every crash.

    python -m bench.crash.trials --dags 5000 --runs 4 --seconds 120 --out /tmp/crashlogs/X \
        -- --no-abandon --no-changes --no-probe

Everything after `--` goes to replay.py. One server at a time: a server that survived a run is
reused for the next one unless --fresh; a crashed one is stopped and a new one started.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.airflow.harness import AirflowServer, start  # noqa: E402

GDB_CMDS = """set pagination off
set confirm off
handle SIGSEGV stop nopass
handle SIGPIPE nostop noprint pass
handle SIG32 nostop noprint pass
handle SIG33 nostop noprint pass
continue
echo \\n=== crashing thread ===\\n
bt 40
echo \\n=== all threads ===\\n
thread apply all bt 25
detach
quit
"""


def attach_gdb(pid: int, out: Path) -> subprocess.Popen:
    cmds = out.with_suffix(".gdbcmds")
    cmds.write_text(GDB_CMDS)
    return subprocess.Popen(["gdb", "-q", "-batch", "-p", str(pid), "-x", str(cmds)],
                            stdout=open(out, "w"), stderr=subprocess.STDOUT)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dags", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--fresh", action="store_true", help="a new server for every run")
    ap.add_argument("--gdb", action="store_true", help="attach gdb to the api-server")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--state", type=Path, help="default: OUT/state.json")
    ap.add_argument("--db", default="sqlite", help="sqlite or postgres (harness start(db=))")
    ap.add_argument("--env", action="append", default=[], metavar="K=V",
                    help="extra server environment, e.g. PYTHONMALLOC=debug")
    ap.add_argument("--patch", default="",
                    help="api-server patches from bench/crash/pylib/sitecustomize.py, e.g. "
                         "serialize_in_thread")
    ap.add_argument("replay_args", nargs=argparse.REMAINDER)
    args = ap.parse_args()

    def interrupted(*_):
        raise KeyboardInterrupt  # so that `finally` stops the server

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    rargs = [a for a in args.replay_args if a != "--"]
    args.out.mkdir(parents=True, exist_ok=True)
    args.state = args.state or args.out / "state.json"
    extra_env = {}
    if args.patch:
        extra_env = {"PYTHONPATH": str(Path(__file__).resolve().parent / "pylib"),
                     "CRASH_PATCH": args.patch}
    extra_env.update(kv.split("=", 1) for kv in args.env)
    server: AirflowServer | None = None
    results = []
    try:
        for i in range(1, args.runs + 1):
            if server is None:
                t0 = time.monotonic()
                server = start(3, many_dags=args.dags, db=args.db, extra_env=extra_env)
                args.state.write_text(server.to_json())
                print(f"[trials] server {server.url} ready in {time.monotonic() - t0:.0f} s",
                      flush=True)
            gdb = None
            if args.gdb:
                pid = next(p["pid"] for p in server.procs if p["name"] == "api-server")
                gdb = attach_gdb(pid, args.out / f"run{i}.gdb.txt")
                time.sleep(3)  # let gdb attach before the traffic starts
            cmd = [sys.executable, "-m", "bench.crash.replay", "--state", str(args.state),
                   "--seconds", str(args.seconds), "--log", str(args.out / f"run{i}.req.jsonl"),
                   *rargs]
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            line = (p.stdout.strip().splitlines() or [p.stderr.strip()[-500:]])[-1]
            print(f"[trials] run {i}: {line}", flush=True)
            crashed = p.returncode == 3
            results.append({"run": i, "crashed": crashed, "line": line})
            if gdb is not None:
                if crashed:
                    try:
                        gdb.wait(60)
                    except subprocess.TimeoutExpired:
                        gdb.kill()
                else:
                    gdb.send_signal(signal.SIGINT)  # stops the server, then gdb detaches
                    try:
                        gdb.wait(30)
                    except subprocess.TimeoutExpired:
                        gdb.kill()
            if crashed or args.fresh:
                for proc in server.procs:
                    shutil.copy(proc["log"], args.out / f"run{i}.{proc['name']}.log")
                server.stop()
                server = None
                args.state.unlink(missing_ok=True)
    finally:
        if server is not None:
            for proc in server.procs:
                shutil.copy(proc["log"], args.out / f"last.{proc['name']}.log")
            server.stop()
            args.state.unlink(missing_ok=True)
    n = sum(r["crashed"] for r in results)
    summary = {"crashed": n, "runs": len(results), "dags": args.dags, "seconds": args.seconds,
               "db": args.db, "patch": args.patch, "env": args.env,
               "replay_args": rargs}
    (args.out / "summary.json").write_text(json.dumps({"summary": summary, "runs": results},
                                                      indent=2))
    print(f"[trials] crashed {n}/{len(results)} with {' '.join(rargs)} (db {args.db}, "
          f"patch {args.patch or 'none'}, {args.dags} DAGs)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
