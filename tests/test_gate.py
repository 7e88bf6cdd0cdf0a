"""Each blocking check of the gate, on a real build tampered the way bad data would."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from expectations.gate import load_suites, run_suites, suite_parameters
from tests.conftest import run_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def good_build(tmp_path_factory):
    """A published file from the sample, as of September 2025."""
    return run_demo(tmp_path_factory.mktemp("gate_data"))


def _gate(path, previous_rows=None):
    parameters = suite_parameters(path, "2025-09", previous_rows)
    checks = run_suites(path, load_suites(), parameters)
    return {c.check for c in checks if not c.passed and c.tier == "blocking"}


def _tampered(good_build, tmp_path, *statements):
    path = tmp_path / "candidate.duckdb"
    shutil.copy(good_build, path)
    conn = duckdb.connect(str(path))
    for statement in statements:
        conn.execute(statement)
    conn.close()
    return path


def test_the_untouched_build_passes_every_blocking_check(good_build, tmp_path):
    conn = duckdb.connect(str(good_build), read_only=True)
    rows = conn.execute("select count(*) from fct_indicator_observations").fetchone()[0]
    conn.close()
    assert _gate(_tampered(good_build, tmp_path), {"fct_indicator_observations": rows}) == set()


def test_an_out_of_range_value_is_blocked(good_build, tmp_path):
    path = _tampered(
        good_build,
        tmp_path,
        "update fct_indicator_observations set value = 130 where unit_code = '20.178' "
        "and period = '2025-06'",
    )
    assert _gate(path) == {"percent_value_within_0_100"}


def test_a_broken_reconciliation_is_blocked(good_build, tmp_path):
    path = _tampered(
        good_build,
        tmp_path,
        "update province_indicator_observations set numerator = numerator + 1 "
        "where period = '2025-08' and unit_group = 'commune'",
    )
    assert _gate(path) == {"province_numerators_reconcile"}


def test_a_missing_month_is_blocked(good_build, tmp_path):
    path = _tampered(
        good_build, tmp_path, "delete from fct_indicator_observations where period = '2024-03'"
    )
    assert "every_month_covered" in _gate(path)


def test_a_collapse_in_row_count_is_blocked(good_build, tmp_path):
    path = _tampered(
        good_build, tmp_path, "delete from fct_indicator_observations where period < '2025-01'"
    )
    conn = duckdb.connect(str(good_build), read_only=True)
    before = conn.execute("select count(*) from fct_indicator_observations").fetchone()[0]
    conn.close()
    failed = _gate(path, {"fct_indicator_observations": before})
    assert "row_count_within_band_of_last_publication" in failed


def test_the_quality_report_shows_the_row_count_trend():
    from expectations.gate import GateResult

    history = [
        {"run_id": "20250801T000000Z_2025-07", "as_of_period": "2025-07", "row_counts": {"a": 100}},
        {"run_id": "20250901T000000Z_2025-08", "as_of_period": "2025-08", "row_counts": {"a": 200}},
    ]
    gate = GateResult("r", "2025-09", row_counts={"a": 150, "b": 3}, history=history)
    report = gate.report()
    assert "| a | 100 | 200 | 150 | -25.0 % |" in report
    assert "| b |  |  | 3 | new |" in report
