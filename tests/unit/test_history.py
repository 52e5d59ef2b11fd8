"""The conf history store: last 10 per profile and DAG, 0600, tolerant of a damaged file."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone

from astro_tui.history import MAX_PER_DAG, ConfHistory, data_dir

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_data_dir_override_and_default():
    assert str(data_dir({"ASTRO_TUI_DATA_DIR": "/x/y"})) == "/x/y"
    assert data_dir({}).name == "astro-tui"


def test_keeps_the_last_ten_distinct_newest_first_per_profile_and_dag(tmp_path):
    path = tmp_path / "d" / "conf_history.json"
    prod, dev = ConfHistory("prod", path), ConfHistory("dev", path)
    for i in range(12):
        prod.add("etl", {"n": i}, T0 + timedelta(minutes=i))
    prod.add("etl", {"n": 5}, T0 + timedelta(hours=1))  # used again: moves to the front
    dev.add("etl", {"n": "dev"}, T0)
    recent = prod.recent("etl")
    assert len(recent) == MAX_PER_DAG
    assert [e.conf["n"] for e in recent] == [5, 11, 10, 9, 8, 7, 6, 4, 3, 2]
    assert recent[0].at == (T0 + timedelta(hours=1)).isoformat()
    assert [e.conf for e in dev.recent("etl")] == [{"n": "dev"}]
    assert prod.recent("other") == []
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert not list(path.parent.glob("*.tmp"))


def test_a_damaged_file_is_an_empty_history_and_gets_replaced(tmp_path):
    path = tmp_path / "conf_history.json"
    path.write_text("{not json")
    h = ConfHistory("p", path)
    assert h.recent("d") == []
    path.write_text('{"profiles": {"p": {"d": [1, {"conf": "x"}, {"conf": {"ok": 1}}]}}}')
    assert [e.conf for e in h.recent("d")] == [{"ok": 1}]
    path.write_text("[]")
    h.add("d", {"a": 1}, T0)
    assert [e.conf for e in h.recent("d")] == [{"a": 1}]


def test_existing_file_with_loose_mode_is_tightened(tmp_path):
    path = tmp_path / "conf_history.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    ConfHistory("p", path).add("d", {"secret": "s"}, T0)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
