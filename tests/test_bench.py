"""The ingest benchmark runs end to end (its figures are recorded, not asserted, here)."""

import os

import pytest

from warehouse.bench import bench_ingest


@pytest.mark.slow
def test_the_ingest_benchmark_loads_every_file():
    result = bench_ingest(files=20)
    assert (result["loaded"], result["quarantined"]) == (20, 0)
    assert result["pipeline_files_per_second"] > 0 and result["floor_peak_mib"] > 0
    assert "CHISO_DBT_PROJECT_DIR" not in os.environ  # the benchmark leaves no trace
