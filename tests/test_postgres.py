"""The same dbt models on PostgreSQL (the scale-out warehouse): a throwaway local server,
raw copied from the work warehouse, `dbt build --target postgres`, marts compared with the
DuckDB publication row by row."""

from __future__ import annotations

import os
import subprocess

import duckdb
import pytest

from tests.conftest import VENV_BIN, run_demo
from tests.postgres_server import server_bin, throwaway_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(server_bin() is None, reason="PostgreSQL server not installed (setup.sh)"),
]

COMPARED = {
    "target_progress": "target_id, unit_code, status, latest_value, pace_ratio, "
    "projected_value_at_deadline",
    "unit_scorecard": "period, unit_code, score, group_rank",
    "reporting_completeness": "unit_code, period, reporting_status, days_late",
    "portal_766_scores": "period, portal_code, total_score, score_rank, rank_change",
    "fct_indicator_observations": "unit_code, indicator_code, period, source, is_selected",
    "dti_scores": "province_code, year, dti_rank",
}


def test_dbt_build_on_postgresql_matches_duckdb(tmp_path):
    published = run_demo(tmp_path / "data")
    with throwaway_server() as pg_env:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
        env.update(pg_env, CHISO_DATA_DIR=str(tmp_path / "data"))
        out = subprocess.run(
            [str(VENV_BIN / "chiso"), "postgres", "--period", "2025-09"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
        assert "dbt build on PostgreSQL: 28 models" in out.stdout
        assert "tests passed" in out.stdout and "FAILED" not in out.stderr

        import psycopg2

        pg = psycopg2.connect(
            host=pg_env["CHISO_PG_HOST"],
            port=int(pg_env["CHISO_PG_PORT"]),
            user=pg_env["CHISO_PG_USER"],
            dbname=pg_env["CHISO_PG_DBNAME"],
        )
        duck = duckdb.connect(str(published), read_only=True)
        try:
            with pg.cursor() as cursor:
                for table, columns in COMPARED.items():
                    cursor.execute(f"select {columns} from marts.{table}")
                    in_postgres = sorted(cursor.fetchall(), key=repr)
                    in_duckdb = sorted(
                        duck.execute(f"select {columns} from {table}").fetchall(), key=repr
                    )
                    assert len(in_postgres) == len(in_duckdb) > 0, table
                    assert [tuple(map(_plain, row)) for row in in_postgres] == [
                        tuple(map(_plain, row)) for row in in_duckdb
                    ], table
        finally:
            pg.close()
            duck.close()


def _plain(value):
    """Numbers as floats rounded to 9 places (PostgreSQL returns Decimal where DuckDB
    returns float, and sums floats in another order)."""
    from decimal import Decimal

    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return round(float(value), 9)
    return value


def test_an_unreachable_server_is_named_and_the_password_never_printed(settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env.update(
        CHISO_DATA_DIR=str(settings.data_dir),
        CHISO_PG_HOST="127.0.0.1",
        CHISO_PG_PORT="1",
        CHISO_PG_PASSWORD="test-secret-do-not-print",
    )
    out = subprocess.run(
        [str(VENV_BIN / "chiso"), "postgres", "--period", "2025-09"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "error: PostgreSQL: OperationalError" in out.stderr and "127.0.0.1" in out.stderr
    assert "test-secret-do-not-print" not in out.stdout + out.stderr
