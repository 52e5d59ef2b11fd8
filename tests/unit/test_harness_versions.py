"""The harness's supported Airflow versions: one freeze per minor, a bare major means the newest."""

from __future__ import annotations

import re

import pytest

from tests.airflow import harness


def test_a_bare_major_means_its_newest_minor():
    assert harness.resolve_version(3) == harness.resolve_version("3") == "3.3"
    assert harness.resolve_version(2) == "2.11"
    assert harness.resolve_version("3.0") == "3.0"
    assert harness.OLDEST_MINOR == {2: "2.9", 3: "3.0"}
    for bad in ("4", "3.9", "2.8", "latest", ""):
        with pytest.raises(harness.HarnessError, match="unsupported Airflow version"):
            harness.resolve_version(bad)


@pytest.mark.parametrize("minor", list(harness.VERSIONS))
def test_each_version_has_a_freeze_pinning_that_minor(minor):
    lines = harness.freeze_path(minor).read_text().splitlines()
    pins = dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith("#"))
    assert re.fullmatch(re.escape(minor) + r"\.\d+", pins["apache-airflow"])
    assert "psycopg2-binary" in pins  # --db postgres
    if minor.startswith("3."):
        assert "asyncpg" in pins
    if minor not in harness.DEFAULT_MINOR.values():  # the new freezes say how they were made
        assert any(line.startswith("#   V/bin/pip install apache-airflow==") for line in lines)


def test_the_newest_minors_keep_their_freeze_files_and_venv_names(tmp_path, monkeypatch):
    # The cached venvs of airflow3.txt / airflow2.txt stay valid: same file, same directory name.
    monkeypatch.setenv("ASTRO_TUI_AIRFLOW_CACHE", str(tmp_path))
    assert harness.freeze_path(3).name == "airflow3.txt"
    assert harness.freeze_path("2.11").name == "airflow2.txt"
    assert harness.venv_path(3).name.startswith("airflow3-py")
    assert harness.venv_path("3.3") == harness.venv_path(3)
    assert harness.venv_path("3.0").name.startswith("airflow3.0-py")
    assert len({harness.venv_path(v) for v in harness.VERSIONS}) == len(harness.VERSIONS)


def test_the_expected_dags_depend_on_the_version():
    assert "example_hitl" in harness.example_dag_ids("3.1")
    assert "example_hitl" in harness.example_dag_ids(3)
    assert "example_hitl" not in harness.example_dag_ids("3.0")
    assert "example_hitl" not in harness.example_dag_ids(2)
    assert harness.example_dag_ids("3.0") == harness.example_dag_ids("2.9")


def test_cli_takes_a_minor_or_a_major(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_start(version, **kw):
        calls.append(version)
        return harness.AirflowServer(major=3, url="u", port=1, home=str(tmp_path), venv="v",
                                     minor=harness.resolve_version(version))

    monkeypatch.setattr(harness, "start", fake_start)
    state = tmp_path / "s.json"
    assert harness.main(["up", "3.0", "--state", str(state)]) == 0
    assert harness.main(["up", "3", "--state", str(state)]) == 0
    assert calls == ["3.0", 3]
    assert harness.AirflowServer.from_json(state.read_text()).minor == "3.3"
    with pytest.raises(SystemExit):
        harness.main(["up", "3.9", "--state", str(state)])
    assert "unsupported Airflow version '3.9'" in capsys.readouterr().err
