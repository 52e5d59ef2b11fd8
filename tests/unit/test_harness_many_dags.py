"""The harness's many-DAGs option (for benchmarks), checked without starting Airflow."""

from __future__ import annotations

import ast
import json

import pytest

from tests.airflow import harness


def _server(tmp_path, major: int = 3, many_dags: int = 0) -> harness.AirflowServer:
    return harness.AirflowServer(
        major=major, url="http://127.0.0.1:8793", port=8793, home=str(tmp_path / "home"),
        venv="/nonexistent/venv", many_dags=many_dags,
    )


def test_cli_up_passes_many_dags_and_writes_it_to_the_state(tmp_path, monkeypatch):
    calls = []

    def fake_start(major, **kw):
        calls.append((major, kw))
        return _server(tmp_path, major, kw["many_dags"])

    monkeypatch.setattr(harness, "start", fake_start)
    state = tmp_path / "state.json"
    assert harness.main(["up", "2", "--many-dags", "1000", "--state", str(state)]) == 0
    assert calls == [(2, {"include_test_dags": True, "many_dags": 1000, "db": "sqlite"})]
    assert harness.AirflowServer.from_json(state.read_text()).many_dags == 1000

    calls.clear()
    assert harness.main(["up", "3", "--demo", "--state", str(state)]) == 0
    assert calls == [(3, {"include_test_dags": False, "many_dags": 0, "db": "sqlite"})]


def test_server_json_round_trip_keeps_many_dags(tmp_path):
    s = _server(tmp_path, many_dags=1000)
    s.procs.append({"name": "api-server", "pid": 1, "start": 2, "log": "x.log", "args": []})
    back = harness.AirflowServer.from_json(s.to_json())
    assert back == s
    assert back.many_dags == 1000


def test_state_written_before_the_option_still_loads(tmp_path):
    old = json.loads(_server(tmp_path).to_json())
    del old["many_dags"]
    assert harness.AirflowServer.from_json(json.dumps(old)).many_dags == 0


@pytest.mark.parametrize("major", [2, 3])
def test_env_and_dags_folder_change_only_with_the_option(tmp_path, major):
    plain = _server(tmp_path / "a", major)
    many = _server(tmp_path / "b", major, many_dags=1000)
    for s in (plain, many):
        harness._prepare_home(s, [], {})
    assert not list((tmp_path / "a" / "home" / "dags").iterdir())
    assert [p.name for p in (tmp_path / "b" / "home" / "dags").iterdir()] == [
        harness.MANY_DAGS_FILE.name
    ]
    # Same home, option off vs on: the environment differs by exactly the many-DAGs settings.
    env_plain = _server(tmp_path / "b", major).env()
    env_many = many.env()
    assert harness.MANY_DAGS_ENV not in env_plain
    assert env_many[harness.MANY_DAGS_ENV] == "1000"
    changed = {k for k in env_many if env_many[k] != env_plain.get(k)}
    assert changed == set(harness._many_dags_env(major, 1000))
    assert int(env_many["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"]) >= 300


def test_extra_env_still_wins_over_many_dags_settings(tmp_path):
    s = _server(tmp_path, many_dags=5)
    harness._prepare_home(s, [], {harness.MANY_DAGS_ENV: "3"})
    assert s.env()[harness.MANY_DAGS_ENV] == "3"


def test_generator_file_passes_safe_mode_and_names_match():
    text = harness.MANY_DAGS_FILE.read_text()
    assert "airflow" in text.lower() and "dag" in text.lower()  # safe-mode discovery
    ast.parse(text)
    assert harness.MANY_DAGS_ENV in text
    assert 'f"gen_{i:04d}"' in text
    assert harness.many_dag_ids(3) == {"gen_0000", "gen_0001", "gen_0002"}
    assert harness.many_dag_ids(0) == set()


def test_negative_many_dags_is_refused():
    with pytest.raises(harness.HarnessError):
        harness.start(3, many_dags=-1)
