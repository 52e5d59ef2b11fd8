"""Following a log in a real terminal (tmux), issue 19's quiet log: the terminal scrolls the
log's rows itself (a DECSTBM scroll region) and only the new rows are written.

The app runs against the recorded fake deployment (tests/ui/log_follow_app.py: a log line every
0.5 s, polls every 0.5 s) inside a private tmux server, at 120x40 and 80x24. Two checks:

* the bytes the app writes per new log line (tmux's pipe-pane) are a fraction of one repaint
  of the log pane (rows x columns: at least a byte per cell), which is what each line cost
  before;
* what tmux shows after the scrolling equals what it shows after a full repaint (a resize
  and back),
  colours included: the scrolled rows are exactly what Textual would have drawn.

Every wait is for a screen state, with a deadline."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux")
TICK = re.compile(r"tick (\d+) of 300")
LAST = 60  # the log's last line: then nothing moves


class Tmux:
    """One app in its own tmux server (-L), its output piped to a file."""

    def __init__(self, tmp: Path, cols: int, rows: int, regions: bool = True) -> None:
        assert TMUX, "tmux is needed (.ci/run installs it)"
        self.socket = f"astro-tui-log-{os.getpid()}-{cols}x{rows}-{regions}"
        self.out = tmp / "out.bin"
        self.cols, self.rows = cols, rows
        # (COLUMNS and LINES, which the snapshot plugin sets, would fix Textual's size)
        env = f"-u COLUMNS -u LINES HOME={shlex.quote(str(tmp))} TERM=xterm-256color " \
              f"ASTRO_TUI_SCROLL_REGIONS={int(regions)} LOG_FOLLOW_LAST={LAST}"
        app = f"cd {shlex.quote(str(ROOT))} && env {env} {shlex.quote(sys.executable)} " \
              f"-m tests.ui.log_follow_app"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", str(cols), "-y", str(rows), app)
        self.tmux("pipe-pane", "-o", f"cat >> {shlex.quote(str(self.out))}")

    def tmux(self, *args: str) -> str:
        assert TMUX
        return subprocess.run([TMUX, "-L", self.socket, *args], check=True,
                              capture_output=True, text=True).stdout

    def screen(self, escapes: bool = False) -> str:
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []))

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def resize(self, cols: int) -> None:
        self.tmux("resize-window", "-x", str(cols), "-y", str(self.rows))
        size = self.tmux("display-message", "-p", "#{window_width}x#{window_height}").strip()
        assert size == f"{cols}x{self.rows}", size

    def written(self) -> int:
        return self.out.stat().st_size if self.out.exists() else 0

    def wait(self, cond: Callable[[str], object], what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen()
            if cond(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{text}")
            time.sleep(0.05)

    def stable(self) -> str:
        """The screen (with colours) once two captures in a row agree."""
        last = self.screen(escapes=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.screen(escapes=True)
            if now == last:
                return now
            last = now
        raise AssertionError("the screen never settled")

    def close(self) -> None:
        subprocess.run([TMUX or "tmux", "-L", self.socket, "kill-server"], check=False,
                       capture_output=True)


def width(text: str) -> int:
    """How wide the app drew itself (its borders reach the right edge)."""
    return max(len(line) for line in text.splitlines())


def newest_tick(text: str) -> int:
    return max((int(n) for n in TICK.findall(text)), default=0)


def last_log_row_is(n: int) -> Callable[[str], bool]:
    return lambda text: newest_tick(text) >= n


def follow(term: Tmux) -> float:
    """Open example_long's running log and follow it: the bytes written per new line."""
    term.wait(lambda t: "example_long" in t, "the DAG list")
    term.keys("/")
    term.wait(lambda t: "Enter keeps it" in t, "the filter", 20)
    term.keys("example_long")
    term.wait(lambda t: "DAGs (1/" in t, "the filtered list")
    term.keys("Enter")
    term.wait(lambda t: "Enter keeps it" not in t, "the filter closed", 20)
    term.keys("Enter")
    term.wait(lambda t: "manual__" in t, "the runs")
    term.keys("g", "Enter")
    term.wait(lambda t: "tick " in t and "Task" in t, "the tasks")
    term.keys("g", "Enter")
    screen = term.wait(lambda t: "following" in t and TICK.search(t), "the log, following")
    start_tick = newest_tick(term.wait(last_log_row_is(newest_tick(screen) + 1), "a line"))
    start_bytes = term.written()
    term.wait(last_log_row_is(start_tick + 12), "twelve more lines")
    return (term.written() - start_bytes) / 12


@pytest.mark.parametrize("cols, rows", [(120, 40), (80, 24)])
def test_a_followed_log_scrolls_in_the_terminal_and_writes_only_new_rows(tmp_path, cols, rows):
    (tmp_path / "full").mkdir()
    (tmp_path / "quiet").mkdir()
    term = Tmux(tmp_path / "full", cols, rows, regions=False)
    try:
        full = follow(term)  # what each line cost before: the log pane repainted
    finally:
        term.close()
    term = Tmux(tmp_path / "quiet", cols, rows)
    try:
        quiet = follow(term)
        assert quiet < full / 3, (quiet, full)
        # The last line in: compare the screen with a full repaint of it (a resize and back).
        term.wait(last_log_row_is(LAST), "the last line")
        scrolled = term.stable()
        term.resize(cols - 10)
        term.wait(lambda t: width(t) == cols - 10, "the narrower log")
        term.resize(cols)
        term.wait(lambda t: width(t) == cols, "the log at full width")
        assert term.stable() == scrolled, "the scrolled rows differ from a full repaint"
    finally:
        term.close()
