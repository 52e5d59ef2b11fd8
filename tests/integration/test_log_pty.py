"""The hostile log in a real terminal: `astro-tui` runs in a pty against the real Airflow 3, the
keyboard opens example_hostile's log (groups unfolded, lines wrapped), and every byte the app
writes is scanned. No OSC sequence but Textual's own pointer-shape one, no clear-screen, no C1
control (as a code point: the stream is decoded as UTF-8), no NUL, and the markup text of the log
is on screen literally."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.integration.test_log_live import trigger, wait_run

pytestmark = pytest.mark.integration

# Textual's own OSC: the mouse pointer shape (OSC 22), at start-up.
TEXTUAL_OSC = re.compile(r"\x1b\]22;[a-z-]+\x07")
CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def app_env(server, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The app's environment: the server's connection, a fresh state dir (no saved session
    from another test), no NO_COLOR, no TMUX unless given."""
    env = dict(os.environ, TERM="xterm-256color", AIRFLOW_API_URL=server.url,
               AIRFLOW_USERNAME=server.username, AIRFLOW_PASSWORD=server.password,
               ASTRO_TUI_STATE_DIR=str(tmp_path / "state"), **extra)
    for var in ("ASTRO_AIRFLOW_URL", "ASTRO_API_TOKEN", "AIRFLOW_AUTH_TOKEN", "NO_COLOR"):
        env.pop(var, None)
    if "TMUX" not in extra:
        env.pop("TMUX", None)
    return env


class Terminal:
    def __init__(self, env: dict[str, str], size: tuple[int, int] = (120, 40),
                 args: tuple[str, ...] = (), argv: list[str] | None = None) -> None:
        """Runs `astro-tui *args` (or `argv`) in a new pty of `size`."""
        exe = str(Path(sys.executable).parent / "astro-tui")
        argv = argv or [exe, *args]
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the app
            os.execvpe(argv[0], argv, env)
        cols, rows = size
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.out = bytearray()

    def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.out.extend(chunk)

    def screen_text(self) -> str:
        """Everything written so far, without CSI sequences (text pieces stay whole)."""
        return CSI.sub("", self.out.decode("utf-8", "replace"))

    def wait_text(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read(0.2)
            if text in self.screen_text():
                return
        raise AssertionError(f"{text!r} never appeared on the terminal")

    def press(self, keys: str, settle: float = 0.5) -> None:
        os.write(self.fd, keys.encode())
        self.read(settle)

    def close(self) -> None:
        try:
            os.write(self.fd, b"q")
            self.read(2)
        finally:
            try:
                os.kill(self.pid, 15)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            os.close(self.fd)


def test_hostile_log_in_a_real_terminal_writes_no_escape_from_the_log(airflow3, tmp_path):
    run_id = trigger(airflow3, "example_hostile", {})
    assert wait_run(airflow3, "example_hostile", run_id) == "success"
    term = Terminal(app_env(airflow3, tmp_path))
    try:
        term.wait_text("example_taskgroup", 90)  # the overview's DAG list is there
        term.press("/", 1)  # the filter opens (keys typed before it has focus go to the list)
        term.press("example_hostile", 1)  # the DAG list filtered to it
        term.press("\r", 1)  # keep the filter, back on the list
        term.press("\r", 1)  # the drill-down, on its runs
        term.wait_text("· example_hostile", 30)  # the runs pane's title
        term.wait_text("shout", 60)  # the tasks of its newest run
        term.press("\r", 1)  # to the tasks
        term.press("\r")  # to the log
        term.wait_text("shout · try 1 · end of log", 60)
        term.press("z", 1)  # unfold every group
        term.press("w", 1)  # wrap the long line
        term.press("g", 1)
    finally:
        term.close()
    raw = bytes(term.out)
    text = raw.decode("utf-8")  # strict: the app writes valid UTF-8
    assert "\x00" not in text
    c1 = sorted({f"U+{ord(c):04X}" for c in text if 0x80 <= ord(c) <= 0x9F})
    assert not c1, f"C1 controls written to the terminal: {c1}"
    oscs = re.findall(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?", text)
    assert all(TEXTUAL_OSC.fullmatch(osc) for osc in oscs), oscs
    assert "\x1b[2J" not in text and "\x1bc" not in text
    assert text.count("\x07") == len(oscs)  # BEL only ends Textual's own OSCs
    plain = CSI.sub("", text)
    assert "[@click=app.quit]click to quit[/]" in plain
    assert "[bold]bold?[/bold]" in plain and "[/]" in plain
    assert "pwned" not in plain and "ZXZpbA" not in plain
