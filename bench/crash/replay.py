"""Replay astro-tui's start-up/refresh traffic against an Airflow 3 api-server, with knobs.

A plain httpx + asyncio script (no astro-tui code), so it can go into an upstream bug report.
What it sends is what bench/crash/relay_log.py recorded astro-tui sending (see FINDINGS.md):

* "dags" loop: GET /api/v2/dags?limit=100&offset=0&order_by=dag_id&exclude_stale=true, then the other pages
  `--page-concurrency` at a time, concurrently with
  POST /api/v2/dags/~/dagRuns/list {"order_by": "-run_after", "page_offset": 0, "page_limit": 1000};
  the whole refresh is abandoned after `--dags-timeout` s (astro-tui: 60 s via asyncio.wait_for),
  then started again after `--interval` s.
* "changes" loop (`--changes`): GET /api/v2/dags/~/dagRuns?limit=100&updated_at_gte=..., every
  `--interval` s, abandoned after 20 s.
* "probe" loop (`--probe`): GET /api/v2/dags?limit=1 every `--interval` s, abandoned after 5 s.

Knobs:
  --abandon / --no-abandon   cancel a request in flight when its timeout fires (closing its
                             connection, as httpx does on cancellation), or wait for it forever
  --abandon-random A,B       instead: abandon each dags refresh after uniform(A, B) s
  --keepalive / --no-keepalive   reuse connections, or a new TCP connection per request
  --page-concurrency N       pages in flight at once after the first (astro-tui: 4)
  --max-inflight N           hard cap on requests in flight across all loops (0: none)

    python -m bench.crash.replay --state /tmp/crash.json --seconds 300 --abandon-random 0.5,3

Exit status 3 and "CRASHED" when the api-server died (its process is gone or it refuses
connections and its log shows "Fatal Python error"); 0 when it survived.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx


class Stats:
    def __init__(self) -> None:
        self.sent = 0
        self.ok = 0
        self.abandoned = 0
        self.errors = 0
        self.inflight = 0
        self.peak = 0
        self.refreshes = 0
        self.refreshes_done = 0


def server_dead(state: dict) -> str | None:
    """Why the api-server is gone (None: alive)."""
    for p in state["procs"]:
        if p["name"] != "api-server":
            continue
        log = Path(p["log"])
        text = log.read_text(errors="replace") if log.exists() else ""
        if "Fatal Python error" in text or "Segmentation fault" in text:
            return "Fatal Python error in api-server.log"
        try:
            os.kill(p["pid"], 0)
        except ProcessLookupError:
            return "api-server process exited"
    return None


async def token(url: str, user: str, password: str) -> str:
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.post(f"{url}/auth/token", json={"username": user, "password": password})
        r.raise_for_status()
        return r.json()["access_token"]


class Replay:
    def __init__(self, args, state: dict, tok: str) -> None:
        self.a = args
        self.state = state
        self.api = f"{state['url']}/api/v2"
        limits = httpx.Limits(max_connections=None,
                              max_keepalive_connections=None if args.keepalive else 0)
        self.http = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {tok}", "Accept": "application/json"},
            timeout=httpx.Timeout(10.0, read=args.read_timeout), limits=limits)
        self.stats = Stats()
        self.sem = asyncio.Semaphore(args.max_inflight) if args.max_inflight else None
        self.since = datetime.now(timezone.utc) - timedelta(seconds=30)
        self.log = open(args.log, "a") if args.log else None
        self.t0 = time.monotonic()

    async def req(self, method: str, path: str, **kw) -> dict:
        s = self.stats
        if self.sem is not None:
            await self.sem.acquire()
        s.sent += 1
        s.inflight += 1
        s.peak = max(s.peak, s.inflight)
        t = time.monotonic()
        outcome = "ok"
        try:
            r = await self.http.request(method, self.api + path, **kw)
            r.raise_for_status()
            s.ok += 1
            return r.json()
        except asyncio.CancelledError:
            s.abandoned += 1
            outcome = "abandoned"
            raise
        except Exception as e:  # noqa: BLE001
            s.errors += 1
            outcome = type(e).__name__
            raise
        finally:
            s.inflight -= 1
            if self.sem is not None:
                self.sem.release()
            if self.log:
                self.log.write(json.dumps({
                    "t": round(t - self.t0, 3), "dur": round(time.monotonic() - t, 3),
                    "m": method, "path": path, "params": kw.get("params"), "out": outcome}) + "\n")

    # -- what astro-tui does --------------------------------------------------------------------

    async def list_dags(self) -> int:
        page = 100
        extra = {"exclude_stale": "true"} if self.a.exclude_stale else {}
        first = await self.req("GET", "/dags", params={"limit": page, "offset": 0,
                                                       "order_by": "dag_id", **extra})
        total, step = first["total_entries"], len(first["dags"])
        if not step or step >= total:
            return step
        sem = asyncio.Semaphore(self.a.page_concurrency)

        async def fetch(offset: int) -> int:
            async with sem:
                d = await self.req("GET", "/dags", params={"limit": page, "offset": offset,
                                                           "order_by": "dag_id", **extra})
                return len(d["dags"])

        if self.a.sequential_pages:
            n = step
            for o in range(step, total, step):
                n += await fetch(o)
            return n
        return step + sum(await asyncio.gather(*(fetch(o) for o in range(step, total, step))))

    async def runs_batch(self) -> int:
        d = await self.req("POST", "/dags/~/dagRuns/list", json={
            "order_by": "-run_after", "page_offset": 0, "page_limit": self.a.batch_limit})
        return len(d["dag_runs"])

    async def refresh(self) -> None:
        if self.a.batch_limit:
            await asyncio.gather(self.list_dags(), self.runs_batch())
        else:
            await self.list_dags()

    async def changes(self) -> None:
        since = self.since
        self.since = datetime.now(timezone.utc) - timedelta(seconds=30)
        await self.req("GET", "/dags/~/dagRuns", params={
            "limit": 100, "offset": 0, "order_by": "-run_after",
            "updated_at_gte": since.isoformat().replace("+00:00", "Z")})

    async def ping(self) -> None:
        await self.req("GET", "/dags", params={"limit": 1, "offset": 0, "order_by": "dag_id"})

    # -- loops ----------------------------------------------------------------------------------

    def timeout_for(self, base: float) -> float | None:
        if self.a.abandon_random:
            lo, hi = self.a.abandon_random
            return random.uniform(lo, hi)
        return base if self.a.abandon else None

    async def loop(self, name: str, fetch, timeout: float, interval: float) -> None:
        while True:
            if name == "dags":
                self.stats.refreshes += 1
            t = self.timeout_for(timeout)
            try:
                if t is None:
                    await fetch()
                else:
                    await asyncio.wait_for(fetch(), t)
                if name == "dags":
                    self.stats.refreshes_done += 1
            except (TimeoutError, httpx.HTTPError, KeyError, ValueError):
                pass
            await asyncio.sleep(interval)

    async def watch(self) -> str | None:
        while time.monotonic() - self.t0 < self.a.seconds:
            await asyncio.sleep(0.5)
            why = server_dead(self.state)
            if why:
                return why
        return None

    async def run(self) -> str | None:
        a = self.a
        tasks = [asyncio.create_task(self.loop("dags", self.refresh, a.dags_timeout, a.interval))]
        if a.changes:
            tasks.append(asyncio.create_task(self.loop("changes", self.changes, 20, a.interval)))
        if a.probe:
            tasks.append(asyncio.create_task(self.loop("probe", self.ping, 5, a.interval)))
        try:
            return await self.watch()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.http.aclose()
            if self.log:
                self.log.close()


def parse_range(text: str) -> tuple[float, float]:
    lo, _, hi = text.partition(",")
    return float(lo), float(hi or lo)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.crash.replay")
    ap.add_argument("--state", type=Path, required=True, help="harness state JSON")
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--interval", type=float, default=2.0, help="pause between polls of a loop")
    ap.add_argument("--dags-timeout", type=float, default=60.0)
    ap.add_argument("--abandon", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--abandon-random", type=parse_range, default=None, metavar="A,B")
    ap.add_argument("--keepalive", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--page-concurrency", type=int, default=4)
    ap.add_argument("--sequential-pages", action="store_true")
    ap.add_argument("--batch-limit", type=int, default=1000, help="0: no dagRuns/list batch")
    ap.add_argument("--exclude-stale", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--max-inflight", type=int, default=0)
    ap.add_argument("--read-timeout", type=float, default=600.0)
    ap.add_argument("--changes", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--probe", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--log", help="append one JSON line per request here")
    args = ap.parse_args(argv)
    state = json.loads(args.state.read_text())
    if server_dead(state):
        print("server already dead", file=sys.stderr)
        return 2
    tok = asyncio.run(token(state["url"], state["username"], state["password"]))
    replay = Replay(args, state, tok)
    t0 = time.monotonic()
    why = asyncio.run(replay.run())
    s = replay.stats
    result = {
        "crashed": why is not None, "why": why, "after_s": round(time.monotonic() - t0, 1),
        "sent": s.sent, "ok": s.ok, "abandoned": s.abandoned, "errors": s.errors,
        "peak_inflight": s.peak, "refreshes": s.refreshes, "refreshes_done": s.refreshes_done,
        "knobs": {k: v for k, v in vars(args).items() if k not in ("state", "log")},
    }
    print(("CRASHED " if why else "survived ") + json.dumps(result, default=str), flush=True)
    return 3 if why else 0


if __name__ == "__main__":
    raise SystemExit(main())
