"""What BI tools read, both ways: the published DuckDB file through SQLAlchemy and
duckdb-engine (the driver of Superset's and Metabase's DuckDB support), and the same dbt
models on PostgreSQL (a throwaway local server: raw copied, `dbt build --target postgres`,
schema swap) read as the read-only role through psycopg, compared row by row."""

from __future__ import annotations

import os
import subprocess

import duckdb
import pytest

from tests.conftest import VENV_BIN, run_demo
from tests.postgres_server import server_bin, throwaway_server

pytestmark = pytest.mark.slow
needs_server = pytest.mark.skipif(
    server_bin() is None, reason="PostgreSQL server not installed (./setup.sh installs it)"
)

SECRET = "test-secret-8f2c1d"
COMPARED = {
    "target_progress": "target_id, unit_code, status, latest_value, pace_ratio, "
    "projected_value_at_deadline",
    "unit_scorecard": "period, unit_code, score, group_rank",
    "reporting_completeness": "unit_code, period, reporting_status, days_late",
    "portal_766_scores": "period, portal_code, total_score, score_rank, rank_change",
    "fct_indicator_observations": "unit_code, indicator_code, period, source, is_selected",
    "dti_scores": "province_code, year, dti_rank",
    "province_pillar_overview": "province_code, pillar, unit_targets, achieved_share",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("bi") / "data"
    return data, run_demo(data)


def test_every_published_mart_reads_through_sqlalchemy_duckdb_engine(demo):
    from sqlalchemy import create_engine, inspect, text

    _, published = demo
    engine = create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        assert "target_progress" in tables and "unit_scorecard" in tables and len(tables) >= 16
        for table in tables:
            rows = connection.execute(text(f'select * from "{table}" limit 5')).fetchall()
            count = connection.execute(text(f'select count(*) from "{table}"')).scalar()
            assert count == 0 or rows, table
        with pytest.raises(Exception, match="read-only"):
            connection.execute(text("delete from target_progress"))
    engine.dispose()


@needs_server
def test_dbt_build_on_postgresql_matches_duckdb_and_reads_as_the_reader_role(demo):
    data, published = demo
    with throwaway_server() as pg_env:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
        env.update(pg_env, CHISO_DATA_DIR=str(data))
        env["CHISO_PG_PASSWORD"] = SECRET  # trust auth ignores it; it must appear nowhere
        out = subprocess.run(
            [str(VENV_BIN / "chiso"), "postgres", "--period", "2025-09"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
        assert "dbt build on PostgreSQL: 29 models" in out.stdout
        assert "tests passed" in out.stdout and "FAILED" not in out.stderr
        assert "published to schema published" in out.stdout
        assert "gate PASSED" in out.stdout and "SQL path" in out.stdout  # GX on PostgreSQL
        assert SECRET not in out.stdout + out.stderr
        for path in data.rglob("*"):  # dbt logs, run results, gate reports, manifests
            if path.is_file() and path.suffix in (".log", ".json", ".md", ".txt", ".jsonl"):
                assert SECRET not in path.read_text(errors="replace"), path

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
                    cursor.execute(f"select {columns} from published.{table}")
                    in_postgres = sorted(cursor.fetchall(), key=repr)
                    in_duckdb = sorted(
                        duck.execute(f"select {columns} from {table}").fetchall(), key=repr
                    )
                    assert len(in_postgres) == len(in_duckdb) > 0, table
                    assert [tuple(map(_plain, row)) for row in in_postgres] == [
                        tuple(map(_plain, row)) for row in in_duckdb
                    ], table
            with pg, pg.cursor() as cursor:  # a BI login in the read-only role
                cursor.execute("create role bi_reader login in role chiso_reader")
            _read_as_reader(pg_env, duck)
            _a_failed_sql_gate_leaves_published_alone(env, data, pg)
        finally:
            pg.close()
            duck.close()


def _a_failed_sql_gate_leaves_published_alone(env: dict, data, pg) -> None:
    """A portal month missing one province passes every dbt test but not the Great
    Expectations coverage check, run in PostgreSQL: nothing is published."""
    with pg.cursor() as cursor:
        cursor.execute("select run_id from published._publication")
        before = cursor.fetchone()[0]
    warehouse = duckdb.connect(str(data / "warehouse" / "chiso.duckdb"))
    removed = warehouse.execute(
        "select * from raw.portal_766_scores where period = '2025-08' and province_code = '20'"
    ).fetchall()
    warehouse.execute(
        "delete from raw.portal_766_scores where period = '2025-08' and province_code = '20'"
    )
    warehouse.close()
    try:
        out = subprocess.run(
            [str(VENV_BIN / "chiso"), "postgres", "--period", "2025-09"],
            env=env,
            capture_output=True,
            text=True,
        )
    finally:
        warehouse = duckdb.connect(str(data / "warehouse" / "chiso.duckdb"))
        marks = ", ".join("?" * len(removed[0]))
        warehouse.executemany(f"insert into raw.portal_766_scores values ({marks})", removed)
        warehouse.close()
    assert out.returncode == 1, out.stdout[-2000:]
    assert "BLOCKING [great_expectations] every_province_scored_each_period on " in out.stderr
    assert "portal_766_scores" in out.stderr and "NOT PUBLISHED" in out.stderr
    with pg.cursor() as cursor:
        cursor.execute("select run_id from published._publication")
        assert cursor.fetchone()[0] == before
    assert SECRET not in out.stdout + out.stderr


def _read_as_reader(pg_env: dict[str, str], duck) -> None:
    import psycopg

    with psycopg.connect(
        host=pg_env["CHISO_PG_HOST"],
        port=int(pg_env["CHISO_PG_PORT"]),
        user="bi_reader",
        dbname=pg_env["CHISO_PG_DBNAME"],
    ) as reader:
        tables = [
            row[0]
            for row in reader.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'published' and table_name <> '_publication'"
            ).fetchall()
        ]
        assert len(tables) >= 16
        for table in tables:
            count = reader.execute(f"select count(*) from published.{table}").fetchone()[0]
            assert count == duck.execute(f"select count(*) from {table}").fetchone()[0], table
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("delete from published.target_progress")


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
