"""scripts/compat's table (tests/compat.py) without a server."""

from __future__ import annotations

from tests import compat


def _report(version: str, exact: str, failed: dict[str, str]) -> compat.VersionReport:
    results = [compat.CheckResult(n, n not in failed, failed.get(n, "")) for n in compat.CHECKS]
    return compat.VersionReport(version, exact, results, seconds=61.4, start_seconds=20.2)


def test_table_rows_are_versions_and_columns_are_checks():
    ok = _report("3.0", "3.0.6", {})
    bad = _report("2.9", "2.9.3", {"log_follow": "ticks [] (0), not 1..8"})
    lines = compat.table([ok, bad]).splitlines()
    assert lines[0].split() == ["version", *compat.CHECKS, "time"]
    assert lines[1].split()[:2] == ["3.0.6", "ok"] and "61 s (start 20 s)" in lines[1]
    cells = lines[2].split()
    assert cells[1 + compat.CHECKS.index("log_follow")] == "FAIL"
    assert lines[3] == "FAIL 2.9.3 log_follow: ticks [] (0), not 1..8"
    assert ok.ok and not bad.ok


def test_a_server_that_did_not_start_is_one_reason_line_not_twelve():
    why = "server did not start: Airflow 3 dag-processor (pid 1) died: exit code 1"
    rep = _report("3.2", "", dict.fromkeys(compat.CHECKS, why))
    lines = compat.table([rep]).splitlines()
    assert lines[2:] == [f"FAIL 3.2 {', '.join(compat.CHECKS)}: {why}"]


def test_server_text_is_sanitized_and_cut_to_one_line():
    text = "boom\x1b[31m red\x1b[0m\n" + "x" * 500
    line = compat.one_line(text)
    assert "\x1b" not in line and "\n" not in line
    assert line.startswith("boom") and len(line) == 160 and line.endswith("…")
