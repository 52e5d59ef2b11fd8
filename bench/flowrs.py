"""Run the peer TUI flowrs (Rust, github.com/jvanbuel/flowrs) against a harness Airflow server.

Used by benchmark scripts that measure flowrs side by side with astro-tui. Stdlib (+ platformdirs,
which the harness already needs); no Textual.

    python -m tests.airflow.harness up 3 --state /tmp/af3.json
    python bench/flowrs.py /tmp/af3.json           # smoke: ~10 s in a pty; did the DAG ids appear?
    python bench/flowrs.py /tmp/af3.json --walk    # also DAG -> runs -> tasks -> log via KEYS
    python bench/flowrs.py /tmp/af3.json --picker  # start on the server picker, select by keys

API:
    ensure_flowrs(version)      -> Path of the flowrs binary (own venv in the user cache, built once)
    flowrs_env(server, workdir) -> env dict; writes workdir/home/.config/flowrs/config.toml
                                   (+ workdir/flowrs_token.py for Airflow 3)
    flowrs_argv(binary)         -> argv that starts the TUI
    KEYS, keys_open_dag(), keys_open_task()
                                -> key sequences (bytes for a pty): DAGs -> runs -> tasks -> log
    WAIT_FOR                    -> text on screen that shows each step painted
    FlowrsPty, Screen           -> run flowrs in a pty, answer its terminal queries, read the screen

Facts (flowrs 0.16.2 from PyPI, 120x40, harness Airflow 3.3.2 and 2.11.2):
- flowrs shows an animated logo splash for ~2 s at every start that no key skips; the first
  frame with the tab bar and table comes at ~2.0 s. With `active_server` in the config (the
  default here) the DAG list is fetched during the splash and is on the first real frame (~2.0 s).
  From the server picker, the DAG list appears one poll interval after selecting the server.
- At start it sends OSC 10/11 colour queries and DA1 and waits ~1 s for answers that never come
  in a bare pty; FlowrsPty answers them like a real terminal (tmux does too).
- Only the active tab polls, every poll_interval_ms (default 2000, min 500; config key only).
"""

from __future__ import annotations

import fcntl
import os
import shlex
import subprocess
import sys
import venv
from pathlib import Path

DEFAULT_VERSION = "0.16.2"
SERVER_NAME = "bench"


# ---------------------------------------------------------------- install


def _cache_root() -> Path:
    import platformdirs  # a dependency of the harness venv; import lazily so `--help` works anywhere

    root = platformdirs.user_cache_path("astro-tui") / "bench"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _pypi_versions(pip: Path) -> list[str]:
    """Versions of `flowrs` PyPI offers, newest first (via pip, the ordinary client)."""
    out = subprocess.run(
        [str(pip), "index", "versions", "flowrs"], capture_output=True, text=True, check=False
    ).stdout
    for line in out.splitlines():
        if line.strip().startswith("Available versions:"):
            return [v.strip() for v in line.split(":", 1)[1].split(",") if v.strip()]
    return []


def ensure_flowrs(version: str = DEFAULT_VERSION) -> Path:
    """Return the path of the flowrs binary `version`, installing it into its own cached venv once.

    The venv lives at <user cache>/astro-tui/bench/flowrs-<version>; `.complete` is written last and
    holds the version actually installed. If PyPI lacks `version`, the newest available is installed
    instead (same directory name, so the request stays cached) and the stamp records which one.
    """
    root = _cache_root()
    home = root / f"flowrs-{version}"
    stamp = home / ".complete"
    binary = home / "bin" / "flowrs"
    if stamp.exists() and binary.exists():
        return binary
    with open(root / f".lock-flowrs-{version}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and binary.exists():
            return binary
        if home.exists():
            import shutil

            shutil.rmtree(home)
        venv.EnvBuilder(with_pip=True, clear=True).create(home)
        pip = home / "bin" / "pip"
        installed = version
        res = subprocess.run(
            [str(pip), "install", "--quiet", "--disable-pip-version-check", f"flowrs=={version}"],
            capture_output=True, text=True, check=False,
        )
        if res.returncode != 0:
            available = _pypi_versions(pip)
            if not available:
                raise RuntimeError(f"pip install flowrs=={version} failed:\n{res.stderr}")
            installed = available[0]
            print(f"[flowrs] flowrs=={version} not installable; using newest {installed}",
                  file=sys.stderr)
            subprocess.run(
                [str(pip), "install", "--quiet", "--disable-pip-version-check",
                 f"flowrs=={installed}"],
                check=True,
            )
        if not binary.exists():
            raise RuntimeError(f"pip installed flowrs but {binary} is missing")
        stamp.write_text(f"requested={version}\ninstalled={installed}\n")
    return binary


def installed_version(binary: Path) -> str:
    """`flowrs --version` -> e.g. "0.16.2"."""
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout
    return out.split()[-1] if out.split() else ""


# ---------------------------------------------------------------- config

# The token command flowrs runs (through `sh -c`) to get an Airflow 3 JWT. flowrs caches its output
# for 60 s and never calls /auth/token itself. Stdlib only, so any python3 can run it.
_TOKEN_SCRIPT = '''\
import json, sys, urllib.request
url, user, password = sys.argv[1:4]
req = urllib.request.Request(
    url.rstrip("/") + "/auth/token",
    data=json.dumps({"username": user, "password": password}).encode(),
    headers={"Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(req, timeout=30) as resp:
    sys.stdout.write(json.load(resp)["access_token"])
'''


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flowrs_env(
    server,
    workdir: Path,
    poll_interval_ms: int = 2000,
    start_on_dags: bool = True,
    theme: str | None = None,
) -> dict[str, str]:
    """Write flowrs's config for `server` under `workdir` and return the env to launch flowrs with.

    flowrs reads `$XDG_CONFIG_HOME/flowrs/config.toml` (else `~/.config/flowrs/config.toml`, else the
    legacy `~/.flowrs`); `-f FILE` also works. We point HOME, XDG_CONFIG_HOME, XDG_STATE_HOME (debug
    log with FLOWRS_LOG=debug) and XDG_CACHE_HOME into `workdir` so the user's own config is never
    read or rewritten (flowrs writes the config back on `q`).

    `server` is a tests.airflow.harness.AirflowServer (needs .url, .major, .username, .password).
    Airflow 3: `version = "V3"` + a token command; Airflow 2: `version = "V2"` + basic auth.
    `poll_interval_ms`: flowrs default 2000, clamped to >= 500, effective in 200 ms ticks.
    `start_on_dags`: write `active_server`, so flowrs opens straight on the DAG list of this server
    (what a returning user sees: flowrs saves the active server on `q`). False: it opens on the
    Config tab (server picker) and needs KEYS["select_server"] first.
    `theme`: None keeps flowrs's default ("auto": asks the terminal for its background colour).
    """
    workdir = Path(workdir).resolve()
    home = workdir / "home"
    cfg_home = home / ".config"
    cfg_dir = cfg_home / "flowrs"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    (home / ".local" / "state").mkdir(parents=True, exist_ok=True)
    (home / ".cache").mkdir(parents=True, exist_ok=True)
    endpoint = server.url.rstrip("/") + "/"
    if int(server.major) >= 3:
        script = workdir / "flowrs_token.py"
        script.write_text(_TOKEN_SCRIPT)
        cmd = shlex.join([sys.executable, str(script), server.url, server.username, server.password])
        version, auth = "V3", f"[servers.auth.Token]\ncmd = {_toml_str(cmd)}\n"
    else:
        version = "V2"
        auth = (f"[servers.auth.Basic]\nusername = {_toml_str(server.username)}\n"
                f"password = {_toml_str(server.password)}\n")
    cfg = (
        "managed_services = []\n"
        + (f"active_server = {_toml_str(SERVER_NAME)}\n" if start_on_dags else "")
        + (f"theme = {_toml_str(theme)}\n" if theme else "")
        + f"poll_interval_ms = {int(poll_interval_ms)}\n\n"
        f"[[servers]]\n"
        f"name = {_toml_str(SERVER_NAME)}\n"
        f"endpoint = {_toml_str(endpoint)}\n"
        f'version = "{version}"\n'
        f"timeout_secs = 30\n\n"
        f"{auth}"
    )
    path = cfg_dir / "config.toml"
    path.write_text(cfg)
    path.chmod(0o600)
    env = dict(os.environ)
    for var in ("FLOWRS_LOG", "ASTRO_API_TOKEN"):
        env.pop(var, None)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(cfg_home),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_CACHE_HOME=str(home / ".cache"),
        TERM="xterm-256color",
    )
    return env


def flowrs_argv(binary) -> list[str]:
    """The command that starts the TUI (`run` is also the default subcommand)."""
    return [str(binary), "run"]


# ---------------------------------------------------------------- keys

# Key sequences (bytes for a pty) verified with flowrs 0.16.2 (tmux and FlowrsPty, 120x40) against
# Airflow 3.3.2 and 2.11.2 (`python bench/flowrs.py STATE --walk`). Each step needs the data of the previous one on screen first (wait for WAIT_FOR[...]);
# keys sent before the table is filled select nothing, and Enter then opens an error popup
# ("No DAG selected ...") that swallows every key until Esc.
#
# Tables start with *no* row selected: Enter on an unselected table is an error. `j` selects the
# first row from "none", but moves one down when a row is already selected; `gg` always selects the
# first row, so the sequences use `gg`. `/` opens the live filter (substring match on the
# primary column: dag_id / dag_run_id / task_id; matches keep the server's order), Enter closes the
# filter input and keeps the filter. Avoid ':' in filter text: it starts a `field:value` condition
# (so filter runs by position, not by run id). Esc / h / Left go back one tab.
KEYS: dict[str, bytes] = {
    # (a) flowrs starts on the Config tab (server picker) unless the config has `active_server`,
    # which flowrs_env writes by default (start_on_dags=True), so then this is not needed. The
    # cursor starts on no row: a bare Enter gives "No active environment selected"; `j` first.
    "select_server": b"j\r",
    # (b) DAG list -> that DAG's runs (newest first): "/" + dag_id + "\r" + "gg" + "\r".
    # Use keys_open_dag(dag_id); this entry is the part after the filter text.
    "open_dag_suffix": b"\rgg\r",
    # (c) Runs tab -> task instances of the first (newest) run.
    "open_first_run": b"gg\r",
    # (d) Tasks tab -> log of the first task; keys_open_task(task_id) picks a task by id.
    "open_first_task": b"gg\r",
    # Back one tab (Logs -> Tasks -> Runs -> DAGs).
    "back": b"\x1b",
    # Quit. flowrs writes the config back on `q` (adds active_server); Ctrl-C exits too.
    "quit": b"q",
}


def keys_open_dag(dag_id: str) -> bytes:
    """(b) On the DAG list: filter to `dag_id`, select the first match, open its runs."""
    return b"/" + dag_id.encode() + KEYS["open_dag_suffix"]


def keys_open_task(task_id: str) -> bytes:
    """(d) On the Tasks tab: filter to `task_id`, select the first match, open its log."""
    return b"/" + task_id.encode() + b"\rgg\r"


# Text that shows a step has painted: search FlowrsPty.screen.text() (or a tmux capture-pane).
# The raw byte stream only works for the first full frame: ratatui then writes only changed cells,
# so later text (headers overlapping old ones) arrives in fragments. First paint of the DAG list:
# the DAG ids themselves (e.g. "example_success"); the header row "Active  Name  Owners  Schedule
# Next Run  Stats" is drawn before any data. The breadcrumb in the top line ("Flowrs v0.16.2  bench
# > example_success > manual__2026-… > extract"; on Airflow 2 the run shows as its logical date)
# tracks navigation; "Fetching data..." with a spinner shows top right while a request is pending.
WAIT_FOR: dict[str, str] = {
    # Table headers are drawn (empty) before the data arrives: to know a table is *filled*, wait
    # for a row's text (a DAG id, a run id prefix "manual__", a task id), not for the header.
    "server_picker": "Endpoint",     # Config tab header; its row shows SERVER_NAME ("bench")
    "dag_list": "example_success",   # any DAG id = first paint of the DAG list
    "runs": "DAG Run ID",            # Runs tab header; rows start with the run id (manual__...)
    "tasks": "Task ID",              # Tasks tab header; rows: task ids (extract, transform, load)
    "log": "Content",                # Logs tab: "Task 1" (try tabs) + "Content" box with the text
}

# Polling facts (flowrs 0.16.2; source crates/flowrs-config/src/lib.rs + observation):
# - UI tick 200 ms; only the active tab polls, every `poll_interval_ms` (config key, default 2000,
#   clamped to >= 500, rounded down to whole 200 ms ticks). Change it in config.toml
#   (flowrs_env(..., poll_interval_ms=N)) or `flowrs config --poll-interval-ms N`; no run flag/env.
# - Polling pauses on terminal FocusLost.
POLL_INTERVAL_MS_DEFAULT = 2000
POLL_INTERVAL_MS_MIN = 500


# ---------------------------------------------------------------- pty driver

# At start flowrs (crossterm) asks the terminal for its colours and attributes: OSC 10 ?, OSC 11 ?
# and DA1 (ESC [ c). Unanswered, it waits ~1 s before drawing; a real terminal (or tmux) answers at
# once, so FlowrsPty answers like a dark xterm. It also enables focus reporting (ESC [?1004h):
# never send ESC [ O (focus out), or flowrs stops polling.
_QUERY_REPLIES = (
    (b"\x1b]10;?", b"\x1b]10;rgb:dcdc/dcdc/e6e6\x1b\\"),
    (b"\x1b]11;?", b"\x1b]11;rgb:0000/0000/0000\x1b\\"),
    (b"\x1b[c", b"\x1b[?62;22c"),
    (b"\x1b[6n", b"\x1b[1;1R"),
)
class Screen:
    """A minimal terminal screen: enough of xterm to read back what ratatui/crossterm draws.

    ratatui only writes the cells that changed since the last frame, so text such as a table
    header is often written in fragments; searching the raw byte stream only works for the first
    full paint. Feed the output here and search `text()` instead. Handles cursor positioning
    (CUP/CUU/CUD/CUF/CUB/CHA/VPA), ED/EL erases, CR/LF/BS, wide characters; ignores SGR, OSC and
    modes.
    """

    def __init__(self, cols: int = 120, rows: int = 40) -> None:
        import codecs

        self.cols, self.rows = cols, rows
        self.grid = [[" "] * cols for _ in range(rows)]
        self.row = self.col = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""

    def feed(self, data: bytes) -> None:
        import re
        import unicodedata

        s = self._pending + self._decoder.decode(data)
        self._pending = ""
        i, n = 0, len(s)
        csi = re.compile(r"\x1b\[([0-?]*)([ -/]*)([@-~])")
        osc = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
        while i < n:
            ch = s[i]
            if ch == "\x1b":
                if i + 1 >= n:
                    self._pending = s[i:]
                    return
                nxt = s[i + 1]
                if nxt == "[":
                    m = csi.match(s, i)
                    if not m:
                        self._pending = s[i:]
                        return
                    self._csi(m.group(1), m.group(3))
                    i = m.end()
                elif nxt == "]":
                    m = osc.match(s, i)
                    if not m:
                        self._pending = s[i:]
                        return
                    i = m.end()
                else:
                    i += 2
                continue
            i += 1
            if ch == "\r":
                self.col = 0
            elif ch == "\n":
                self.row = min(self.rows - 1, self.row + 1)
            elif ch == "\b":
                self.col = max(0, self.col - 1)
            elif ch < " " or ch == "\x7f":
                continue
            else:
                wide = unicodedata.east_asian_width(ch) in "WF"
                if self.col < self.cols:
                    self.grid[self.row][self.col] = ch
                    if wide and self.col + 1 < self.cols:
                        self.grid[self.row][self.col + 1] = ""
                self.col = min(self.cols, self.col + (2 if wide else 1))

    def _csi(self, params: str, final: str) -> None:
        if params.startswith("?") or params.startswith(">"):
            return
        nums = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []

        def arg(k: int, default: int) -> int:
            return nums[k] if len(nums) > k and nums[k] else default

        if final in "Hf":
            self.row = min(self.rows, arg(0, 1)) - 1
            self.col = min(self.cols, arg(1, 1)) - 1
        elif final == "A":
            self.row = max(0, self.row - arg(0, 1))
        elif final == "B":
            self.row = min(self.rows - 1, self.row + arg(0, 1))
        elif final == "C":
            self.col = min(self.cols - 1, self.col + arg(0, 1))
        elif final == "D":
            self.col = max(0, self.col - arg(0, 1))
        elif final == "G":
            self.col = min(self.cols, arg(0, 1)) - 1
        elif final == "d":
            self.row = min(self.rows, arg(0, 1)) - 1
        elif final == "J":
            mode = arg(0, 0)
            if mode == 0:
                self._erase(self.row, self.col, self.cols)
                for r in range(self.row + 1, self.rows):
                    self._erase(r, 0, self.cols)
            elif mode == 1:
                for r in range(self.row):
                    self._erase(r, 0, self.cols)
                self._erase(self.row, 0, self.col + 1)
            else:
                for r in range(self.rows):
                    self._erase(r, 0, self.cols)
        elif final == "K":
            mode = arg(0, 0)
            if mode == 0:
                self._erase(self.row, self.col, self.cols)
            elif mode == 1:
                self._erase(self.row, 0, self.col + 1)
            else:
                self._erase(self.row, 0, self.cols)

    def _erase(self, row: int, start: int, end: int) -> None:
        line = self.grid[row]
        for c in range(max(0, start), min(self.cols, end)):
            line[c] = " "

    def text(self) -> str:
        return "\n".join("".join(line) for line in self.grid)


class FlowrsPty:
    """flowrs in a pty (default 120x40): send keys, wait for text, count output bytes, close."""

    def __init__(self, argv: list[str], env: dict[str, str], cols: int = 120, rows: int = 40,
                 answer_queries: bool = True) -> None:
        import pty
        import struct
        import termios
        import time

        self.answer_queries = answer_queries
        self.started = time.monotonic()
        winsize = struct.pack("HHHH", rows, cols, 0, 0)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, winsize)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, winsize)
        self.output = bytearray()   # everything flowrs wrote
        self.screen = Screen(cols, rows)

    def pump(self, timeout: float) -> bool:
        """Read what is available within `timeout` s; False once flowrs has exited."""
        import select

        ready, _, _ = select.select([self.fd], [], [], max(0.0, timeout))
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        if not chunk:
            return False
        if self.answer_queries:
            for query, reply in _QUERY_REPLIES:
                if query in chunk:
                    os.write(self.fd, reply)
        self.output += chunk
        self.screen.feed(chunk)
        return True

    def wait_for(self, text: str, timeout: float = 30.0) -> float | None:
        """Wait until `text` is on the screen; return seconds since launch, None on timeout/exit."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            if text in self.screen.text():
                return time.monotonic() - self.started
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(min(left, 0.2)):
                return None

    def send(self, keys: bytes, gap: float = 0.05) -> None:
        """Write keys one at a time, `gap` s apart (reading output meanwhile)."""
        for b in keys:
            os.write(self.fd, bytes([b]))
            self.pump(gap)

    def drain(self, seconds: float) -> None:
        import time

        end = time.monotonic() + seconds
        while time.monotonic() < end and self.pump(end - time.monotonic()):
            pass

    def close(self) -> None:
        """Quit with `q`, then SIGKILL our child if it is still there."""
        import signal
        import time

        try:
            os.write(self.fd, KEYS["quit"])
        except OSError:
            pass
        end = time.monotonic() + 2
        while time.monotonic() < end:
            self.pump(0.1)
            if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


# ---------------------------------------------------------------- smoke


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    import re
    import tempfile
    import types

    ap = argparse.ArgumentParser(description="Launch flowrs against a harness server and check it.")
    ap.add_argument("state", type=Path, help="state file written by `harness up`")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--version", default=DEFAULT_VERSION)
    ap.add_argument("--walk", action="store_true",
                    help="also walk DAG -> runs -> tasks -> log with KEYS (needs a run of --dag)")
    ap.add_argument("--dag", default="example_success")
    ap.add_argument("--task", default="extract", help="task of --dag whose log --walk opens")
    ap.add_argument("--show", action="store_true", help="print the final screen")
    ap.add_argument("--poll-ms", type=int, default=POLL_INTERVAL_MS_DEFAULT,
                    help="flowrs poll_interval_ms (default 2000, min 500)")
    ap.add_argument("--picker", action="store_true",
                    help="start on the Config tab (no active_server) and select the server by keys")
    args = ap.parse_args(argv)

    server = types.SimpleNamespace(**json.loads(args.state.read_text()))
    binary = ensure_flowrs(args.version)
    print(f"flowrs {installed_version(binary)} at {binary}")
    with tempfile.TemporaryDirectory(prefix="flowrs-bench-") as tmp:
        env = flowrs_env(server, Path(tmp), poll_interval_ms=args.poll_ms,
                         start_on_dags=not args.picker)
        term = FlowrsPty(flowrs_argv(binary), env)
        ok = True
        try:
            if args.picker:
                t = term.wait_for(WAIT_FOR["server_picker"], 10)
                print(f"server picker painted: {t is not None} ({t or 0:.2f} s)")
                term.drain(0.3)
                term.send(KEYS["select_server"])
            t = term.wait_for(args.dag, args.seconds)
            print(f"DAG list painted ({args.dag!r} seen): {t is not None}"
                  + (f" after {t:.2f} s" if t is not None else ""))
            ok = t is not None
            if ok and args.walk:
                for label, keys, wait in (
                    ("runs", keys_open_dag(args.dag), [WAIT_FOR["runs"], "manual__"]),
                    ("tasks", KEYS["open_first_run"], [WAIT_FOR["tasks"], args.task]),
                    ("log", keys_open_task(args.task), [WAIT_FOR["log"], "Task 1"]),
                ):
                    term.drain(0.3)
                    term.send(keys)
                    t = None
                    for text in wait:
                        t = term.wait_for(text, 15)
                        if t is None:
                            break
                    print(f"{label}: {'ok' if t is not None else 'FAILED'}")
                    ok = ok and t is not None
            term.drain(max(0.0, args.seconds - (time_since(term))))
            raw = bytes(term.output)
            seen = sorted({m.decode() for m in re.findall(rb"example_\w+", raw)})
            print(f"DAG ids in output after {time_since(term):.1f} s: {', '.join(seen) or 'none'}")
            print(f"bytes written by flowrs: {len(term.output)}")
            screen = term.screen.text()
            errors = [line.strip(" │") for line in screen.splitlines() if "Error" in line]
            if errors:
                print("error text on screen:", *errors[:5], sep="\n  ")
            if args.show:
                print(screen)
        finally:
            term.close()
    return 0 if ok else 1


def time_since(term: FlowrsPty) -> float:
    import time

    return time.monotonic() - term.started


if __name__ == "__main__":
    sys.exit(main())
