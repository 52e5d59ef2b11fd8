"""Opening a huge task log: time to the first screen and RSS growth, LogView vs plain `Log`.

For each size, an Airflow 3.3 response body (structured JSON entries, like example_biglog) and an
Airflow 2 body (the repr text) are built in memory and served through the real AirflowClient over
httpx.MockTransport. Each case runs in its own process (clean RSS) in a headless Textual app:

* ``view``: our LogView: `show(client, ti)` -> decode + format in a worker thread -> LogStore
  -> first screen rendered.
* ``log``: the reference: the same lines (display strings, already formatted: the widget's share
  only) handed to Textual's `Log.write_lines` in one batch, as textual-notes §2b measured (the
  strings count in its RSS, not in its time).
* ``old``: the previous pipeline end to end: `LogFollower.poll()` (json + LogLines on the event
  loop), the same formatting, then `Log.write_lines`.

"open" is seconds from the moment the response arrived (the transport handed the body over) to
the whole log on screen (the view at its end), "first" to the first screen painted (LogView
shows a big log in 20k-line batches as they are formatted; for the others first = open); "peak"/"after" are RSS growth in MB over the RSS just before (the body
itself excluded). "blocked" is the longest time the event loop did not answer a 10 ms ticker.

    python bench/logs.py                 # 200k and 1M lines, v2 and v1
    python bench/logs.py --lines 200000 --flavor v2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LINE = "line {i:06d} of {n}: the quick brown fox jumps over the lazy dog"


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def make_body(n: int, flavor: str) -> bytes:
    if flavor == "v2":
        head = ('{"content":[{"event":"::group::Log message source details"},'
                '{"event":"/logs/dag_id=example_biglog/attempt=1.log"},{"event":"::endgroup::"},')
        entries = ",".join(
            '{"timestamp":"2026-11-25T10:27:%02d.%06dZ","event":"%s","level":"info",'
            '"logger":"task.stdout"}' % (i * 30 // n, i % 1000000, LINE.format(i=i, n=n))
            for i in range(1, n + 1))
        return (head + entries + '],"continuation_token":null}').encode()
    text = "\n".join(
        "[2026-11-25T10:27:%02d.%03d+0000] {logging_mixin.py:190} INFO - %s"
        % (i * 30 // n, i % 1000, LINE.format(i=i, n=n)) for i in range(1, n + 1))
    content = repr([("127.0.0.1", text)])
    token = "eyJlbmRfb2ZfbG9nIjp0cnVlfQ.sig"
    return json.dumps({"content": content, "continuation_token": token}).encode()


class Peak:
    """Samples RSS every 5 ms in a thread."""

    def __init__(self) -> None:
        self.peak = rss_mb()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.005)

    def stop(self) -> float:
        self._stop = True
        self._thread.join()
        return max(self.peak, rss_mb())


def child(case: str, n: int, flavor: str) -> dict:
    import httpx
    from textual.app import App
    from textual.widgets import Log

    from astro_tui.airflow.client import AirflowClient
    from astro_tui.airflow.logs import LogFollower
    from astro_tui.airflow.models import TaskInstance, Version
    from astro_tui.tui.widgets.log.store import LineFormatter
    from astro_tui.tui.widgets.log.view import LogView
    from astro_tui.watch.watcher import Watcher

    body = make_body(n, flavor)
    version = Version(3, 3, 2) if flavor == "v2" else Version(2, 11, 2)
    ti_json = {"dag_id": "d", "dag_run_id": "r", "task_id": "t", "map_index": -1,
               "try_number": 1, "state": "success"}
    arrived: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if "/logs/" in request.url.path:
            arrived.append(time.perf_counter())
            return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        return httpx.Response(200, json=ti_json)

    client = AirflowClient("http://bench.test", version, transport=httpx.MockTransport(handler))
    ti = TaskInstance.from_json(ti_json)
    lines_for_log: list[str] = []

    async def connect() -> AirflowClient:
        return client

    # The view reads its log through a Watcher (as in the app), connected to the client above;
    # with no DAG list subscribed it polls nothing else.
    watcher = Watcher(connect)

    class Bench(App):
        def compose(self):
            yield LogView(watcher, id="view") if case == "view" else Log(id="log", max_lines=2_000_000)

    result: dict = {}

    async def run() -> None:
        app = Bench()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.2)
            blocked = [0.0]
            last = [time.perf_counter()]

            def tick() -> None:
                now = time.perf_counter()
                blocked[0] = max(blocked[0], now - last[0])
                last[0] = now

            before = rss_mb()
            if case == "log":  # ready-made display strings: counted in RSS, not in time
                follower = LogFollower(client, "d", "r", "t", 1)
                lines_for_log.extend((await follower.poll_with(LineFormatter())).texts)
                arrived.clear()
            peak = Peak()
            app.set_interval(0.01, tick)
            if case == "view":
                watcher.start()
                while watcher.client is None:
                    await asyncio.sleep(0.002)
                view = app.query_one(LogView)
                view.debounce = 0
                view.show(ti)
                while not view.store.rows:  # painted at the next refresh (≤ 1/60 s)
                    await asyncio.sleep(0.002)
                result["first"] = time.perf_counter() - arrived[0]
                while not view.ended:
                    await asyncio.sleep(0.005)
            elif case == "log":
                last[0] = time.perf_counter()
                arrived.append(last[0])
                app.query_one(Log).write_lines(lines_for_log)
                lines_for_log.clear()
            else:  # old pipeline
                follower = LogFollower(client, "d", "r", "t", 1)
                formatter = LineFormatter()
                lines = await follower.poll()
                texts = formatter(lines).texts
                del lines
                app.query_one(Log).write_lines(texts)
                del texts
            # the screen painted after the whole log is in (not pilot.pause(): it waits for the
            # process to be idle, up to 1 s each, and the RSS sampler and the ticker keep it busy)
            painted = asyncio.get_running_loop().create_future()
            app.call_after_refresh(lambda: painted.done() or painted.set_result(None))
            app.screen.refresh()
            await painted
            opened = time.perf_counter() - arrived[0]
            result.update(open=opened, peak=peak.stop() - before, after=rss_mb() - before,
                          blocked=blocked[0])
            if case == "view":
                result["rows"] = len(app.query_one(LogView).store.rows)
                await watcher.aclose()

    asyncio.run(run())
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--flavor", nargs="+", default=["v2", "v1"], choices=["v2", "v1"])
    ap.add_argument("--child", nargs=3, metavar=("CASE", "N", "FLAVOR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        case, n, flavor = args.child
        print(json.dumps(child(case, int(n), flavor)))
        return 0
    print(f"{'lines':>9} {'api':>3} {'case':>5} {'first s':>7} {'open s':>7} {'peak MB':>8}"
          f" {'after MB':>9} {'blocked s':>9}   vs Log.write_lines (open, after)")
    for n in args.lines:
        for flavor in args.flavor:
            results = {}
            for case in ("log", "view", "old"):
                out = subprocess.run([sys.executable, __file__, "--child", case, str(n), flavor],
                                     capture_output=True, text=True, check=True)
                results[case] = json.loads(out.stdout.strip().splitlines()[-1])
            ref = results["log"]
            for case, r in results.items():
                ratio = "" if case == "log" else (
                    f"   ×{r['open'] / ref['open']:.2f}, ×{r['after'] / max(ref['after'], 1):.2f}")
                first = r.get("first", r["open"])
                print(f"{n:>9} {flavor:>3} {case:>5} {first:>7.2f} {r['open']:>7.2f} {r['peak']:>8.0f}"
                      f" {r['after']:>9.0f} {r['blocked']:>9.2f}{ratio}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
