"""The bench's phase limits and its table when a phase failed (no Airflow, no apps)."""

from __future__ import annotations

import argparse

import pytest

bench = pytest.importorskip("bench.__main__")


def _args(**kw) -> argparse.Namespace:
    base = dict(phase_limit=None, reps=3, warmup=10.0, window=60.0, soak=0.0)
    return argparse.Namespace(**{**base, **kw})


def test_every_phase_has_a_finite_limit_that_grows_with_the_work():
    small = bench.phase_limits(_args(), ["ours"])
    big = bench.phase_limits(_args(reps=5, window=120.0), ["ours", "flowrs"])
    assert set(small) == {"P1", "P2-P4,P6", "P5", "P7"}
    assert all(0 < v < 4 * 3600 for v in small.values())
    assert big["P1"] > small["P1"] and big["P2-P4,P6"] > small["P2-P4,P6"]
    assert set(bench.phase_limits(_args(phase_limit=5.0), ["ours"]).values()) == {5.0}
    # the soak run in the bench (--soak MIN): its phase may take those minutes, and more
    assert bench.phase_limits(_args(soak=60.0), ["ours"])["P7"] > 3600 > small["P7"]


def test_the_table_prints_when_phases_failed():
    r = {"dags": 9, "p1": None, "windows": None, "p5": None, "p7": None}
    text = bench.table(r)
    assert "P1 launch → first DAG rows" in text and "—" in text

