"""The alerts' building blocks (astro_tui/notify.py): the notify modes, the rate limit, and
the terminal's desktop-notification sequences (sanitized, tmux-wrapped)."""

from __future__ import annotations

import re

import pytest

from astro_tui.airflow.models import DagRun
from astro_tui.notify import (
    Alert,
    Limiter,
    check_mode,
    desktop_sequence,
    run_alert,
    summary,
    tmux_wrap,
    wanted,
)


def run(dag: str, run_id: str, state: str | None) -> DagRun:
    return DagRun.from_json({"dag_id": dag, "dag_run_id": run_id, "state": state})


def test_the_notify_modes():
    failed, ok = run("a", "r", "failed"), run("a", "s", "success")
    assert wanted(failed, "failures") and not wanted(ok, "failures")
    assert wanted(failed, "all") and wanted(ok, "all")
    assert not wanted(failed, "off") and not wanted(ok, "off")
    assert check_mode("all") == "all"
    with pytest.raises(ValueError, match="failures"):
        check_mode("loud")


def test_an_alert_as_the_hook_reads_it():
    alert = run_alert(run("etl", "manual__1", "failed"), watched="run")
    assert alert.to_json("prod") == {
        "event": "ended", "profile": "prod", "title": "etl: failed", "body": "manual__1",
        "dag_id": "etl", "run_id": "manual__1", "task": None, "state": "failed",
        "watched": "run", "count": 1}
    folded = summary([alert, alert]).to_json()
    assert (folded["event"], folded["count"], folded["title"]) == ("summary", 2, "2 runs failed")


def test_fifty_failures_at_once_are_one_summary_and_a_full_window_waits():
    now = [0.0]
    limiter = Limiter(burst=3, window=60.0, clock=lambda: now[0])
    alerts = [run_alert(run(f"dag_{n:02}", "r", "failed")) for n in range(50)]
    out = limiter.offer(alerts)
    assert [a.title for a in out] == ["50 runs failed"]
    assert out[0].count == 50 and out[0].body.startswith("dag_00, dag_01")
    assert len(out[0].body) <= 200  # bounded
    # a few at once pass one by one, while the window has room
    assert [a.title for a in limiter.offer([run_alert(run("x", "r", "failed")),
                                            run_alert(run("y", "r", "success"))])] == [
        "x: failed", "y: success"]
    # the window is full (3 sent): what comes waits, then leaves as one summary
    assert limiter.offer([run_alert(run("z", "r", "failed"))]) == []
    assert limiter.offer([run_alert(run("w", "r", "success"))]) == []
    assert limiter.wait() == 60.0 and limiter.flush() == []
    now[0] = 61.0
    assert limiter.wait() == 0.0
    late = limiter.flush()
    assert [(a.title, a.body) for a in late] == [("2 runs ended", "w, z")]
    assert limiter.pending == [] and limiter.flush() == []


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
