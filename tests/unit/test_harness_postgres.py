"""The harness's databases: the PostgreSQL option (a throwaway Debian PostgreSQL 15 cluster) and
SQLite's WAL mode (no Airflow here)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from tests.airflow import harness
from tests.airflow.procs import ProcId, is_alive, tracked

REQ = Path(harness.__file__).parent / "requirements"


def test_a_cluster_starts_as_postgres_on_127_0_0_1_and_is_gone_after_stop(tmp_path):
    s = harness.AirflowServer(major=3, url="u", port=1, home=str(tmp_path), venv="v",
                              db="postgres")
    harness._start_postgres(s)
    pg = ProcId(s.pg["pid"], s.pg["start"])
    try:
        assert is_alive(pg) and pg in tracked()
        if os.geteuid() == 0:  # PostgreSQL refuses root: it runs as the `postgres` user
            assert Path(f"/proc/{pg.pid}").stat().st_uid == Path(s.pg["dir"]).stat().st_uid != 0
        out = subprocess.run(
            [str(harness.pg_bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(s.pg["port"]),
             "-U", harness.PG_USER, "-d", harness.PG_DB, "-Atc", "select current_user"],
            env={**os.environ, "PGPASSWORD": s.pg["password"]}, capture_output=True,
            text=True, timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == harness.PG_USER
        # A wrong password is refused: the TCP login is a real one.
        bad = subprocess.run(
            [str(harness.pg_bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(s.pg["port"]),
             "-U", harness.PG_USER, "-d", harness.PG_DB, "-Atc", "select 1"],
            env={**os.environ, "PGPASSWORD": "wrong"}, capture_output=True, timeout=60,
        )
        assert bad.returncode != 0
    finally:
        harness._stop_postgres(s)
    assert not is_alive(pg)
    assert not Path(s.pg["dir"]).exists()
    assert pg not in tracked()


def test_airflow_is_pointed_at_the_cluster(tmp_path):
    s = harness.AirflowServer(major=3, url="u", port=1, home=str(tmp_path), venv="v",
                              db="postgres", pg={"port": 5999, "password": "pw"})
    (tmp_path / ".secret").write_text("x")
    (tmp_path / ".extra_env.json").write_text("{}")
    assert s.env()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg2://airflow:pw@127.0.0.1:5999/airflow")
    s.db, s.pg = "sqlite", {}
    assert s.env()["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path}/airflow.db"


def test_the_venvs_pin_the_postgres_drivers():
    # psycopg2 for the metadata DB; Airflow 3 derives its async engine from the same URL
    # (postgresql+asyncpg), so it needs asyncpg too.
    a3 = (REQ / "airflow3.txt").read_text().splitlines()
    a2 = (REQ / "airflow2.txt").read_text().splitlines()
    assert any(line.startswith("psycopg2-binary==") for line in a3)
    assert any(line.startswith("asyncpg==") for line in a3)
    assert any(line.startswith("psycopg2-binary==") for line in a2)


def test_cli_up_passes_the_db(tmp_path, monkeypatch):
    calls = []

    def fake_start(major, **kw):
        calls.append(kw["db"])
        return harness.AirflowServer(major=major, url="u", port=1, home=str(tmp_path),
                                     venv="v", db=kw["db"])

    monkeypatch.setattr(harness, "start", fake_start)
    state = tmp_path / "state.json"
    assert harness.main(["up", "3", "--db", "postgres", "--state", str(state)]) == 0
    assert calls == ["postgres"]
    assert harness.AirflowServer.from_json(state.read_text()).db == "postgres"


def test_an_unknown_db_is_refused():
    import pytest

    with pytest.raises(harness.HarnessError, match="unsupported database"):
        harness.start(3, db="mysql")


def test_the_sqlite_file_is_put_in_wal_mode_and_stays_there(tmp_path):
    """The harness's SQLite servers run in WAL mode (readers never block the writer): set once
    in the file after `db migrate`, so every server process and connection gets it."""
    db = tmp_path / "airflow.db"
    sqlite3.connect(db).close()
    harness._use_wal(db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
