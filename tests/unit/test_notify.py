"""The alerts' building blocks (astro_tui/notify.py): which runs newly end, the rate limit, and
the terminal's desktop-notification sequences (sanitized, tmux-wrapped)."""

from __future__ import annotations

import re

import pytest

from astro_tui.airflow.models import DagRun
from astro_tui.notify import Alert, Limiter, Transitions, desktop_sequence, run_alert, tmux_wrap


def run(dag: str, run_id: str, state: str | None) -> DagRun:
    return DagRun.from_json({"dag_id": dag, "dag_run_id": run_id, "state": state})


def test_only_runs_that_fail_after_watching_began_alert():
    t = Transitions("failures")
    t.seed([run("a", "old", "failed"), run("b", "r1", "running")])
    assert t.feed([run("a", "old", "failed")]) == []  # failed before: never alerts
    assert t.feed([run("b", "r1", "running")]) == []
    failed = t.feed([run("b", "r1", "failed"), run("c", "r2", "success")])
    assert [(r.dag_id, r.state) for r in failed] == [("b", "failed")]
    assert t.feed([run("b", "r1", "failed")]) == []  # seen again: once only
    assert [r.run_id for r in t.feed([run("d", "new", "failed")])] == ["new"]


def test_mode_all_alerts_every_end_and_off_none():
    everything = Transitions("all")
    everything.seed([run("a", "r", "running")])
    assert [r.state for r in everything.feed([run("a", "r", "success")])] == ["success"]
    quiet = Transitions("off")
    quiet.seed([run("a", "r", "running")])
    assert quiet.feed([run("a", "r", "failed")]) == []
    with pytest.raises(ValueError, match="failures"):
        Transitions("loud")


def test_fifty_failures_at_once_are_three_alerts_and_one_summary():
    now = [0.0]
    limiter = Limiter(burst=3, window=60.0, clock=lambda: now[0])
    alerts = [run_alert(run(f"dag_{n:02}", "r", "failed")) for n in range(50)]
    out = limiter.offer(alerts)
    assert len(out) == 4
    assert [a.title for a in out[:3]] == ["dag_00: failed", "dag_01: failed", "dag_02: failed"]
    assert out[3].title == "47 more runs failed"
    assert out[3].body.startswith("dag_03, dag_04") and len(out[3].body) <= 200  # bounded
    assert [a.title for a in limiter.offer([run_alert(run("x", "r", "failed"))])] == [
        "1 more run failed"]  # the window is still full
    now[0] = 61.0
    assert [a.title for a in limiter.offer([run_alert(run("x", "r", "failed"))])] == [
        "x: failed"]


def test_a_hostile_dag_id_cannot_escape_the_notification():
    hostile = "evil\x1b]0;pwned\x07;\x9b2J\x1b[31m"
    seq = desktop_sequence(Alert(f"{hostile}: failed", "run;id\x07"))
    # exactly two OSC strings, each ended by its own BEL
    assert seq.count("\x07") == 2 and seq.count("\x1b") == 2
    assert re.fullmatch(r"\x1b\]9;[^\x07\x1b]*\x07\x1b\]777;notify;[^;\x07\x1b]*;[^;\x07\x1b]*\x07",
                        seq), repr(seq)
    assert "pwned" not in seq and "\x9b" not in seq


def test_inside_tmux_the_sequences_pass_through():
    seq = desktop_sequence(Alert("etl: failed", "manual__1"), tmux=True)
    assert seq.startswith("\x1bPtmux;\x1b\x1b]9;etl: failed: manual__1\x07\x1b\\")
    assert seq.count("\x1bPtmux;") == 2
    assert tmux_wrap("\x1b]9;x\x07") == "\x1bPtmux;\x1b\x1b]9;x\x07\x1b\\"
