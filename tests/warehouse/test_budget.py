"""The run's memory and disk budget (warehouse/budget.py): one setting split across what
runs at once, and a run that refuses to start on a disk without room for it."""

from __future__ import annotations

import pytest

from warehouse.budget import (
    DUCKDB_SHARE,
    FRAME_BYTES_PER_CELL,
    DiskTooFull,
    GateBudget,
    check_disk,
    free_bytes,
    plan,
)
from warehouse.settings import GiB, MiB, machine_memory, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("4GB", 4 * 1000**3),
        ("12GiB", 12 * GiB),
        (" 1500 MiB ", 1500 * MiB),
        ("1.5gib", GiB * 3 // 2),
    ],
)
def test_a_size_is_read_with_its_unit(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["4", "lots", "4 GBs", "-1GB", ""])
def test_a_size_without_a_unit_is_none(text):
    assert parse_size(text) is None


def test_the_default_budget_is_half_the_machine(monkeypatch):
    from warehouse.settings import load_settings

    monkeypatch.delenv("CHISO_MEMORY_BUDGET", raising=False)
    budget = load_settings().memory_budget
    assert abs(budget - machine_memory() / 2) < MiB


def test_a_containers_memory_limit_is_the_machines_memory(tmp_path):
    physical = machine_memory(tmp_path / "none")
    limit = tmp_path / "memory.max"
    limit.write_text(f"{2 * GiB}\n")
    assert machine_memory(limit) == min(2 * GiB, physical)
    limit.write_text("max\n")
    assert machine_memory(limit) == physical


def test_duckdb_takes_its_share_and_two_models_at_once_only_when_both_fit(tmp_path):
    small = plan(12 * GiB, tmp_path, figures=50_000, free_for_spill=40 * GiB)
    assert small.duckdb_memory == int(12 * GiB * DUCKDB_SHARE) and small.dbt_threads == 2
    national = plan(12 * GiB, tmp_path, figures=30_000_000, free_for_spill=40 * GiB)
    assert national.dbt_threads == 1  # 2 x 9 GB of figures do not fit in 7.2 GiB
    assert plan(40 * GiB, tmp_path, 30_000_000, 40 * GiB).dbt_threads == 2
    env = national.dbt_environment()
    assert env["CHISO_DBT_MEMORY_LIMIT"] == f"{int(12 * GiB * DUCKDB_SHARE) // MiB}MiB"
    assert env["CHISO_DBT_MAX_TEMP_SIZE"] == f"{40 * 1024}MiB" and env["CHISO_DBT_THREADS"] == "1"


def test_out_of_memory_names_the_model_and_the_budget(tmp_path):
    message = plan(2 * GiB, tmp_path, 0, 5 * GiB).out_of_memory(["indicator_observations"])
    assert message.startswith("indicator_observations ran out of memory: DuckDB may take 1.0 GiB")
    assert "CHISO_MEMORY_BUDGET=2.0 GiB, and spill 5.0 GiB" in message
    assert message.endswith("then run again")


def test_a_run_refuses_to_start_on_a_disk_without_room(tmp_path):
    free = free_bytes(tmp_path)
    needs = {"the inbox's files, landed": 3 * MiB, "a candidate of the marts": 0}
    check_disk(needs, reserve=GiB, where=tmp_path)  # room: the run starts
    with pytest.raises(DiskTooFull) as refused:
        check_disk(needs, reserve=free, where=tmp_path / "not" / "made")
    message = str(refused.value)
    assert message.startswith("not enough free disk to start: ")
    assert "the inbox's files, landed 3 MiB" in message and "candidate" not in message
    assert "CHISO_DISK_RESERVE" in message and message.endswith("nothing was started")


def test_the_gate_takes_its_share_in_batches_of_whole_months(tmp_path):
    from expectations.suites import month_batches

    budget = GateBudget(GiB, 8 * MiB, tmp_path, 3 * GiB)
    assert budget.duckdb_config() == {
        "memory_limit": "1024MiB",
        "temp_directory": str(tmp_path),
        "max_temp_directory_size": "3072MiB",
    }
    assert budget.batch_rows(4) == 8 * MiB // (4 * FRAME_BYTES_PER_CELL)
    assert GateBudget.from_json(budget.to_json()) == budget
    months = [("2025-07", 40), ("2025-08", 70), ("2025-09", 20), ("2025-10", 10)]
    assert month_batches(months, 100) == [["2025-07"], ["2025-08", "2025-09", "2025-10"]]
    assert month_batches(months, 30) == [["2025-07"], ["2025-08"], ["2025-09", "2025-10"]]
    assert month_batches(months, 1000) == [["2025-07", "2025-08", "2025-09", "2025-10"]]
    assert month_batches([], 10) == [[]]  # no month changed: one empty batch, checks pass


def test_the_gate_budget_is_a_share_of_the_run_budget(tmp_path, monkeypatch):
    from warehouse.budget import GATE_DUCKDB_SHARE, GATE_FRAMES_SHARE, gate_budget
    from warehouse.settings import load_settings

    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHISO_MEMORY_BUDGET", "4GiB")
    settings = load_settings()
    budget = gate_budget(settings)
    assert budget.duckdb_memory == int(4 * GiB * GATE_DUCKDB_SHARE)
    assert budget.frame_bytes == int(4 * GiB * GATE_FRAMES_SHARE)
    assert budget.spill_dir.name == "chiso.duckdb.gate.tmp"  # beside the build's, its own


def test_the_runs_own_duckdb_connections_take_duckdbs_share(tmp_path, monkeypatch):
    """Ingest's loads and the candidate's copy stay within the budget, as dbt does."""
    from warehouse.backends import open_warehouse
    from warehouse.settings import load_settings

    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHISO_MEMORY_BUDGET", "1GiB")
    conn = open_warehouse(load_settings()).raw()
    try:
        limit = conn.execute("select current_setting('memory_limit')").fetchone()[0]
    finally:
        conn.close()
    assert limit == f"{int(GiB * DUCKDB_SHARE) // MiB}.0 MiB"


def test_the_published_marts_are_read_within_duckdbs_share(tmp_path, monkeypatch):
    """The snapshot sorts every published mart: DuckDB's default would be 80 % of the
    machine."""
    import duckdb

    from warehouse.backends import open_warehouse
    from warehouse.settings import load_settings

    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHISO_MEMORY_BUDGET", "1GiB")
    settings = load_settings()
    settings.published_path.parent.mkdir(parents=True)
    duckdb.connect(str(settings.published_path)).close()
    with open_warehouse(settings).published() as reader:
        limit = reader.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit == f"{int(GiB * DUCKDB_SHARE) // MiB}.0 MiB"
