"""Shared pytest fixtures: real Airflow 3 and Airflow 2 servers for the integration tests.

Both servers start together, in background threads, the first time any test asks for one; a run
of unit tests alone never starts them. A server that cannot start fails the tests that need it
(never a skip). When a test that used a server fails, the server logs are attached to its report.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from tests.airflow import harness

# -- waiting for state (never for a fixed time) ---------------------------------------------------


async def wait_for(pilot: Any, cond: Callable[[], object], timeout: float = 5.0,
                   what: str = "condition") -> float:
    """Let a Textual app run until `cond()` holds; the seconds it took. Fails after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if cond():
            return time.monotonic() - start
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


async def until(cond: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """The same under plain asyncio: wait until `cond()` is truthy and return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.005)


def status(app: Any) -> str:
    """The status line's text as shown."""
    return app.main.status.text


# Snapshots change under NO_COLOR (textual-notes (a) pitfall 2).
os.environ.pop("NO_COLOR", None)

_SERVERS: dict[int, Future] = {}
_LOCK = threading.Lock()


def _launch_all() -> None:
    with _LOCK:
        if _SERVERS:
            return
        for major in (3, 2):
            fut: Future = Future()
            _SERVERS[major] = fut

            def run(major: int = major, fut: Future = fut) -> None:
                try:
                    fut.set_result(harness.start(major))
                except BaseException as e:  # noqa: BLE001 - reported by the fixture
                    fut.set_exception(e)

            threading.Thread(target=run, name=f"airflow{major}-start", daemon=True).start()


def _server(major: int) -> harness.AirflowServer:
    _launch_all()
    try:
        return _SERVERS[major].result(timeout=900)
    except Exception as e:
        pytest.fail(f"real Airflow {major} could not be started: {e}", pytrace=False)


@pytest.fixture(scope="session")
def airflow3() -> harness.AirflowServer:
    """A running Airflow 3 (API v2, SimpleAuthManager admin/admin, JWT)."""
    return _server(3)


@pytest.fixture(scope="session")
def airflow2() -> harness.AirflowServer:
    """A running Airflow 2 (API v1, basic auth admin/admin)."""
    return _server(2)


@pytest.fixture(scope="session", params=["airflow3", "airflow2"])
def server(request) -> harness.AirflowServer:
    """Each real server in turn: tests using it run against Airflow 3 and Airflow 2."""
    return request.getfixturevalue(request.param)


def pytest_sessionfinish(session, exitstatus) -> None:
    for major, fut in list(_SERVERS.items()):
        try:
            srv = fut.result(timeout=900)
        except BaseException:  # noqa: BLE001 - start failed; it cleaned up after itself
            continue
        srv.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.when in ("setup", "call"):
        funcargs = getattr(item, "funcargs", {})
        for value in funcargs.values():
            if isinstance(value, harness.AirflowServer):
                rep.sections.append(
                    (f"Airflow {value.version or value.major} server logs", value.log_tail(60))
                )


def pytest_terminal_summary(terminalreporter) -> None:
    used = []
    for major, fut in sorted(_SERVERS.items(), reverse=True):
        if fut.done() and fut.exception() is None:
            srv = fut.result()
            used.append(f"Airflow {srv.version} at {srv.url}")
        elif fut.done():
            used.append(f"Airflow {major}: FAILED TO START")
    if used:
        terminalreporter.write_sep("=", "real Airflow servers used")
        for line in used:
            terminalreporter.write_line(line)
