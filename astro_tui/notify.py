"""Alerts that reach a person who is not looking at the pane: what one says and how it is sent.

No Textual here; the TUI and `astro-tui watch` both use it (through watch/alerts.py):

* `wanted` says whether an ended run (the Watcher's `RunEnded`) alerts in a `notify` mode;
  runs already over when watching began never end there.
* `Limiter` keeps a burst from ringing 50 bells: a few alerts per window, then one summary.
* `desktop_sequence` builds the terminal's desktop notification (OSC 9, and OSC 777 "notify"
  for terminals that use that one), wrapped for tmux's passthrough inside tmux. Every piece of
  server text goes through the sanitizer: a DAG id must never end the sequence early or start
  another one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from astro_tui.airflow.models import DagRun
from astro_tui.config import NOTIFY_MODES
from astro_tui.text import clean

#: what `notify` in a profile (or --notify) may say
MODES = NOTIFY_MODES


@dataclass(frozen=True)
class Alert:
    title: str
    body: str
    run: DagRun | None = None  # None: a summary of several
    task: str | None = None  # a watched task's label ("load[3]")
    state: str | None = None  # the run's or the task's final state
    watched: str | None = None  # "dag", "run" or "task": what the person asked to watch
    count: int = 1  # runs a summary stands for

    def to_json(self, profile: str | None = None) -> dict[str, object]:
        """The event a `notify_command` reads on stdin (one JSON object)."""
        run = self.run
        return {"event": "summary" if run is None else "ended", "profile": profile,
                "title": self.title, "body": self.body,
                "dag_id": run.dag_id if run else None, "run_id": run.run_id if run else None,
                "task": self.task, "state": self.state, "watched": self.watched,
                "count": self.count}


def wanted(run: DagRun, mode: str) -> bool:
    """Whether an ended run alerts in a `notify` mode."""
    return mode == "all" or (mode == "failures" and run.state == "failed")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"notify must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def run_alert(run: DagRun, watched: str | None = None) -> Alert:
    title = f"{run.dag_id}: {run.state or 'ended'}"
    return Alert(clean(title, 120, newline=" "), clean(run.run_id, 200, newline=" "), run,
                 state=run.state, watched=watched)


class Limiter:
    """A burst never rings many bells. Alerts that arrive together pass one by one when they
    are few (at most `burst` per `window` seconds); more than that are folded into one summary
    ("50 runs failed"). Once the window's room is used, what comes waits (`pending`) and leaves
    as one summary when the window ends (`flush`)."""

    def __init__(self, burst: int = 3, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.burst = burst
        self.window = window
        self._clock = clock
        self._sent: list[float] = []
        self.pending: list[Alert] = []

    def offer(self, alerts: list[Alert]) -> list[Alert]:
        """What to send now (the rest waits in `pending`)."""
        now = self._clock()
        self._sent = [t for t in self._sent if now - t < self.window]
        waiting = self.pending + alerts
        if not waiting:
            return []
        room = self.burst - len(self._sent)
        if room <= 0:
            self.pending = waiting
            return []
        held, self.pending = self.pending, []
        few = len(waiting) <= room and not (held and len(waiting) > 1)
        passed = waiting if few else [summary(waiting)]
        self._sent.extend(now for _ in passed)
        return passed

    def flush(self) -> list[Alert]:
        """Pending alerts, once the window has room again (else nothing)."""
        return self.offer([])

    def wait(self) -> float:
        """Seconds until the window has room (0: it has)."""
        if len(self._sent) < self.burst or not self._sent:
            return 0.0
        return max(0.0, self._sent[0] + self.window - self._clock())


def summary(alerts: list[Alert]) -> Alert:
    """One alert for many: "50 runs failed", with the DAG ids."""
    count = sum(a.count for a in alerts)
    states = {a.state for a in alerts}
    what = "failed" if states == {"failed"} else "ended"
    dags = sorted({a.run.dag_id for a in alerts if a.run is not None})
    return Alert(f"{count} run{'s' if count != 1 else ''} {what}",
                 clean(", ".join(dags), 200, newline=" "), count=count,
                 state="failed" if what == "failed" else None)


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
