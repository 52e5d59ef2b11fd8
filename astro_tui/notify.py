"""Alerts that reach a person who is not looking at the pane (issue 16's building blocks).

No Textual here; the TUI and `astro-tui watch` both use it:

* `Transitions` tells which runs newly ended (or newly failed) from the runs the Watcher sees;
  runs already over when watching began never alert.
* `Limiter` keeps a burst from ringing 50 bells: a few alerts per window, then one summary.
* `desktop_sequence` builds the terminal's desktop notification (OSC 9, and OSC 777 "notify"
  for terminals that use that one), wrapped for tmux's passthrough inside tmux. Every piece of
  server text goes through the sanitizer: a DAG id must never end the sequence early or start
  another one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from astro_tui.airflow.models import DagRun
from astro_tui.present.states import ACTIVE_RUN_STATES
from astro_tui.text import clean

#: what `notify` in a profile (or --notify) may say
MODES = ("off", "failures", "all")


@dataclass(frozen=True)
class Alert:
    title: str
    body: str
    run: DagRun | None = None  # None: a summary of several


class Transitions:
    """Which runs end now. `seed` with what is known when watching starts; then `feed` every
    run the Watcher sees (runs seen again unchanged are ignored)."""

    def __init__(self, mode: str = "failures") -> None:
        if mode not in MODES:
            raise ValueError(f"notify must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self._state: dict[tuple[str, str], str | None] = {}

    def seed(self, runs: Iterable[DagRun]) -> None:
        for run in runs:
            self._state[(run.dag_id, run.run_id)] = run.state

    def feed(self, runs: Iterable[DagRun]) -> list[DagRun]:
        """The runs that ended (mode "all") or failed (mode "failures") since last seen."""
        ended: list[DagRun] = []
        for run in runs:
            key = (run.dag_id, run.run_id)
            before = self._state.get(key, "new")
            self._state[key] = run.state
            if before == run.state or self.mode == "off":
                continue
            over = run.state is not None and run.state not in ACTIVE_RUN_STATES
            if not over:
                continue
            if self.mode == "all" or run.state == "failed":
                ended.append(run)
        return ended


def run_alert(run: DagRun) -> Alert:
    title = f"{run.dag_id}: {run.state or 'ended'}"
    return Alert(clean(title, 120, newline=" "), clean(run.run_id, 200, newline=" "), run)


class Limiter:
    """At most `burst` alerts per `window` seconds; what comes beyond is folded into one
    summary alert ("12 more runs failed") per window."""

    def __init__(self, burst: int = 3, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.window = window
        self._clock = clock
        self._sent: list[float] = []

    def offer(self, alerts: list[Alert]) -> list[Alert]:
        now = self._clock()
        self._sent = [t for t in self._sent if now - t < self.window]
        room = max(0, self.burst - len(self._sent))
        passed = alerts[:room]
        rest = alerts[room:]
        if rest:
            kinds = {a.run.state for a in rest if a.run is not None}
            what = "failed" if kinds == {"failed"} else "ended"
            passed.append(Alert(f"{len(rest)} more run{'s' if len(rest) != 1 else ''} {what}",
                                clean(", ".join(sorted({a.run.dag_id for a in rest
                                                        if a.run is not None})), 200,
                                      newline=" ")))
        self._sent.extend(now for _ in passed)
        return passed


def _field(text: str, max_len: int) -> str:
    """Safe inside an OSC string: no control byte (ESC, BEL, C1 …), no ';' (OSC 777 splits
    its fields on it)."""
    return clean(text, max_len, newline=" ").replace(";", ",")


def tmux_wrap(sequence: str) -> str:
    """tmux passes a sequence to the outer terminal (with `allow-passthrough on`) when it is
    wrapped in a DCS "tmux;" string with every ESC doubled."""
    return "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"


def desktop_sequence(alert: Alert, *, tmux: bool = False) -> str:
    """OSC 9 (iTerm2, kitty, WezTerm, Windows Terminal, …) then OSC 777 notify (foot, urxvt,
    Ghostty, …): terminals ignore the one they do not know."""
    title, body = _field(alert.title, 120), _field(alert.body, 240)
    sequences = [f"\x1b]9;{title}: {body}\x07", f"\x1b]777;notify;{title};{body}\x07"]
    if tmux:
        sequences = [tmux_wrap(s) for s in sequences]
    return "".join(sequences)
