"""The real app in a real pty: SIGHUP, crashes (no secret on screen or on disk), terminal restored."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SECRET = "sk-astro-5e1f0c2b9d7a4e66"
ROOT = Path(__file__).resolve().parents[2]

CRASHER = r"""
import os, sys
from astro_tui.config import resolve_profile
from astro_tui.session import open_client
from astro_tui.tui.app import AstroTuiApp

MODE = sys.argv[1]
profile = resolve_profile()


class Crashing(AstroTuiApp):
    def on_ready(self):
        self.set_timer(2.0, self.boom)

    def boom(self):
        if MODE == "handler":
            token = os.environ["ASTRO_API_TOKEN"]
            raise RuntimeError("crash in a message handler")
        self.run_worker(self.bad_worker(), exit_on_error=True)

    async def bad_worker(self):
        token = os.environ["ASTRO_API_TOKEN"]
        raise RuntimeError("crash in a worker")


app = Crashing(lambda: open_client(profile), profile_name=profile.name)
app.run()
sys.exit(app.return_code or 0)
"""


def run_in_pty(argv: list[str], env: dict, seconds: float, close_early: float | None = None):
    """Run argv in a pty (100x30); return (output bytes, exit status, seconds to exit)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(env["HOME"])
        os.execvpe(argv[0], argv, env)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    out = bytearray()
    start = time.monotonic()
    status = None
    closed_at = None
    while time.monotonic() - start < seconds:
        if close_early is not None and closed_at is None and time.monotonic() - start > close_early:
            os.close(fd)  # the terminal goes away, as when an SSH session drops
            closed_at = time.monotonic()
        if closed_at is None:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                out += chunk
        else:
            time.sleep(0.05)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if closed_at is None:
        try:
            os.close(fd)
        except OSError:
            pass
    took = time.monotonic() - (closed_at or start)
    return bytes(out), status, took


@pytest.fixture
def env(tmp_path, airflow3) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    e = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ASTRO"))}
    e.update(
        HOME=str(home), TERM="xterm-256color", PYTHONPATH=str(ROOT),
        XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"), XDG_STATE_HOME=str(home / ".local/state"),
        ASTRO_AIRFLOW_URL=airflow3.url, ASTRO_API_TOKEN=SECRET,
    )
    return e


def files_containing(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file():
            try:
                if needle in p.read_bytes():
                    hits.append(p)
            except OSError:
                pass
    return hits


@pytest.mark.parametrize("mode", ["handler", "worker"])
def test_a_crash_shows_no_secret_and_leaves_the_terminal_usable(mode, env, tmp_path):
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER)
    out, status, _ = run_in_pty([sys.executable, str(script), mode], env, seconds=40)
    assert status is not None, "the app did not exit after the crash"
    text = out.decode("utf-8", "replace")
    assert "RuntimeError" in text  # the crash is reported…
    assert SECRET not in text  # …without the token that was in a local variable
    assert SECRET.encode() not in out
    assert not files_containing(Path(env["HOME"]), SECRET.encode())
    # Alternate screen and mouse reporting were switched off after they were switched on.
    for on, off in ((b"\x1b[?1049h", b"\x1b[?1049l"), (b"\x1b[?1000h", b"\x1b[?1000l")):
        if on in out:
            assert out.rfind(off) > out.rfind(on), f"{off!r} missing after {on!r}"


def test_hangup_exits_promptly_without_spinning(env):
    exe = str(Path(sys.executable).parent / "astro-tui")
    _, status, took = run_in_pty([exe], env, seconds=30, close_early=4.0)
    assert status is not None, "still running 26 s after its terminal went away"
    assert took < 5, f"took {took:.1f} s to exit after the hang-up"


def test_hangup_exits_even_when_started_with_sighup_ignored(env):
    """nohup-style wrappers ignore SIGHUP; main() restores the default so the app still ends."""
    exe = str(Path(sys.executable).parent / "astro-tui")
    wrapper = [sys.executable, "-c",
               "import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_IGN); "
               "os.execv(sys.argv[1], sys.argv[1:])", exe]
    _, status, took = run_in_pty(wrapper, env, seconds=30, close_early=4.0)
    assert status is not None and took < 5


def test_cli_config_errors_are_one_line_without_traceback(env, tmp_path):
    exe = str(Path(sys.executable).parent / "astro-tui")
    bad = tmp_path / "bad.toml"
    bad.write_text("[profiles.x\nurl = 'https://example.invalid'\n")
    cases = {
        "malformed TOML": ({"ASTRO_TUI_CONFIG": str(bad)}, ["--profile", "x"]),
        "unknown profile": ({"ASTRO_TUI_CONFIG": str(tmp_path / "none.toml")},
                            ["--profile", "nope"]),
        "plain http to a remote host": ({"ASTRO_AIRFLOW_URL": "http://example.invalid"}, []),
    }
    for what, (extra, args) in cases.items():
        proc = subprocess.run([exe, *args], env={**env, **extra}, capture_output=True,
                              text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert proc.returncode != 0, what
        err = proc.stderr.strip()
        assert len(err.splitlines()) == 1, f"{what}: {err}"
        assert "Traceback" not in err and SECRET not in err + proc.stdout, what
