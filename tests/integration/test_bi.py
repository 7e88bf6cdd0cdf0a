"""What BI tools read, both ways: the published DuckDB file through SQLAlchemy and
duckdb-engine (the driver of Superset's and Metabase's DuckDB support), and the main job
on the PostgreSQL warehouse (`CHISO_WAREHOUSE=postgres chiso demo`, a database on the
session's throwaway server) read as the read-only role through psycopg. The password
appears nowhere: not in the output, not in a file of the data directory."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import VENV_BIN, chiso_environment, fresh_database

pytestmark = pytest.mark.slow

SECRET = "test-secret-8f2c1d"


def test_every_published_mart_reads_through_sqlalchemy_duckdb_engine(demo):
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(f"duckdb:///{demo.published}", connect_args={"read_only": True})
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


def test_the_main_job_on_postgresql_reads_as_the_reader_role_and_hides_the_password(
    pg_server, demo, tmp_path
):
    import duckdb
    import psycopg

    pg_env = fresh_database(pg_server, "bi")
    env = chiso_environment(
        tmp_path / "data", CHISO_WAREHOUSE="postgres", **pg_env, CHISO_PG_PASSWORD=SECRET
    )  # trust authentication ignores the password; it must still appear nowhere
    out = subprocess.run([str(VENV_BIN / "chiso"), "demo"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    assert "gate PASSED" in out.stdout and "Marts published to schema published" in out.stdout
    assert "psql -h 127.0.0.1" in out.stdout  # the query to try, for this warehouse
    assert SECRET not in out.stdout + out.stderr
    for path in (tmp_path / "data").rglob("*"):  # dbt logs, run results, gate reports
        if path.is_file() and path.suffix in (".log", ".json", ".md", ".txt", ".jsonl"):
            assert SECRET not in path.read_text(errors="replace"), path

    connect = {
        "host": pg_env["CHISO_PG_HOST"],
        "port": int(pg_env["CHISO_PG_PORT"]),
        "dbname": pg_env["CHISO_PG_DBNAME"],
    }
    with psycopg.connect(**connect, user=pg_env["CHISO_PG_USER"], autocommit=True) as admin:
        admin.execute("create role bi_reader login in role chiso_reader")
    duck = duckdb.connect(str(demo.published), read_only=True)
    try:
        with psycopg.connect(**connect, user="bi_reader") as reader:
            tables = [
                row[0]
                for row in reader.execute(
                    "select table_name from information_schema.tables "
                    "where table_schema = 'published' and table_name <> '_publication'"
                ).fetchall()
            ]
            assert len(tables) == 17
            for table in tables:  # the same sample, the same month: the same row counts
                count = reader.execute(f"select count(*) from published.{table}").fetchone()[0]
                assert count == duck.execute(f"select count(*) from {table}").fetchone()[0]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("delete from published.target_progress")
            reader.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("select * from raw.unit_report_values limit 1")
    finally:
        duck.close()


def test_an_unreachable_server_is_named_and_the_password_never_printed(tmp_path):
    env = chiso_environment(
        tmp_path / "data",
        CHISO_WAREHOUSE="postgres",
        CHISO_PG_HOST="127.0.0.1",
        CHISO_PG_PORT="1",
        CHISO_PG_PASSWORD="test-secret-do-not-print",
    )
    for command in (["run", "--period", "2025-09"], ["status"], ["rollback"]):
        out = subprocess.run(
            [str(VENV_BIN / "chiso"), *command], env=env, capture_output=True, text=True
        )
        assert out.returncode == 1, (command, out.stderr[-2000:])
        assert "cannot connect to PostgreSQL at 127.0.0.1:1" in out.stderr, command
        assert "Traceback" not in out.stderr, command
        assert "test-secret-do-not-print" not in out.stdout + out.stderr
