"""The incremental models (``stg_unit_reports__values``, ``indicator_observations``):
built by month, they hold exactly what a full build from raw holds, whatever arrived:
a late correction of an old month, a month rerun after a later one, a new project."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from chiso.samples.report_files import generate
from tests.helpers.clerk_files import received
from tests.helpers.data import set_csv_cell
from tests.helpers.project import VENV_BIN
from tests.helpers.runs import chiso_environment

pytestmark = pytest.mark.slow

INCREMENTAL = ("stg_unit_reports__values", "indicator_observations")


def chiso(data: Path, *arguments: str) -> str:
    out = subprocess.run(
        [str(VENV_BIN / "chiso"), *arguments],
        # the provinces the demo served (its default)
        env=chiso_environment(data, CHISO_DATA_DOCS="0", CHISO_PROVINCES="20,08,14"),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-3000:])
    return out.stdout


def _comparable(row: tuple) -> tuple:
    """Floats to 12 significant digits: a sum over rows stored in another order (a month
    built again is written after the others) differs in its last bits."""
    return tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row)


def built_tables(data: Path) -> dict[str, list[tuple]]:
    """Every table dbt built in the work warehouse (not raw, not the tests' audit views),
    rows sorted, floats as :func:`_comparable` says."""
    conn = duckdb.connect(str(data / "warehouse" / "chiso.duckdb"), read_only=True)
    try:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema not in ('raw') "
            "order by all"
        ).fetchall()
        return {
            f"{schema}.{name}": sorted(
                (
                    _comparable(row)
                    for row in conn.execute(f'select * from "{schema}"."{name}"').fetchall()
                ),
                key=repr,  # rows with NULLs too
            )
            for schema, name in tables
        }
    finally:
        conn.close()


def test_built_by_month_the_warehouse_holds_what_a_full_build_does(demo_copy, tmp_path):
    data = demo_copy
    conn = duckdb.connect(str(data / "published" / "chiso.duckdb"), read_only=True)
    (period,) = conn.execute("select as_of_period from _publication").fetchone()
    conn.close()
    # a late correction of an old month, received before that month was locked
    generate(tmp_path / "march", start="2025-03", end="2025-03")
    correction = data / "inbox" / "bao_cao_20.178_2025-03_dinh_chinh.csv"
    set_csv_cell(tmp_path / "march" / "bao_cao_20.178_2025-03.csv", correction, "C9", "7")
    received(correction, datetime(2025, 4, 12, 3, tzinfo=UTC))

    out = chiso(data, "run", "--period", period)
    assert "incremental models by month" in out and "1 landed" in out, out[-3000:]
    by_month = built_tables(data)
    conn = duckdb.connect(str(data / "warehouse" / "chiso.duckdb"), read_only=True)
    counted = conn.execute(
        "select distinct source_file_name from marts.indicator_observations "
        "where unit_code = '20.178' and period = '2025-03'"
    ).fetchall()
    conn.close()
    assert counted == [(correction.name,)]  # the correction counts, the original does not

    out = chiso(data, "run", "--period", period, "--full-refresh")
    assert "(in full)" in out
    in_full = built_tables(data)
    assert set(by_month) == set(in_full)
    for table in in_full:  # one table at a time: a difference names its table
        assert by_month[table] == in_full[table], table

    # an earlier month again: the months after it leave the incremental tables
    out = chiso(data, "run", "--period", "2025-06")
    assert "incremental models by month" in out
    earlier = built_tables(data)
    assert all(row for row in earlier["marts.indicator_observations"])
    chiso(data, "run", "--period", "2025-06", "--full-refresh")
    assert built_tables(data) == earlier


def test_a_changed_project_rebuilds_the_incremental_models_in_full(demo_copy, tmp_path):
    data = demo_copy
    conn = duckdb.connect(str(data / "published" / "chiso.duckdb"), read_only=True)
    (period,) = conn.execute("select as_of_period from _publication").fetchone()
    conn.close()
    conn = duckdb.connect(str(data / "warehouse" / "chiso.duckdb"))
    # the demo's build recorded its project: a run would build by month (what the next
    # assertion's run shows after a full one)
    (recorded,) = conn.execute("select project_fingerprint from raw.build_state").fetchone()
    assert recorded != "an older chiso"
    conn.execute("update raw.build_state set project_fingerprint = 'an older chiso'")
    conn.close()
    assert "(in full)" in chiso(data, "run", "--period", period)
    assert "incremental models by month" in chiso(data, "run", "--period", period)


def test_the_fingerprint_follows_models_seeds_settings_and_the_raw_views(tmp_path):
    import shutil
    from dataclasses import replace

    from warehouse.build import needs_full_refresh, project_fingerprint, record_build
    from warehouse.settings import PROJECT_ROOT, load_settings

    project = tmp_path / "dbt_project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
    )
    settings = replace(load_settings(), dbt_project_dir=project)
    first = project_fingerprint(settings)
    assert project_fingerprint(settings) == first
    seed = project / "seeds" / "labels.csv"
    seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert project_fingerprint(settings) != first
    assert project_fingerprint(replace(settings, provinces=("20",))) != project_fingerprint(
        replace(settings, provinces=("20", "14"))
    )

    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("create schema raw")
    assert needs_full_refresh(conn, first)  # nothing recorded: a first build
    record_build(conn, first)
    assert not needs_full_refresh(conn, first) and needs_full_refresh(conn, "another")
    record_build(conn, "another")
    assert conn.execute("select count(*) from raw.build_state").fetchone() == (1,)
    conn.close()
