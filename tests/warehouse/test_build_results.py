"""Reading dbt's run results: every failure kind reaches the gate, none is dropped."""

from __future__ import annotations

import json

import pytest

from expectations.results import dbt_checks
from warehouse.build import BuildError, read_results


def _write(target, results, nodes=None, unit_tests=None):
    target.mkdir(exist_ok=True)
    (target / "run_results.json").write_text(json.dumps({"results": results}))
    manifest = {"nodes": nodes or {}, "unit_tests": unit_tests or {}}
    (target / "manifest.json").write_text(json.dumps(manifest))


def test_failed_unit_tests_and_skipped_models_are_reported(tmp_path):
    _write(
        tmp_path,
        [
            {"unique_id": "model.chiso.a", "status": "success"},
            {"unique_id": "unit_test.chiso.b.checks_status", "status": "fail", "failures": 1},
            {"unique_id": "model.chiso.b", "status": "skipped"},
            {"unique_id": "test.chiso.warn_only", "status": "warn", "failures": 3},
        ],
        nodes={
            "model.chiso.a": {"resource_type": "model", "name": "a"},
            "model.chiso.b": {"resource_type": "model", "name": "b"},
            "test.chiso.warn_only": {
                "resource_type": "test",
                "name": "warn_only",
                "attached_node": "model.chiso.a",
                "config": {"severity": "WARN"},
            },
        },
        unit_tests={
            "unit_test.chiso.b.checks_status": {
                "resource_type": "unit_test",
                "name": "checks_status",
                "model": "b",
            }
        },
    )
    build = read_results(tmp_path)
    assert build.models_built == 1
    assert build.skipped == ["b"]
    checks = {check.check: check for check in dbt_checks(build.tests)}
    assert checks["unit_test checks_status"].tier == "blocking"
    assert not checks["unit_test checks_status"].passed
    assert checks["warn_only"].tier == "warning" and not checks["warn_only"].passed
    assert checks["warn_only"].table == "a"


def test_a_model_error_stops_the_build(tmp_path):
    _write(
        tmp_path,
        [{"unique_id": "model.chiso.a", "status": "error", "message": "Binder Error: x"}],
        nodes={"model.chiso.a": {"resource_type": "model", "name": "a"}},
    )
    with pytest.raises(BuildError, match="a: Binder Error: x"):
        read_results(tmp_path)
