"""The saved session (astro_tui/state.py): round trip, mode 0600 written atomically, and a
corrupt, foreign or older file ignored with one line, never a crash."""

from __future__ import annotations

import json
import os
import stat

import pytest

from astro_tui.state import SessionState, SessionStore, profile_file
from astro_tui.watch.alerts import Watch

STATE = SessionState("main", "etl", "manual__1", "load[2]", 3, "log", {"dags": "etl"},
                     (Watch("dag", "etl"), Watch("task", "etl", "manual__1", "load[2]")))


@pytest.fixture(autouse=True)
def state_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ASTRO_TUI_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def test_a_session_round_trips_in_a_private_file(state_dir):
    store = SessionStore("prod")
    assert store.load() is None and store.problem is None  # nothing saved yet: no problem
    store.save(STATE)
    assert SessionStore("prod").load() == STATE
    mode = stat.S_IMODE(os.stat(store.path).st_mode)
    assert mode == 0o600 and stat.S_IMODE(os.stat(store.path.parent).st_mode) == 0o700
    assert store.path.parent.parent == state_dir
    assert os.listdir(store.path.parent) == [store.path.name]  # no temp file left behind
    store.save(SessionState())  # replaced whole
    assert SessionStore("prod").load() == SessionState()


def test_profiles_have_their_own_files_whatever_their_names():
    names = ["prod", "prod/../x", "pröd", "a b", "a_b"]
    paths = {profile_file(n, "sessions") for n in names}
    assert len(paths) == len(names)
    assert all(p.parent.name == "sessions" and "/" not in p.name for p in paths)


@pytest.mark.parametrize("text, why", [
    ("{not json", "ignored"),
    ("[]", "not a session"),
    (json.dumps({"version": 99, "profile": "prod"}), "version 99"),
    (json.dumps({**STATE.to_json("staging")}), "another profile"),
    (json.dumps({**STATE.to_json("prod"), "try_number": "3"}), "bad try_number"),
    (json.dumps({**STATE.to_json("prod"), "pane": "nowhere"}), "bad screen or pane"),
    (json.dumps({**STATE.to_json("prod"), "filters": {"dags": 3}}), "bad filters"),
    (json.dumps({**STATE.to_json("prod"), "watches": [{"kind": "run", "dag_id": "x"}]}),
     "not a watch"),
    (json.dumps({**STATE.to_json("prod"), "dag_id": ["x"]}), "bad dag_id"),
    ("\x00\xff", "ignored"),
])
def test_a_bad_file_is_ignored_with_one_line(text, why):
    store = SessionStore("prod")
    store.path.parent.mkdir(parents=True)
    store.path.write_text(text)
    assert store.load() is None
    assert store.problem is not None and why in store.problem and "\n" not in store.problem
    assert store.problem.endswith("starting clean")


def test_no_secret_in_the_file(monkeypatch):
    monkeypatch.setenv("ASTRO_API_TOKEN", "sekrit-token-value")
    store = SessionStore("prod")
    store.save(STATE)
    assert "sekrit" not in store.path.read_text()
    assert set(json.loads(store.path.read_text())) == {
        "version", "profile", "screen", "dag_id", "run_id", "task", "try_number", "pane",
        "filters", "watches"}
