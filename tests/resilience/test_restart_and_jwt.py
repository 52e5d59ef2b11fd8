"""A real Airflow 3 whose JWTs live 5 seconds, and whose api-server is restarted mid-session."""

from __future__ import annotations

import time

import httpx
import pytest

from astro_tui.config import Profile
from astro_tui.session import open_client
from astro_tui.tui.app import AstroTuiApp, Settings
from tests.airflow import harness
from tests.resilience.test_faults import status, wait_for

pytestmark = pytest.mark.integration

JWT_SECONDS = 5
SETTINGS = Settings(dags_seconds=2, runs_seconds=0.5, tasks_seconds=0.5, log_seconds=0.5)


@pytest.fixture(scope="module")
def short_jwt_server():
    server = harness.start(
        3, include_test_dags=False,
        extra_env={"AIRFLOW__API_AUTH__JWT_EXPIRATION_TIME": str(JWT_SECONDS)},
    )
    yield server
    server.stop()


@pytest.fixture
def app(short_jwt_server, monkeypatch):
    monkeypatch.setenv("ASTRO_TUI_TEST_PASSWORD", short_jwt_server.password)
    profile = Profile(name="jwt", url=short_jwt_server.url, auth="password",
                      username=short_jwt_server.username, secret="env:ASTRO_TUI_TEST_PASSWORD")
    return AstroTuiApp(lambda: open_client(profile), profile_name="jwt", settings=SETTINGS)


async def test_app_keeps_working_across_several_jwt_expiries(app):
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await wait_for(pilot, lambda: main.dag_table.row_count > 0, 60, "the DAG list")
        main.goto_dag("example_params")
        auth = main.watcher.client._http.auth
        logins_before = auth.logins
        polls_before = main.watcher.state("runs").generation, main.watcher.state("runs").last_ok
        bad: list[str] = []
        end = time.monotonic() + 4 * JWT_SECONDS
        while time.monotonic() < end:
            text = status(app)
            if "● ok" not in text:
                bad.append(text)
            failing = [k for k, p in main.watcher.states().items() if p.failures]
            if failing:
                bad.append(f"failing polls: {failing}")
            await pilot.pause(0.1)
        assert not bad, bad[:5]
        assert auth.logins - logins_before >= 3  # re-logged in silently, several times
        assert main.watcher.state("runs").last_ok != polls_before[1]  # and kept polling meanwhile


async def test_app_recovers_by_itself_after_an_api_server_restart(app, short_jwt_server):
    async with app.run_test(size=(120, 40)) as pilot:
        main = app.main
        await wait_for(pilot, lambda: main.dag_table.row_count > 0, 60, "the DAG list")
        rows = main.dag_table.row_count
        short_jwt_server.stop_process("api-server")
        await wait_for(pilot, lambda: "Unreachable" in status(app), 20, "down: Unreachable")
        assert main.dag_table.row_count == rows
        short_jwt_server.start_process("api-server", ["api-server"])
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # wait until the server itself answers again
            try:
                if httpx.get(f"{short_jwt_server.api}/version", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await pilot.pause(0.2)
        recovery = await wait_for(pilot, lambda: "● ok" in status(app)
                                  and not main.panes["dags"].has_class("stale"), 30, "recovery")
        assert recovery <= SETTINGS.runs_seconds + 3, f"recovered {recovery:.1f} s after the server"
