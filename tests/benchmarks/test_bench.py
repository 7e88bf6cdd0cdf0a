"""The ingest benchmark runs end to end (its figures are recorded, not asserted, here)."""

import os

import pytest

from benchmarks.ingest import bench_ingest
from tests.helpers.project import PROJECT_ROOT

MODELS = len(list((PROJECT_ROOT / "dbt_project" / "models").rglob("*.sql")))


@pytest.mark.slow
def test_the_ingest_benchmark_loads_every_file():
    result = bench_ingest(files=20)
    assert (result["loaded"], result["quarantined"]) == (20, 0)
    assert result["pipeline_files_per_second"] > 0 and result["floor_peak_mib"] > 0
    assert "CHISO_DBT_PROJECT_DIR" not in os.environ  # the benchmark leaves no trace


@pytest.mark.slow
def test_the_national_benchmark_builds_gates_runs_the_floor_and_a_monthly_run(
    tmp_path, monkeypatch
):
    from benchmarks.national import bench_national, generated

    # what the machine has available beside the other tests: each stage within it
    monkeypatch.setenv("CHISO_MEMORY_BUDGET", "3GiB")
    folder = tmp_path / "bench"
    # rebuild, close: tested apart; kept, for the reuse below
    result = bench_national(scale=0.1, months=3, folder=folder, keep=True, full=False)
    assert result["units"]["commune"] == 333 and result["units"]["province"] == 34
    assert result["figures"] > 0 and result["build"]["models"] == MODELS  # every one
    assert result["build"]["failed_tests"] == [] and result["gate"]["blocking_failures"] == []
    assert result["floor"]["rows"] > 0  # target x unit pairs the floor computed
    assert result["pandas"]["rows"] == result["floor"]["rows"]  # the same work in pandas
    # the real pipeline: a first publication, then next month's files through the inbox
    first, monthly = result["first_run"], result["monthly_run"]
    assert set(first["stages"]) == {"ingest", "build", "gate", "publish"}
    inbox, units = result["inbox"], sum(v for g, v in result["units"].items() if g != "targets")
    assert inbox["files"] == units + inbox["corrected"] and inbox["rejected"] > 0
    assert f"{inbox['files']} received" in monthly["ingest"]
    assert f"{inbox['rejected']} quarantined" in monthly["ingest"]
    # each unit's series goes on from the month before: no figure jumps (a jump warning)
    assert inbox["continued_series"] > 0 and monthly["ingest"].endswith(" 0 warning(s)")
    assert result["read_floor"]["files"] == inbox["files"] and result["read_floor"]["cells"] > 0
    assert monthly["published_rows"] > first["published_rows"]
    # everything under the one folder: the generated country, reused while its generator is
    made = [path for path in folder.iterdir() if path.name.startswith("country-0.1-3m-")]
    assert len(made) == 1 and result["disk_bytes"] > 0
    record = made[0] / "generated.json"
    before = record.stat().st_mtime_ns
    again, counts = generated(folder, 0.1, 3, "2025-09")
    assert again == made[0] and record.stat().st_mtime_ns == before
    assert counts["figures"] == result["figures"]


def test_a_benchmark_without_room_refuses_to_start(tmp_path):
    from benchmarks.memory import available_memory
    from benchmarks.national import check_room
    from warehouse.budget import DiskTooFull

    with pytest.raises(RuntimeError, match="CHISO_MEMORY_BUDGET=.*nothing was started"):
        check_room({}, tmp_path, 2 * available_memory())
    with pytest.raises(DiskTooFull, match="the runs' spill 1024 TiB"):
        check_room({"the runs' spill": 1 << 50}, tmp_path, 0)


def test_the_national_preset_has_the_countrys_units(tmp_path):
    """``--scale national``: about 60,000 reporting units, the counts its docstring cites."""
    from benchmarks.national import parse_scale, prepare

    counts = prepare(tmp_path, parse_scale("national"))
    assert counts["province"] == 34 and counts["department"] == 34 * 14
    assert (counts["commune"], counts["school"], counts["health_facility"]) == (
        3_321,
        44_000,
        11_000,
    )
    assert sum(v for g, v in counts.items() if g != "targets") == 58_831
    with pytest.raises(ValueError, match="national"):
        parse_scale("everything")


def test_above_1x_communes_are_not_copied_so_each_keeps_its_administrative_unit(tmp_path):
    """A copied commune would be an imported unit without an administrative unit, which
    the registry's own dbt test refuses (the 4x build once skipped every mart for it)."""
    import csv

    from benchmarks.national import UNITS_FILE, prepare, served_provinces
    from ingest.registry import built_in

    counts = prepare(tmp_path, 2)
    assert counts["commune"] == 3_321 and counts["department"] == 34 * 20 * 2
    known = built_in(tuple(served_provinces().split(","))).units
    with open(tmp_path / UNITS_FILE, encoding="utf-8", newline="") as handle:
        communes = [row for row in csv.DictReader(handle) if row["unit_group"] == "commune"]
    assert all(known[row["unit_code"]].admin_unit_id for row in communes)
