"""The first paint before Textual (astro_tui/prepaint.py): the saved DAG list's rows, sanitized,
sized to the terminal, marked with their age; nothing without a usable saved list; and the
command line paints only when it opens the TUI."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from astro_tui import cli, prepaint as prepaint_module
from astro_tui.airflow.models import Dag, DagRun
from astro_tui.prepaint import ENTER, LEAVE, prepaint, screen_text
from astro_tui.watch.saved import DagListStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
HOSTILE = "evil\x1b]0;pwned\x07\x1b[2J\x9b31m[bold]x"


def saved_doc(profile: str = "prod", n: int = 50) -> dict:
    ids = [f"dag_{i:03}" for i in range(n)] + [HOSTILE]
    return {"version": 1, "profile": profile, "saved_at": "2026-12-01T09:00:00Z",
            "dags": [{"dag_id": i} for i in ids],
            "latest": [{"dag_id": "dag_000", "dag_run_id": "r", "state": "failed"}],
            "recent": []}


def test_the_rows_are_sorted_sized_aged_and_sanitized():
    text = screen_text("prod", saved_doc(), 80, 24, NOW)
    assert text is not None
    lines = text.split("\r\n")
    assert len(lines) <= 23 and all(len(line) <= 79 for line in lines)
    assert "DAG list saved 3h ago" in lines[0] and "DAGs (51)" in lines[2]
    assert re.match(r" dag_000 +failed", lines[4]) and re.match(r" dag_001 +—", lines[5])
    whole = screen_text("prod", saved_doc(n=3), 120, 40, NOW)
    assert whole is not None and "evil" in whole
    assert not any(c in whole for c in "\x1b\x07\x9b") and "pwned" not in whole


@pytest.mark.parametrize("doc", [None, [], {"version": 2}, saved_doc("staging"),
                                 {**saved_doc(), "dags": []}, {**saved_doc(), "saved_at": "x"},
                                 {**saved_doc(), "latest": 3}])
def test_no_usable_list_no_paint(doc):
    assert screen_text("prod", doc, 120, 40, NOW) is None


def test_prepaint_writes_the_saved_list_and_gives_the_terminal_back(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTRO_TUI_STATE_DIR", str(tmp_path))
    written: list[str] = []
    assert prepaint("prod", written.append, (120, 40))() is None and written == []  # no file
    run = DagRun.from_json({"dag_id": "etl", "dag_run_id": "r", "state": "success"})
    DagListStore("prod").save(NOW - timedelta(minutes=5), {"etl": Dag.from_json(
        {"dag_id": "etl"})}, {"etl": run}, {"etl": [run]})
    undo = prepaint("prod", written.append, (120, 40))
    assert written[0].startswith(ENTER) and "DAG list saved" in written[0]
    assert re.search(r" etl +success", written[0])
    undo()
    assert written[-1] == LEAVE


def test_the_command_line_paints_only_when_it_opens_the_tui(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTRO_TUI_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("AIRFLOW_API_URL", "http://127.0.0.1:9")
    for var in ("ASTRO_AIRFLOW_URL", "ASTRO_API_TOKEN", "AIRFLOW_AUTH_TOKEN", "AIRFLOW_USERNAME",
                "AIRFLOW_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    painted: list[str] = []
    undone: list[str] = []

    def fake_prepaint(profile: str):
        painted.append(profile)
        return lambda: undone.append(profile)

    monkeypatch.setattr(prepaint_module, "prepaint", fake_prepaint)
    assert cli._early_paint(["dags"])() is None and painted == []  # a command
    assert cli._early_paint(["--version"])() is None and painted == []
    cli._early_paint(["--read-only"])
    assert painted == ["env"]
    # a TUI start that fails (a bad --notify) gives the terminal back
    assert cli.main(["--notify", "loud"]) == 2 and undone == ["env"]


def test_an_unknown_last_run_is_painted_as_unknown_not_as_never_ran():
    doc = {**saved_doc(n=3), "unknown": {"dag_001": None, "dag_002": "running"}}
    text = screen_text("prod", doc, 80, 24, NOW)
    assert text is not None
    lines = text.split("\r\n")
    assert re.match(r" dag_001 +…", lines[5]) and re.match(r" dag_002 +running", lines[6])
