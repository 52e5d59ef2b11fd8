"""The compatibility checks (tests/compat.py) against real servers of other Airflow versions.

The rest of the integration suite runs against the newest minor of each major (3.3 and 2.11,
tests/conftest.py); this runs the compat checks against the OLDEST minor of each major (2.9 and
3.0) by default, so that CI covers the oldest and the newest of both. ASTRO_TUI_COMPAT_VERSIONS
picks others ("2.10 3.1", or "all"); scripts/compat runs them all with a table.

Each version's server starts once (its venv is built once and cached), every check runs against
it, and it stops before the next version starts. One test per version and check.
"""

from __future__ import annotations

import os

import pytest

from tests import compat
from tests.airflow import harness

pytestmark = pytest.mark.integration

ENV = "ASTRO_TUI_COMPAT_VERSIONS"


def versions() -> list[str]:
    raw = os.environ.get(ENV, "").replace(",", " ").split()
    if raw == ["all"]:
        return list(harness.VERSIONS)
    if not raw:
        return [harness.OLDEST_MINOR[2], harness.OLDEST_MINOR[3]]
    return list(dict.fromkeys(harness.resolve_version(v) for v in raw))


@pytest.fixture(scope="module")
def report(request) -> compat.VersionReport:
    return compat.run_version(request.param)


@pytest.mark.parametrize("report", versions(), indirect=True)
@pytest.mark.parametrize("check", compat.CHECKS)
def test_compat(report: compat.VersionReport, check: str) -> None:
    result = next((r for r in report.results if r.name == check), None)
    assert result is not None, f"Airflow {report.version}: check {check} did not run"
    logs = f" (server logs: {report.kept_home})" if report.kept_home else ""
    assert result.ok, f"Airflow {report.exact or report.version} {check}: {result.reason}{logs}"


def test_default_versions_are_the_oldest_minors(monkeypatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert versions() == ["2.9", "3.0"]
    monkeypatch.setenv(ENV, "3.1, 2 3.1")
    assert versions() == ["3.1", "2.11"]
    monkeypatch.setenv(ENV, "all")
    assert versions() == list(harness.VERSIONS)
