"""The ingest benchmark runs end to end (its figures are recorded, not asserted, here)."""

import os

import pytest

from benchmarks.ingest import bench_ingest


@pytest.mark.slow
def test_the_ingest_benchmark_loads_every_file():
    result = bench_ingest(files=20)
    assert (result["loaded"], result["quarantined"]) == (20, 0)
    assert result["pipeline_files_per_second"] > 0 and result["floor_peak_mib"] > 0
    assert "CHISO_DBT_PROJECT_DIR" not in os.environ  # the benchmark leaves no trace


@pytest.mark.slow
def test_the_national_benchmark_builds_gates_runs_the_floor_and_a_monthly_run():
    from benchmarks.national import bench_national

    result = bench_national(scale=0.1, months=3, full=False)  # rebuild, close: tested apart
    assert result["units"]["commune"] == 333 and result["units"]["province"] == 34
    assert result["figures"] > 0 and result["build"]["models"] == 41
    assert result["build"]["failed_tests"] == [] and result["gate"]["blocking_failures"] == []
    assert result["floor"]["rows"] > 0  # target x unit pairs the floor computed
    assert result["pandas"]["rows"] == result["floor"]["rows"]  # the same work in pandas
    # the real pipeline: a first publication, then next month's files through the inbox
    first, monthly = result["first_run"], result["monthly_run"]
    assert set(first["stages"]) == {"ingest", "build", "gate", "publish"}
    assert result["inbox"]["files"] == sum(
        result["units"][g] for g in result["units"] if g != "targets"
    )
    assert monthly["published_rows"] > first["published_rows"]
