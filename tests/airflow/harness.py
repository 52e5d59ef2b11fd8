"""Start and stop real Airflow 3 and Airflow 2 servers on 127.0.0.1 with SQLite or PostgreSQL.

Used by the pytest fixtures (tests/conftest.py), the demo (scripts/demo) and the compatibility
suite (scripts/compat). Each supported Airflow minor version (VERSIONS: 2.9 .. 3.3) lives in its
own venv under the platformdirs user cache dir, built once from its committed freeze in
tests/airflow/requirements/ and reused while that freeze is unchanged. A bare major ("2", "3")
means that major's newest minor (DEFAULT_MINOR).

    python -m tests.airflow.harness ensure 3 2 2.9    # build (or reuse) the venvs
    python -m tests.airflow.harness up 3 --state F    # start, wait for the DAGs, write state to F
    python -m tests.airflow.harness up 3.0 --state F  # the same with Airflow 3.0
    python -m tests.airflow.harness up 3 --many-dags 1000 --state F   # + gen_0000..gen_0999
    python -m tests.airflow.harness up 3 --db postgres --state F  # metadata DB in PostgreSQL
    python -m tests.airflow.harness down --state F    # stop exactly what `up` started

A server process that dies is reported in one line (which one, how it ended, where its log is)
and the server's home with every log is kept. Ctrl+C, SIGTERM or SIGHUP to `up` stops everything
it started (tests/airflow/procs.py tracks each process until it is stopped or handed over).

Facts and pitfalls behind the settings below: shared/reference/airflow-local.md.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import platformdirs

from tests.airflow.procs import (
    Interrupted,
    ProcId,
    exit_status,
    install_signal_handlers,
    is_alive,
    stop_all,
    track,
    untrack,
)

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements"
DAGS_DIR = HERE.parent / "dags"
# One file that generates ASTRO_TUI_MANY_DAGS small DAGs (gen_0000, ...), for benchmarks only.
MANY_DAGS_FILE = HERE.parent / "dags_many" / "example_many.py"
MANY_DAGS_ENV = "ASTRO_TUI_MANY_DAGS"
# Extra readiness patience per generated DAG, on top of `timeout`. Measured for 1,000 DAGs on 2
# busy cores: ready after 16-35 s on Airflow 3.3.2 but 87-146 s on 2.11.2 (see _many_dags_env),
# so 240 + 300 s leaves Airflow 2 over 3.5x headroom.
MANY_DAGS_TIMEOUT_PER_DAG = 0.3
USERNAME = "admin"
PASSWORD = "admin"
# The hostile DAG and the long-id twins are for tests only; the demo leaves them out.
TEST_ONLY_DAGS = {"example_hostile.py", "example_warehouse_ingestion_pipeline_customer_emea.py",
                  "example_warehouse_ingestion_pipeline_customer_apac.py"}
# DAG files that define their DAG only from this Airflow (major, minor) on (older servers still
# get the file, which must import cleanly there and define nothing): human-in-the-loop needs 3.1+.
DAGS_SINCE = {"example_hitl.py": (3, 1)}

# The supported Airflow minor versions and their pinned freezes (tests/airflow/requirements/).
# The newest minor of each major keeps the freeze file it always had, so its cached venv (keyed
# by the freeze's hash) stays valid, and a bare major means it.
VERSIONS = {
    "2.9": "airflow-2.9.txt",
    "2.10": "airflow-2.10.txt",
    "2.11": "airflow2.txt",
    "3.0": "airflow-3.0.txt",
    "3.1": "airflow-3.1.txt",
    "3.2": "airflow-3.2.txt",
    "3.3": "airflow3.txt",
}
DEFAULT_MINOR = {2: "2.11", 3: "3.3"}
#: the oldest supported minor of each major
OLDEST_MINOR = {2: "2.9", 3: "3.0"}
VERSION_CHOICES = (*VERSIONS, *map(str, DEFAULT_MINOR))


def resolve_version(version: int | str) -> str:
    """"2.9" -> "2.9"; a bare major (2, "3") -> its newest minor; anything else: HarnessError."""
    text = str(version).strip()
    if text.isdigit() and int(text) in DEFAULT_MINOR:
        return DEFAULT_MINOR[int(text)]
    if text in VERSIONS:
        return text
    raise HarnessError(f"unsupported Airflow version {text!r} (choose from "
                       f"{', '.join(VERSION_CHOICES)})")


def version_tuple(version: int | str) -> tuple[int, int]:
    major, minor = resolve_version(version).split(".")
    return int(major), int(minor)


def freeze_path(version: int | str) -> Path:
    return REQUIREMENTS / VERSIONS[resolve_version(version)]


def example_dag_files(include_test_dags: bool = True) -> list[Path]:
    """The example DAG files a harness server gets (every version: see DAGS_SINCE)."""
    return sorted(
        f for f in DAGS_DIR.glob("example_*.py")
        if include_test_dags or f.name not in TEST_ONLY_DAGS
    )


def example_dag_ids(version: int | str, include_test_dags: bool = True) -> set[str]:
    """The example DAG ids a harness server of Airflow `version` ("3.0", or a bare major for its
    newest minor) lists (a file's stem is its DAG id). Tests and benchmarks count DAGs with this
    instead of a number."""
    have = version_tuple(version)
    return {f.stem for f in example_dag_files(include_test_dags)
            if have >= DAGS_SINCE.get(f.name, (0, 0))}


class HarnessError(RuntimeError):
    pass


class ServerDied(HarnessError):
    """A server process (or its PostgreSQL) exited; the message is one line naming it."""


class PhaseTimeout(HarnessError):
    """A Watchdog phase ran past its time limit."""


def _say(msg: str) -> None:
    print(f"[harness] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- venvs


def cache_root() -> Path:
    override = os.environ.get("ASTRO_TUI_AIRFLOW_CACHE")
    root = Path(override) if override else platformdirs.user_cache_path("astro-tui") / "airflow"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _venv_label(version: int | str) -> str:
    """"airflow3" for a major's default minor (the name its venv always had), else "airflow3.0"."""
    minor = resolve_version(version)
    major = int(minor.split(".")[0])
    return f"airflow{major}" if DEFAULT_MINOR[major] == minor else f"airflow{minor}"


def venv_path(version: int | str) -> Path:
    req = freeze_path(version)
    py = f"{sys.version_info.major}{sys.version_info.minor}"
    key = hashlib.sha256(req.read_bytes() + py.encode()).hexdigest()[:12]
    return cache_root() / f"{_venv_label(version)}-py{py}-{key}"


def ensure_venv(version: int | str) -> Path:
    """Return a venv with the pinned Airflow `version` ("2.9", or a bare major for its newest
    minor), building it if the cache has none."""
    minor = resolve_version(version)
    venv = venv_path(minor)
    done = venv / ".complete"
    if done.exists():
        return venv
    with open(cache_root() / f".lock-{_venv_label(minor)}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return venv
        # A venv bakes its own path into its scripts, so build in place and mark it complete last.
        shutil.rmtree(venv, ignore_errors=True)
        req = freeze_path(minor)
        t0 = time.monotonic()
        _say(f"building the Airflow {minor} venv in {venv} (once; later runs reuse it)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "install", "-U", "pip"], check=True)
        subprocess.run([*pip, "install", "-r", str(req)], check=True)
        done.write_text(f"built in {time.monotonic() - t0:.0f} s\n")
        _say(f"Airflow {minor} venv ready in {time.monotonic() - t0:.0f} s")
    return venv


# ---------------------------------------------------------------- servers


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_pair() -> tuple[int, int]:
    """A free API port and a free worker-log port 10000 away (pitfall 5: no collisions)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log_port = port + 10000 if port < 55535 else port - 10000
        if _port_free(log_port):
            return port, log_port
    raise HarnessError("no free port pair found on 127.0.0.1")


@dataclass
class AirflowServer:
    major: int
    url: str
    port: int
    home: str
    venv: str
    version: str = ""
    username: str = USERNAME
    password: str = PASSWORD
    procs: list[dict] = field(default_factory=list)  # {"name", "pid", "start", "log"}
    many_dags: int = 0  # extra generated DAGs (gen_0000, ...) served from MANY_DAGS_FILE
    db: str = "sqlite"  # the metadata database: "sqlite" (a file in home) or "postgres"
    # db="postgres": {"name": "postgres", "pid", "start", "log", "dir", "port", "password"}
    pg: dict = field(default_factory=dict)
    minor: str = ""  # the supported minor it runs ("3.0"); `version` is the exact one ("3.0.6")

    @property
    def version_tuple(self) -> tuple[int, int]:
        return version_tuple(self.minor or self.major)

    @property
    def api(self) -> str:
        return f"{self.url}/api/v{1 if self.major == 2 else 2}"

    def env(self) -> dict[str, str]:
        return _server_env(self)

    def http_client(self, **kw) -> httpx.Client:
        """A plain httpx client already authenticated against this server."""
        if self.major == 2:
            return httpx.Client(auth=(self.username, self.password), **kw)
        resp = httpx.post(
            f"{self.url}/auth/token",
            json={"username": self.username, "password": self.password},
            timeout=30,
        )
        resp.raise_for_status()
        token = resp.json()["access_token"]
        headers = {**kw.pop("headers", {}), "Authorization": f"Bearer {token}"}
        return httpx.Client(headers=headers, **kw)

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for p in self._records():
            try:
                text = Path(p["log"]).read_text(errors="replace").splitlines()
            except OSError:
                continue
            out.append(f"--- {p['name']} (pid {p['pid']}), last {lines} lines ---")
            out.extend(text[-lines:])
        return "\n".join(out)

    def alive(self) -> list[str]:
        return [p["name"] for p in self.procs if is_alive(ProcId(p["pid"], p["start"]))]

    def _records(self) -> list[dict]:
        """Every long-running process of this server: Airflow's, then PostgreSQL's."""
        return [*self.procs, *([self.pg] if self.pg.get("pid") else [])]

    def dead(self) -> list[dict]:
        """The records of the server processes that are no longer running."""
        return [p for p in self._records() if not is_alive(ProcId(p["pid"], p["start"]))]

    def death(self) -> str | None:
        """One line naming the first dead server process, how it ended and where its log is;
        None while every process runs."""
        dead = self.dead()
        if not dead:
            return None
        p = dead[0]
        how = exit_status(p["pid"]) or "exit status unknown (not started by this process)"
        also = f" (also gone: {', '.join(d['name'] for d in dead[1:])})" if dead[1:] else ""
        return (f"Airflow {self.major} {p['name']} (pid {p['pid']}) died: {how}{also}; "
                f"its log is kept in {p['log']}")

    def check(self) -> None:
        """Raise ServerDied (one line) if a server process is gone."""
        msg = self.death()
        if msg:
            raise ServerDied(msg)

    def stop(self, keep_home: bool | None = None) -> None:
        """Stop every process of this server, then PostgreSQL (removing its data directory).

        The home (with every log) is removed unless keep_home; by default (None) it is kept
        when a server process had died before this stop, and its path is printed."""
        died = self.death()
        roots = [ProcId(p["pid"], p["start"]) for p in self.procs]
        survivors = stop_all(roots)
        untrack(*roots)
        _stop_postgres(self)
        if survivors:
            raise HarnessError(f"processes survived SIGKILL: {survivors}")
        if keep_home is None:
            keep_home = died is not None
            if died:
                _say(f"kept the server's home with its logs: {self.home}")
        if not keep_home:
            shutil.rmtree(self.home, ignore_errors=True)

    def hand_over(self) -> None:
        """Let this server outlive this process (`up`): stop tracking its processes."""
        untrack(*(ProcId(p["pid"], p["start"]) for p in self._records()))

    def stop_process(self, name: str) -> None:
        """Stop one component (e.g. "api-server") and everything it spawned."""
        rec = next(p for p in self.procs if p["name"] == name)
        survivors = stop_all([ProcId(rec["pid"], rec["start"])])
        untrack(ProcId(rec["pid"], rec["start"]))
        if survivors:
            raise HarnessError(f"{name} survived SIGKILL: {survivors}")
        self.procs.remove(rec)

    def start_process(self, name: str, args: list[str]) -> None:
        _spawn(self, args, name)

    def restart_process(self, name: str) -> None:
        args = next(p for p in self.procs if p["name"] == name)["args"]
        self.stop_process(name)
        self.start_process(name, args)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> AirflowServer:
        return cls(**json.loads(text))


class Watchdog:
    """Turns a dead server process, or a phase past its time limit, into an exception raised in
    the main thread, even out of a blocking read, select, sleep or subprocess wait.

    A thread checks the server every `interval` s. On trouble it records ServerDied (one line:
    which process, how it ended, where its log is) or PhaseTimeout and sends SIGUSR1 to the main
    thread, whose handler raises it there. It is raised again every `refire` s while the main
    thread stays in the phase (an exception raised inside a finalizer is lost), and a death again
    by every later phase() before it starts. Create and use it in the main thread:

        with Watchdog(server) as dog:
            with dog.phase("P1", 600):
                ...
    """

    def __init__(self, server: AirflowServer | None, interval: float = 0.5,
                 refire: float = 3.0) -> None:
        self.server = server
        self.interval = interval
        self.refire = refire
        self.died: ServerDied | None = None
        self._phase: tuple[str, float, float] | None = None  # name, deadline, limit
        self._pending: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self._main = threading.main_thread().ident

    def __enter__(self) -> Watchdog:
        if threading.current_thread() is not threading.main_thread():
            raise HarnessError("a Watchdog must be used from the main thread")
        # Stays installed afterwards: a signal still in flight must never kill the process.
        signal.signal(signal.SIGUSR1, self._handler)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._pending = None

    @contextlib.contextmanager
    def phase(self, name: str, limit: float):
        """Run the body with a time limit of `limit` s; raises ServerDied at once if the server
        is already known dead."""
        if self.died is not None:
            raise self.died
        self._phase = (name, time.monotonic() + limit, limit)
        try:
            yield
        finally:
            self._phase = None
            self._pending = None

    def _handler(self, signum, frame) -> None:
        exc, self._pending = self._pending, None
        if exc is not None:
            raise exc

    def _fire(self, exc: BaseException) -> None:
        self._pending = exc
        try:
            signal.pthread_kill(self._main, signal.SIGUSR1)
        except ProcessLookupError:
            pass

    def _run(self) -> None:
        fired: tuple | None = None  # the phase last fired at
        fired_at = 0.0
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            ph = self._phase
            if self.died is None and self.server is not None:
                msg = self.server.death()
                if msg:
                    self.died = ServerDied(msg)
                    self._fire(self.died)
                    fired, fired_at = ph, now
                    continue
            if ph is None:
                continue
            if ph is fired and now - fired_at >= self.refire:  # still in it: not seen
                self._fire(self.died or PhaseTimeout(
                    f"{ph[0]} exceeded its time limit of {ph[2]:.0f} s"))
                fired_at = now
            elif ph is not fired and now > ph[1]:
                self._fire(PhaseTimeout(f"{ph[0]} exceeded its time limit of {ph[2]:.0f} s"))
                fired, fired_at = ph, now


def _server_env(s: AirflowServer) -> dict[str, str]:
    home = Path(s.home)
    secret = (home / ".secret").read_text().strip()
    log_port = s.port + 10000 if s.port < 55535 else s.port - 10000
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        PATH=f"{s.venv}/bin:{env.get('PATH', '/usr/bin:/bin')}",  # pitfall 2
        PYTHONPATH=str(home / "pylib"),
        VIRTUAL_ENV=s.venv,
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__PARALLELISM="4",  # pitfall 3
        AIRFLOW__CORE__HOSTNAME_CALLABLE="local_net.loopback_hostname",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(log_port),  # pitfall 5
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=(
            f"postgresql+psycopg2://{PG_USER}:{s.pg['password']}@127.0.0.1:{s.pg['port']}/"
            f"{PG_DB}" if s.db == "postgres" else f"sqlite:///{home}/airflow.db"
        ),
        AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL="5",
        PYTHONDONTWRITEBYTECODE="1",
        # A crash (segfault) in a server process prints every thread's Python stack to its log.
        PYTHONFAULTHANDLER="1",
    )
    if s.db == "sqlite":
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = "local_net.SQLITE_CONNECT_ARGS"
    if s.major == 3:
        env.update(
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(s.port),
            AIRFLOW__API__WORKERS="1",
            AIRFLOW__API__BASE_URL=s.url,
            AIRFLOW__API__SECRET_KEY=secret,
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{s.url}/execution/",  # pitfall 6
            AIRFLOW__API_AUTH__JWT_SECRET=secret,
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{s.username}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        )
    else:
        env.update(
            AIRFLOW__CORE__EXECUTOR="SequentialExecutor",
            AIRFLOW__WEBSERVER__WEB_SERVER_HOST="127.0.0.1",
            AIRFLOW__WEBSERVER__WEB_SERVER_PORT=str(s.port),
            AIRFLOW__WEBSERVER__WORKERS="2",
            AIRFLOW__WEBSERVER__BASE_URL=s.url,
            AIRFLOW__WEBSERVER__SECRET_KEY=secret,
            AIRFLOW__API__AUTH_BACKENDS=(
                "airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session"
            ),
            AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL="10",
            AIRFLOW__METRICS__TIMER_UNIT_CONSISTENCY="True",  # pitfall 12
        )
    if s.many_dags > 0:
        env.update(_many_dags_env(s.major, s.many_dags))
    env.update(json.loads((home / ".extra_env.json").read_text()))
    return env


def many_dag_ids(n: int) -> set[str]:
    """The DAG ids that tests/dags_many/example_many.py generates for ASTRO_TUI_MANY_DAGS=n."""
    return {f"gen_{i:04d}" for i in range(n)}


def _many_dags_env(major: int, n: int) -> dict[str, str]:
    """Settings for a DAG folder with one file defining n DAGs.

    Measured for n=1000 on 2 cores: the file imports in under 1 s and serializes in 1-2 s on
    both versions. Airflow 3 then writes the DAGs in about 4 s in all. Airflow 2 spends 67-113 s
    in the one processor job, almost all of it creating 7 FAB permission views per new DAG
    in SQLite, and with SQLite it parses one file at a time, so the small example files wait
    behind it. That is far past the 50 s default dag_file_processor_timeout, which would kill the
    job and start it over. So the import and processor timeouts and stale_dag_threshold (DAGs
    whose parse looks too old get deactivated) grow with n, and re-parsing waits 600 s instead of
    5 s (Airflow 2) or 30 s (Airflow 3, which ignores the [scheduler] spelling set above): a
    1,000-DAG file parsed that often would keep a core busy under a benchmark, and on Airflow 2
    block every other file each time.
    """
    slack = str(max(300, n))  # seconds
    env = {
        MANY_DAGS_ENV: str(n),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": slack,
    }
    if major == 3:
        env.update(
            AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT=slack,
            AIRFLOW__DAG_PROCESSOR__STALE_DAG_THRESHOLD=slack,
            AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="600",
        )
    else:
        env.update(
            AIRFLOW__CORE__DAG_FILE_PROCESSOR_TIMEOUT=slack,
            AIRFLOW__SCHEDULER__STALE_DAG_THRESHOLD=slack,
            AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL="600",
        )
    return env


# ---------------------------------------------------------------- PostgreSQL

DBS = ("sqlite", "postgres")
#: SQLite's busy timeout in the servers' connections. pysqlite's default, 5 s, once failed a
#: task's state write on two busy cores (rollback mode: the writer also waited for readers).
#: 60 s was worse: twice in CI a write waited the whole minute (a trigger got no answer in 30 s;
#: a pause PATCH failed after 60.1 s while the scheduler's heartbeat stalled 65 s), which looks
#: like a lock held by a transaction that cannot end until a waiter gives up, so the timeout is
#: how long such a stall lasts. With WAL (below) readers no longer block the writer, and 10 s
#: keeps a stall shorter than the tests' 30 s client timeouts.
SQLITE_BUSY_SECONDS = 10


def _use_wal(db_file: Path) -> None:
    """Put the SQLite file in write-ahead-log mode (persistent in the file). In SQLite's default
    rollback mode a writer waits for every open read to end, and the api-server, scheduler,
    dag-processor and task processes read all the time (in CI a trigger, POST dagRuns, once got no
    answer in 30 s, most likely waiting so). With WAL, readers never block the writer, nor it
    them; only writers wait for each other."""
    with contextlib.closing(sqlite3.connect(db_file, timeout=SQLITE_BUSY_SECONDS)) as conn:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        raise HarnessError(f"{db_file}: SQLite refused WAL mode (journal_mode is {mode!r})")


PG_VERSION = "15"  # Debian bookworm's PostgreSQL (.ci/run installs the `postgresql` package)
PG_USER = "airflow"
PG_DB = "airflow"
PG_START_TIMEOUT = 120.0


def pg_bin_dir() -> Path:
    """Debian's PostgreSQL binaries: $ASTRO_TUI_PG_BIN, else /usr/lib/postgresql/15/bin, else the
    newest /usr/lib/postgresql/*/bin."""
    override = os.environ.get("ASTRO_TUI_PG_BIN")
    candidates = [Path(override)] if override else [
        Path(f"/usr/lib/postgresql/{PG_VERSION}/bin"),
        *sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True),
    ]
    for c in candidates:
        if (c / "initdb").exists() and (c / "postgres").exists():
            return c
    raise HarnessError(
        "PostgreSQL binaries not found (looked in /usr/lib/postgresql/*/bin): install Debian's "
        "`postgresql` package (.ci/run does) or set ASTRO_TUI_PG_BIN"
    )


def _pg_user() -> dict:
    """Run PostgreSQL as the `postgres` system user when we are root (it refuses root)."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise HarnessError("running as root but there is no `postgres` user to run PostgreSQL "
                           "as (Debian's `postgresql` package creates it)") from None
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_postgres(s: AirflowServer) -> None:
    """A throwaway PostgreSQL cluster for s: data and unix socket in a new temporary directory
    owned by the `postgres` user, listening on 127.0.0.1 on a free port, with a password login
    `airflow` owning the database `airflow`. Its log is home/postgres.log."""
    bin_dir = pg_bin_dir()
    as_user = _pg_user()
    pg_dir = Path(tempfile.mkdtemp(prefix="astro-tui-pg-"))
    s.pg = {"name": "postgres", "pid": 0, "start": 0, "log": str(Path(s.home) / "postgres.log"),
            "dir": str(pg_dir), "port": _free_port(), "password": secrets.token_hex(16)}
    if as_user:
        os.chown(pg_dir, as_user["user"], as_user["group"])
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(pg_dir),
           "PGHOST": str(pg_dir), "PGPORT": str(s.pg["port"])}
    log = Path(s.pg["log"])

    def run(argv: list[str], what: str) -> None:
        with open(log, "ab") as out:
            p = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, cwd=pg_dir, start_new_session=True,
                                 **as_user)
        pid = track(p, f"postgres {what}")
        try:
            rc = p.wait(timeout=PG_START_TIMEOUT)
        finally:
            stop_all([pid])
            untrack(pid)
        if rc != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise HarnessError(f"PostgreSQL {what} failed (rc {rc}); its log: {log}\n{tail}")

    data = pg_dir / "data"
    run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
         "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256"], "initdb")
    with open(log, "ab") as out:
        p = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(s.pg["port"]),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={pg_dir}"],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=pg_dir, start_new_session=True, **as_user,
        )
    pid = track(p, "postgres")
    s.pg.update(pid=pid.pid, start=pid.start)
    _say(f"started postgres (pid {pid.pid}) on 127.0.0.1:{s.pg['port']}, log: {log}")
    deadline = time.monotonic() + PG_START_TIMEOUT
    while True:
        s.check()
        ready = subprocess.run([str(bin_dir / "pg_isready"), "-q"], env=env, **as_user,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL).returncode == 0
        if ready:
            break
        if time.monotonic() > deadline:
            raise HarnessError(f"PostgreSQL not ready after {PG_START_TIMEOUT:.0f} s; log: {log}")
        time.sleep(0.2)
    pw = s.pg["password"]
    run([str(bin_dir / "psql"), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
         "-c", f"CREATE ROLE {PG_USER} LOGIN PASSWORD '{pw}'",
         "-c", f"CREATE DATABASE {PG_DB} OWNER {PG_USER}"], "create role and database")


def _stop_postgres(s: AirflowServer, timeout: float = 30.0) -> None:
    """Fast shutdown (SIGINT), then SIGKILL what is left; remove the cluster's directory."""
    if not s.pg:
        return
    if s.pg.get("pid"):
        pid = ProcId(s.pg["pid"], s.pg["start"])
        if is_alive(pid):
            try:
                os.kill(pid.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + timeout
            while is_alive(pid) and time.monotonic() < deadline:
                exit_status(pid.pid)  # reaps our own child
                time.sleep(0.1)
        survivors = stop_all([pid], timeout=10)
        untrack(pid)
        if survivors:
            raise HarnessError(f"PostgreSQL survived SIGKILL: {survivors}")
    shutil.rmtree(s.pg["dir"], ignore_errors=True)


# ---------------------------------------------------------------- homes and processes


def _prepare_home(s: AirflowServer, dag_files: list[Path], extra_env: dict[str, str]) -> None:
    home = Path(s.home)
    (home / "dags").mkdir(parents=True)
    (home / "pylib").mkdir()
    for f in dag_files:
        shutil.copy(f, home / "dags" / f.name)
    if s.many_dags > 0:
        shutil.copy(MANY_DAGS_FILE, home / "dags" / MANY_DAGS_FILE.name)
    (home / "pylib" / "local_net.py").write_text(
        "def loopback_hostname():\n    return '127.0.0.1'\n\n\n"
        "# SQLite's busy timeout (seconds): a writer waits this long for another's lock before\n"
        "# failing with 'database is locked' (see SQLITE_BUSY_SECONDS in tests/airflow/harness.py).\n"
        f"SQLITE_CONNECT_ARGS = {{'timeout': {SQLITE_BUSY_SECONDS}}}\n"
    )
    (home / ".secret").write_text(secrets.token_urlsafe(32))
    (home / ".extra_env.json").write_text(json.dumps(extra_env))
    # Airflow 3: a fixed password instead of a generated one.
    (home / "passwords.json").write_text(json.dumps({s.username: s.password}))


def _run(s: AirflowServer, args: list[str], name: str) -> None:
    log = Path(s.home) / f"{name}.log"
    with open(log, "ab") as out:
        p = subprocess.Popen(
            [f"{s.venv}/bin/airflow", *args], env=s.env(), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=s.home, start_new_session=True,
        )
    pid = track(p, name)
    try:
        deadline = time.monotonic() + 300
        while (rc := p.poll()) is None:
            if time.monotonic() > deadline:
                raise HarnessError(f"`airflow {' '.join(args[:2])}` still running after 300 s; "
                                   f"its log: {log}")
            if s.pg:
                s.check()  # PostgreSQL died under it
            time.sleep(0.2)
    finally:
        stop_all([pid])
        untrack(pid)
    if rc != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise HarnessError(f"`airflow {' '.join(args[:2])}` failed (rc {rc}):\n{tail}")


def _spawn(s: AirflowServer, args: list[str], name: str) -> None:
    log = Path(s.home) / f"{name}.log"
    with open(log, "ab") as out:
        p = subprocess.Popen(
            [f"{s.venv}/bin/airflow", *args], env=s.env(), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=s.home, start_new_session=True,
        )
    pid = track(p, f"Airflow {s.major} {name}")
    s.procs.append({"name": name, "pid": pid.pid, "start": pid.start, "log": str(log),
                    "args": args})
    _say(f"started {name} (pid {pid.pid}), log: {log}")


def _all_dag_ids(c: httpx.Client, s: AirflowServer) -> set[str]:
    """Every DAG id the API lists, page by page (the API caps a page at 100)."""
    ids: set[str] = set()
    offset = 0
    while True:
        r = c.get(f"{s.api}/dags", params={"limit": 100, "offset": offset})
        r.raise_for_status()
        body = r.json()
        ids |= {d["dag_id"] for d in body["dags"]}
        offset += len(body["dags"])
        if not body["dags"] or offset >= body["total_entries"]:
            return ids


def _wait_ready(s: AirflowServer, expected_dags: set[str], timeout: float) -> None:
    """Wait until the API answers with auth and lists every expected DAG."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        s.check()
        try:
            with s.http_client(timeout=30 if s.many_dags else 10) as c:
                s.version = c.get(f"{s.api}/version").json()["version"]
                r = c.get(f"{s.api}/dags", params={"limit": 100})
                r.raise_for_status()
                listed = {d["dag_id"] for d in r.json()["dags"]}
                if s.many_dags > 0 and r.json()["total_entries"] >= len(expected_dags):
                    # More than one page: read them all, but only once the count may be complete.
                    listed = _all_dag_ids(c, s)
                missing = expected_dags - listed
                if not missing:
                    return
                last = (f"DAGs not parsed yet: {sorted(missing)}" if len(missing) <= 20
                        else f"{len(missing)} DAGs not parsed yet")
        except (httpx.HTTPError, ValueError, KeyError) as e:
            last = f"{type(e).__name__}: {e}"
        time.sleep(1)
    raise HarnessError(f"Airflow {s.major} not ready after {timeout:.0f} s ({last})")


def start(
    version: int | str,
    *,
    include_test_dags: bool = True,
    extra_env: dict[str, str] | None = None,
    timeout: float = 240,
    many_dags: int = 0,
    db: str = "sqlite",
) -> AirflowServer:
    """Start a real Airflow `version` on 127.0.0.1 and wait until it lists the DAGs: a minor
    ("2.9", "3.0", see VERSIONS) or a bare major (2, 3, "3": that major's newest minor).

    many_dags=N (> 0) also serves N generated DAGs gen_0000 .. from tests/dags_many/ and waits for
    them too, with MANY_DAGS_TIMEOUT_PER_DAG more seconds of patience per generated DAG.
    db="postgres" keeps the metadata in a throwaway PostgreSQL cluster (_start_postgres) instead
    of a SQLite file; stop() stops it and removes its directory.

    If a process dies while it starts, this raises ServerDied (one line: which, how, its log) and
    keeps the home with the logs. Every process started is tracked (procs.track) until stopped.
    """
    minor = resolve_version(version)
    major = int(minor.split(".")[0])
    if many_dags < 0:
        raise HarnessError(f"many_dags must be >= 0, not {many_dags}")
    if db not in DBS:
        raise HarnessError(f"unsupported database {db!r} (choose from {', '.join(DBS)})")
    venv = ensure_venv(minor)
    port, _ = _free_port_pair()
    home = tempfile.mkdtemp(prefix=f"astro-tui-airflow{minor}-")
    s = AirflowServer(major=major, url=f"http://127.0.0.1:{port}", port=port, home=home,
                      venv=str(venv), many_dags=many_dags, db=db, minor=minor)
    dag_files = example_dag_files(include_test_dags)
    t0 = time.monotonic()
    try:
        _prepare_home(s, dag_files, extra_env or {})
        if db == "postgres":
            _start_postgres(s)
        _run(s, ["db", "migrate"], "db-migrate")
        if db == "sqlite":
            _use_wal(Path(home) / "airflow.db")
        if major == 3:
            _spawn(s, ["api-server"], "api-server")
            _spawn(s, ["scheduler", "--skip-serve-logs"], "scheduler")  # pitfall 4
            _spawn(s, ["dag-processor"], "dag-processor")
        else:
            _run(s, ["users", "create", "-u", s.username, "-p", s.password, "-r", "Admin",
                     "-f", "Test", "-l", "Admin", "-e", "admin@example.invalid"], "users-create")
            _spawn(s, ["webserver"], "webserver")
            _spawn(s, ["scheduler", "--skip-serve-logs"], "scheduler")
        expected = example_dag_ids(minor, include_test_dags) | many_dag_ids(many_dags)
        _wait_ready(s, expected, timeout + many_dags * MANY_DAGS_TIMEOUT_PER_DAG)
    except ServerDied:
        s.stop(keep_home=True)
        raise
    except (Interrupted, KeyboardInterrupt):
        _say(f"interrupted while Airflow {minor} started: stopping it")
        s.stop(keep_home=False)
        raise
    except BaseException:
        tail = s.log_tail()
        s.stop(keep_home=True)
        if tail:
            _say(f"Airflow {minor} failed to start; server logs:\n{tail}")
        _say(f"kept the server's home with its logs: {home}")
        raise
    # Also readable by `down` (and by hand) if whoever started it dies without stopping it.
    (Path(home) / "server.json").write_text(s.to_json())
    _say(f"Airflow {s.version} ready at {s.url} in {time.monotonic() - t0:.1f} s "
         f"(home {home}, db {db})")
    return s


def seed(s: AirflowServer) -> None:
    """Unpause the friendly DAGs and trigger a few runs, so a demo screen is not empty."""
    runs = [
        ("example_success", {}), ("example_fail", {}), ("example_mapped", {}),
        ("example_taskgroup", {}), ("example_params", {"name": "demo", "count": 5}),
        ("example_long", {"seconds": 300}),
    ]
    with s.http_client(timeout=30) as c:
        for dag_id, conf in runs:
            c.patch(f"{s.api}/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
            body: dict = {"conf": conf}
            if s.major == 3:
                body["logical_date"] = None
            c.post(f"{s.api}/dags/{dag_id}/dagRuns", json=body).raise_for_status()


# ---------------------------------------------------------------- CLI


def _default_state(version: str) -> Path:
    return cache_root() / f"running-{_venv_label(version)}.json"


def _version_arg(text: str) -> int | str:
    """A CLI version: a bare major stays an int (3), a minor a string ("3.0")."""
    try:
        resolve_version(text)
    except HarnessError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return int(text) if text.isdigit() else text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.airflow.harness")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_ensure = sub.add_parser("ensure", help="build or reuse the cached Airflow venvs")
    p_ensure.add_argument("versions", nargs="+", type=_version_arg, metavar="VERSION",
                          help=f"one of {', '.join(VERSION_CHOICES)} (a major: its newest minor)")
    p_up = sub.add_parser("up", help="start a server and print its state as JSON")
    p_up.add_argument("version", type=_version_arg, metavar="VERSION",
                      help=f"one of {', '.join(VERSION_CHOICES)} (a major: its newest minor)")
    p_up.add_argument("--state", type=Path)
    p_up.add_argument("--demo", action="store_true", help="leave out the test-only DAGs")
    p_up.add_argument("--seed", action="store_true", help="unpause and trigger a few DAGs")
    p_up.add_argument("--many-dags", type=int, default=0, metavar="N",
                      help="also serve N generated DAGs gen_0000.. (for benchmarks)")
    p_up.add_argument("--db", choices=DBS, default="sqlite",
                      help="metadata database (postgres: a throwaway PostgreSQL 15 cluster)")
    p_down = sub.add_parser("down", help="stop a server started by `up`")
    p_down.add_argument("--state", type=Path, required=True)
    args = ap.parse_args(argv)

    if args.cmd == "ensure":
        for version in args.versions:
            print(ensure_venv(version))
        return 0
    if args.cmd == "up":
        try:
            server = start(args.version, include_test_dags=not args.demo,
                           many_dags=args.many_dags, db=args.db)
        except Interrupted as e:
            _say(f"{e}: stopped everything `up` had started")
            return e.exit_code
        except ServerDied as e:
            _say(f"FAILED: {e}")
            return 1
        try:
            state = args.state or _default_state(args.version)
            state.write_text(server.to_json())
            if args.seed:
                seed(server)
        except BaseException:
            server.stop()
            raise
        server.hand_over()  # from here on the server is `down`'s to stop
        print(server.to_json())
        return 0
    server = AirflowServer.from_json(args.state.read_text())
    server.stop()
    args.state.unlink(missing_ok=True)
    _say(f"stopped Airflow {server.version} at {server.url}")
    return 0


if __name__ == "__main__":
    install_signal_handlers("[harness]")
    raise SystemExit(main())
