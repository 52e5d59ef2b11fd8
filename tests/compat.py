"""The compatibility suite: astro-tui's real code paths against a real server of each supported
Airflow version (tests/airflow/harness.py VERSIONS: 2.9 .. 3.3).

    scripts/compat              # every version, oldest first
    scripts/compat 2.9 3.3      # some
    python -m tests.compat 3.0  # the same without scripts/bootstrap

For each version: start the harness server, run CHECKS through the API layer
(``astro_tui.airflow``: AirflowClient, LogFollower) and the headless CLI (``python -m astro_tui``
in a subprocess, the connection in its environment), stop the server. Then a table version x
check (ok, or FAIL with one line of why) and the time each version took; the exit status is 1 if
any check failed. tests/integration/test_compat.py runs the same checks under pytest.

Every wait is for a state, with a deadline; nothing sleeps a fixed time to let the server catch
up. Server text (errors, log lines) goes through astro_tui.text.clean before it is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astro_tui.airflow import Airflow3PasswordAuth, AirflowClient, BasicAuth, LogFollower
from astro_tui.text import clean
from tests.airflow import harness

CHECKS = (
    "connect", "dags", "trigger_conf", "params", "runs", "task_instances", "logs", "log_follow",
    "clear_dry_run", "pause", "health", "import_errors", "failures",
)
# Generous: Airflow 2 runs one task at a time, and the machine may be busy.
RUN_TIMEOUT = 240.0
CLI_TIMEOUT = 120.0
FOLLOW_SECONDS = 8  # example_long's ticks: long enough for a follow to see the log grow
BROKEN_FILE = "example_compat_broken.py"
BROKEN_SOURCE = (
    '"""An airflow dag file that fails to import (astro-tui compat check)."""\n'
    "raise RuntimeError('compat_broken: intentional import error')\n"
)
CONF = {"name": "compat", "count": 2}


class CheckFailed(AssertionError):
    """A check's verdict: one line saying what was expected and what came instead."""


def expect(cond: object, why: str) -> None:
    if not cond:
        raise CheckFailed(why)


@dataclass
class CheckResult:
    name: str
    ok: bool
    reason: str = ""
    seconds: float = 0.0


@dataclass
class VersionReport:
    version: str  # the supported minor, "3.0"
    exact: str = ""  # what the server says, "3.0.6"
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0  # start (venv included) + checks + stop
    start_seconds: float = 0.0
    kept_home: str = ""  # a failed version's server home, kept with its logs

    @property
    def ok(self) -> bool:
        return len(self.results) == len(CHECKS) and all(r.ok for r in self.results)

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.ok]


def one_line(text: object, limit: int = 160) -> str:
    """Untrusted text (server errors, log lines) made safe and short for one table cell."""
    line = " ".join(clean(str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


async def wait_until(cond: Callable[[], Awaitable[Any]], what: str, timeout: float,
                     interval: float = 0.5) -> Any:
    """Poll the async `cond` until it returns something truthy; CheckFailed after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = await cond()
        if last:
            return last
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(interval)


class Checker:
    """The checks against one running harness server. They share a few runs (triggered once)
    and run in CHECKS order; a check that needs a run an earlier check failed to make fails too,
    saying so."""

    def __init__(self, server: harness.AirflowServer) -> None:
        self.s = server
        self.client: AirflowClient | None = None
        self.runs: dict[str, str] = {}  # dag_id -> run id of the run this suite triggered
        self.tmp = Path(tempfile.mkdtemp(prefix="astro-tui-compat-"))
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("ASTRO_", "AIRFLOW_", "AIRFLOW__"))}
        self.env.update(
            ASTRO_TUI_CONFIG=str(self.tmp / "config.toml"),
            ASTRO_TUI_DATA_DIR=str(self.tmp / "data"),
            AIRFLOW_API_URL=server.url,
            AIRFLOW_USERNAME=server.username,
            AIRFLOW_PASSWORD=server.password,
            NO_COLOR="1",
        )

    # -- helpers --
    def auth(self) -> Any:
        if self.s.major == 2:
            return BasicAuth(self.s.username, self.s.password)
        return Airflow3PasswordAuth(self.s.url, self.s.username, self.s.password)

    @property
    def c(self) -> AirflowClient:
        expect(self.client is not None, "no client: the connect check failed")
        assert self.client is not None
        return self.client

    async def cli(self, *argv: str, code: int | None = 0) -> subprocess.CompletedProcess[str]:
        """Run ``python -m astro_tui ARGV`` against the server; check its exit status."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "astro_tui", *argv, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), CLI_TIMEOUT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise CheckFailed(f"`astro-tui {' '.join(argv)}` still running after "
                              f"{CLI_TIMEOUT:.0f} s") from None
        result = subprocess.CompletedProcess(argv, proc.returncode or 0, out.decode(),
                                             err.decode())
        if code is not None and result.returncode != code:
            raise CheckFailed(f"`astro-tui {' '.join(argv)}` exited {result.returncode}, "
                              f"not {code}: {one_line(result.stderr or result.stdout)}")
        return result

    async def cli_json(self, *argv: str) -> Any:
        result = await self.cli(*argv, "--json")
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise CheckFailed(f"`astro-tui {' '.join(argv)} --json` printed no JSON: "
                              f"{one_line(result.stdout)}") from None

    def run_id(self, dag_id: str) -> str:
        expect(dag_id in self.runs, f"no {dag_id} run: triggering it failed in an earlier check")
        return self.runs[dag_id]

    async def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        """Unpause and trigger through the client (the runs the later checks look at)."""
        await self.c.set_paused(dag_id, False)
        run = await self.c.trigger(dag_id, conf or {})
        self.runs[dag_id] = run.run_id
        return run.run_id

    async def finished(self, dag_id: str, want: str = "success") -> Any:
        run_id = self.run_id(dag_id)

        async def done() -> Any:
            run = await self.c.get_run(dag_id, run_id)
            return run if run.state in ("success", "failed") else None

        run = await wait_until(done, f"the {dag_id} run to finish", RUN_TIMEOUT)
        expect(run.state == want, f"the {dag_id} run ended {run.state}, not {want}")
        return run

    # -- the checks, in CHECKS order --
    async def check_connect(self) -> None:
        self.client = await AirflowClient.connect(self.s.url, auth=self.auth())
        got = str(self.client.version)
        expect(got == self.s.version, f"client detected {got}, server says {self.s.version}")
        expect(self.client.version.major == self.s.major, f"major {self.client.version.major}")
        dialect = type(self.client.dialect).__name__
        expect(dialect == ("DialectV1" if self.s.major == 2 else "DialectV2"), f"dialect {dialect}")
        # The CLI connects on its own (password login on Airflow 3, basic auth on 2).
        await self.cli("dags", "--pattern", "example_success")

    async def check_dags(self) -> None:
        want = harness.example_dag_ids(self.s.minor or self.s.major)
        listed = {d.dag_id for d in await self.c.list_dags()}
        expect(listed >= want, f"missing DAGs: {sorted(want - listed)}")
        extra = {d for d in listed - want if d.startswith("example_")}
        expect(not extra, f"unexpected example DAGs: {sorted(extra)}")
        via_cli = {d["dag_id"] for d in await self.cli_json("dags")}
        expect(via_cli == listed, f"`dags --json` differs: {sorted(via_cli ^ listed)}")
        tagged = {d.dag_id for d in await self.c.list_dags(tags=["mapped"])}
        expect("example_mapped" in tagged, f"tag filter: {sorted(tagged)}")

    async def check_trigger_conf(self) -> None:
        # The CLI trigger (with its local check of the conf against the params); the client
        # triggers the runs the later checks read, so that they run while this one is checked.
        doc = await self.cli_json("trigger", "example_params", "--unpause",
                                  "--conf", json.dumps(CONF))
        self.runs["example_params"] = doc["run_id"]
        expect(doc["conf"] == CONF, f"trigger answered conf {doc['conf']!r}")
        for dag_id in ("example_mapped", "example_fail"):
            await self.trigger(dag_id)
        run = await self.finished("example_params")
        expect(run.conf == CONF, f"the run's conf is {run.conf!r}")
        bad = await self.cli("trigger", "example_params", "--conf", '{"count": "x"}', code=None)
        expect(bad.returncode != 0, "a conf against the params was accepted")

    async def check_runs(self) -> None:
        run_id = self.run_id("example_params")
        runs, total = await self.c.list_runs("example_params")
        expect(total >= 1 and any(r.run_id == run_id for r in runs),
               f"run {run_id} not in the list of {total}")
        batch, _ = await self.c.list_runs_batch(["example_params", "example_mapped"])
        expect(any(r.run_id == run_id for r in batch), "run missing from the batch list")
        listed = await self.cli_json("runs", "example_params")
        mine = [r for r in listed if r["run_id"] == run_id]
        expect(mine and mine[0]["state"] == "success", f"`runs --json`: {one_line(mine)}")
        status = await self.cli_json("status", "example_params", run_id)
        expect(status["state"] == "success" and status["conf"] == CONF,
               f"`status --json`: {status['state']} {status['conf']!r}")

    async def check_task_instances(self) -> None:
        await self.finished("example_mapped")
        run_id = self.run_id("example_mapped")
        tis = await self.c.list_task_instances("example_mapped", run_id)
        squares = sorted(t.map_index for t in tis if t.task_id == "square")
        expect(squares == [0, 1, 2], f"square map indexes {squares}")
        states = {(t.task_id, t.map_index): t.state for t in tis}
        expect(set(states.values()) == {"success"}, f"states {states}")
        one = await self.c.get_task_instance("example_mapped", run_id, "square", 1)
        expect(one.map_index == 1 and one.state == "success", f"square[1]: {one}")
        status = await self.cli_json("status", "example_mapped", run_id)
        expect(len(status["tasks"]) == 5, f"`status --json` lists {len(status['tasks'])} tasks")

    async def check_logs(self) -> None:
        run_id = self.run_id("example_params")
        chunk = await self.c.read_log("example_params", run_id, "show_conf", 1)
        texts = [line.text for line in chunk.lines]
        expect(any(t.startswith("CONF=") and '"name": "compat"' in t for t in texts),
               f"no CONF= line in {len(texts)} log lines")
        out = (await self.cli("logs", "example_params", run_id, "show_conf")).stdout
        expect('"name": "compat"' in out, f"`logs` printed {one_line(out[-200:])}")
        mapped = self.run_id("example_mapped")
        out = (await self.cli("logs", "example_mapped", mapped, "square", "--map-index", "1")
               ).stdout
        expect("square: 3 * 3 = 9" in out, f"`logs --map-index 1`: {one_line(out[-200:])}")
        bare = await self.cli("logs", "example_mapped", mapped, "square", code=None)
        expect(bare.returncode != 0 and "map" in bare.stderr,
               f"`logs` without --map-index on a mapped task: {one_line(bare.stderr)}")

    async def check_log_follow(self) -> None:
        run_id = await self.trigger("example_long", {"seconds": FOLLOW_SECONDS})
        follower = LogFollower(self.c, "example_long", run_id, "tick", interval=0.5)
        batches: list[tuple[str | None, list[str]]] = []  # (TI state, new tick lines)
        deadline = time.monotonic() + RUN_TIMEOUT + FOLLOW_SECONDS
        while not follower.finished:
            expect(time.monotonic() < deadline, f"the follow did not end ({len(batches)} polls)")
            lines = await follower.poll()
            ticks = [line.text for line in lines if line.text.startswith("tick ")]
            batches.append((follower.ti.state if follower.ti else None, ticks))
            if not follower.finished:
                await asyncio.sleep(follower.interval)
        got = [t for _, ts in batches for t in ts]
        want = [f"tick {i} of {FOLLOW_SECONDS}" for i in range(1, FOLLOW_SECONDS + 1)]
        expect(got == want, f"ticks {got[:3]}..{got[-2:]} ({len(got)}), not 1..{FOLLOW_SECONDS}")
        growing = [ts for state, ts in batches if state == "running" and ts]
        expect(len(growing) >= 2, f"new lines arrived in {len(growing)} polls while running")
        await self.finished("example_long")

    async def check_clear_dry_run(self) -> None:
        await self.finished("example_fail", "failed")
        run_id = self.run_id("example_fail")
        tis = await self.c.clear_task_instances("example_fail", run_id, ["boom"], dry_run=True,
                                                include_downstream=True)
        expect({t.task_id for t in tis} == {"boom", "never"},
               f"dry run would clear {sorted(t.task_id for t in tis)}")
        whole = await self.c.clear_run("example_fail", run_id, dry_run=True)
        expect({t.task_id for t in whole} >= {"ok", "boom", "never"},
               f"whole-run dry run: {sorted(t.task_id for t in whole)}")
        run = await self.c.get_run("example_fail", run_id)
        boom = await self.c.get_task_instance("example_fail", run_id, "boom")
        expect(run.state == "failed" and boom.state == "failed",
               f"a dry run changed something: run {run.state}, boom {boom.state}")

    async def check_pause(self) -> None:
        async def paused() -> bool | None:
            dags = await self.c.list_dags(pattern="example_success")
            return next(d.is_paused for d in dags if d.dag_id == "example_success")

        await self.cli("pause", "example_success")
        expect(await paused() is True, "still unpaused after `pause`")
        await self.cli("unpause", "example_success")
        expect(await paused() is False, "still paused after `unpause`")
        dag = await self.c.set_paused("example_success", True)
        expect(dag.is_paused is True, "set_paused(True) answered unpaused")

    async def check_health(self) -> None:
        health = await self.c.health()
        expect(health.status_of("metadatabase") == "healthy", "metadatabase not healthy")

        async def cli_healthy() -> Any:  # a busy machine may see a heartbeat late
            r = await self.cli("health", "--json", code=None)
            return json.loads(r.stdout) if r.returncode == 0 else None

        doc = await wait_until(cli_healthy, "`health` to exit 0", 90, interval=2)
        comps = doc["components"]
        expect(comps["scheduler"]["status"] == "healthy", f"scheduler {comps['scheduler']}")
        expect(isinstance(doc["import_errors"], int), f"import_errors {doc['import_errors']!r}")

    async def check_import_errors(self) -> None:
        # The broken file went into the DAG folder when the server started (prepare()).
        async def listed() -> Any:
            errors = await self.cli_json("import-errors")
            return [e for e in errors if (e.get("filename") or "").endswith(BROKEN_FILE)]

        found = await wait_until(listed, "the broken DAG file's import error", 180, interval=2)
        expect("compat_broken: intentional import error" in (found[0].get("stack_trace") or ""),
               f"stack trace: {one_line(found[0].get('stack_trace'))}")
        errors = await self.c.list_import_errors()
        expect(any((e.filename or "").endswith(BROKEN_FILE) for e in errors),
               "client's list_import_errors misses it")
        expect(await self.c.count_import_errors() >= 1, "count_import_errors is 0")

    async def check_params(self) -> None:
        """Issue 18: the conf check agrees with this server on the 34 confs of
        tests/integration/test_conf_validation_live.py, and the formats its FormatChecker checks
        are the ones astro_tui.conf assumes for this version."""
        from astro_tui.conf import blocking, check_conf, formats_for
        from tests.integration import test_conf_validation_live as cv

        details = await self.c.get_dag_details(cv.DAG)
        version = self.c.version.as_tuple
        direct = cv._jsonschema_in_server_venv(self.s, details, [c for _, c, _ in cv.CASES])
        expect(tuple(direct["formats"]) == formats_for(version),
               f"the server checks formats {direct['formats']}, astro-tui assumes "
               f"{list(formats_for(version))}")
        differ = []
        with self.s.http_client(timeout=60) as c:
            for name, conf, _ in cv.CASES:
                mine = blocking(check_conf(conf, details.params, airflow=version))
                server, _ = cv._server_verdict(c, self.s, conf)
                if ("refused" if mine else "ok") != server:
                    differ.append(f"{name}: astro-tui {'refuses' if mine else 'accepts'}, "
                                  f"the server {server}")
        expect(not differ, f"{len(differ)} of {len(cv.CASES)} differ: " + "; ".join(differ[:3]))

    async def check_failures(self) -> None:
        run_id = self.run_id("example_fail")
        doc = await self.cli_json("failures", "--since", "24h")
        mine = [r for r in doc["failed"] if r["run_id"] == run_id and r["dag_id"] == "example_fail"]
        expect(mine, f"the failed example_fail run is not among {len(doc['failed'])} failures")
        task = mine[0]["first_failed_task"]
        expect(task and task["task_id"] == "boom", f"first failed task: {task}")

    async def run(self, only: tuple[str, ...] = CHECKS) -> list[CheckResult]:
        results = []
        try:
            for name in CHECKS:
                if name not in only:
                    continue
                t0 = time.monotonic()
                try:
                    await getattr(self, f"check_{name}")()
                    results.append(CheckResult(name, True, seconds=time.monotonic() - t0))
                except CheckFailed as e:
                    results.append(CheckResult(name, False, one_line(e), time.monotonic() - t0))
                except Exception as e:  # noqa: BLE001 - an API error is a failed check
                    results.append(CheckResult(name, False, one_line(f"{type(e).__name__}: {e}"),
                                               time.monotonic() - t0))
        finally:
            if self.client is not None:
                await self.client.aclose()
        return results


def prepare(server: harness.AirflowServer) -> None:
    """Put the broken DAG file in place right after the start: its import error is there by the
    time the import_errors check asks, without a wait of its own."""
    (Path(server.home) / "dags" / BROKEN_FILE).write_text(BROKEN_SOURCE)


def check_server(server: harness.AirflowServer, only: tuple[str, ...] = CHECKS
                 ) -> list[CheckResult]:
    prepare(server)
    return asyncio.run(Checker(server).run(only))


def run_version(version: str, only: tuple[str, ...] = CHECKS) -> VersionReport:
    """Start `version`, check it, stop it. A server that does not start fails every check."""
    minor = harness.resolve_version(version)
    report = VersionReport(minor)
    t0 = time.monotonic()
    try:
        server = harness.start(minor)
    except Exception as e:  # noqa: BLE001 - reported in the table
        why = one_line(f"server did not start: {e}")
        report.results = [CheckResult(name, False, why) for name in CHECKS if name in only]
        report.seconds = time.monotonic() - t0
        return report
    report.start_seconds = time.monotonic() - t0
    report.exact = server.version
    try:
        report.results = check_server(server, only)
    finally:
        failed = not report.results or not all(r.ok for r in report.results)
        server.stop(keep_home=failed or None)
        if failed:
            report.kept_home = server.home
    report.seconds = time.monotonic() - t0
    return report


def table(reports: list[VersionReport]) -> str:
    """Version x check, then the reasons of every failure and the time per version."""
    names = [n for n in CHECKS if any(r.name == n for rep in reports for r in rep.results)]
    head = ["version", *names, "time"]
    rows = []
    for rep in reports:
        by = {r.name: r for r in rep.results}
        cells = [f"{rep.exact or rep.version}"]
        cells += ["ok" if by[n].ok else "FAIL" for n in names]
        cells.append(f"{rep.seconds:.0f} s (start {rep.start_seconds:.0f} s)")
        rows.append(cells)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)).rstrip()
             for r in (head, *rows)]
    for rep in reports:
        reasons: dict[str, list[str]] = {}  # a server that did not start: one line, not twelve
        for r in rep.failures():
            reasons.setdefault(r.reason, []).append(r.name)
        for reason, names in reasons.items():
            lines.append(f"FAIL {rep.exact or rep.version} {', '.join(names)}: {reason}")
        if rep.kept_home:
            lines.append(f"     {rep.exact or rep.version}: server logs kept in {rep.kept_home}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/compat", description=__doc__.split("\n\n")[0])
    ap.add_argument("versions", nargs="*", metavar="VERSION",
                    help=f"Airflow versions to check: {', '.join(harness.VERSIONS)} or a bare "
                         "major (its newest minor); default: all")
    ap.add_argument("--check", action="append", choices=CHECKS, metavar="CHECK",
                    help="run only this check (repeatable; later checks may need earlier ones)")
    args = ap.parse_args(argv)
    try:
        versions = list(dict.fromkeys(harness.resolve_version(v) for v in args.versions))
    except harness.HarnessError as e:
        ap.error(str(e))
    versions = versions or list(harness.VERSIONS)
    only = tuple(args.check) if args.check else CHECKS
    reports = []
    for v in versions:
        print(f"[compat] Airflow {v} ...", file=sys.stderr, flush=True)
        rep = run_version(v, only)
        verdict = "ok" if rep.ok or (only != CHECKS and not rep.failures()) else "FAIL"
        print(f"[compat] Airflow {rep.exact or v}: {verdict} in {rep.seconds:.0f} s",
              file=sys.stderr, flush=True)
        reports.append(rep)
    print(table(reports))
    return 0 if all(not rep.failures() and rep.results for rep in reports) else 1


if __name__ == "__main__":
    from tests.airflow.procs import install_signal_handlers

    install_signal_handlers("[compat]")
    raise SystemExit(main())
