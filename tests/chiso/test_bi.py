"""What BI tools read, both ways: the published DuckDB file through SQLAlchemy and
duckdb-engine (the driver of Superset's and Metabase's DuckDB support), and the main job
on the PostgreSQL warehouse (`CHISO_WAREHOUSE=postgres ./setup.sh run`, as the README
writes it) read as the read-only role through psycopg. The password
appears nowhere: not in the output, not in a file of the data directory."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.helpers.postgres_server import free_port
from tests.helpers.project import PROJECT_ROOT, VENV_BIN
from tests.helpers.runs import chiso_environment

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


def test_the_readme_job_on_postgresql_reads_as_the_reader_role_and_hides_the_password(demo):
    """``CHISO_WAREHOUSE=postgres ./setup.sh run``, as the README writes it: a local server
    of its own, the main job on it, the marts published as schema ``published``."""
    import duckdb
    import psycopg

    folder = Path(tempfile.mkdtemp(prefix="chiso-readme-pg-"))
    folder.chmod(0o755)  # the postgres system user keeps its cluster in there
    port = free_port()
    env = chiso_environment(folder / "data", CHISO_WAREHOUSE="postgres", CHISO_PG_PORT=str(port))
    del env["CHISO_PROVINCES"]  # the README's job: the default provinces, as the demo's
    env["CHISO_PG_PASSWORD"] = SECRET  # trust authentication ignores it; it must appear nowhere
    try:
        out = subprocess.run(
            ["./setup.sh", "run"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
        assert "starting a local PostgreSQL server" in out.stdout
        assert "gate PASSED" in out.stdout and "Marts published to schema published" in out.stdout
        assert f"psql -h 127.0.0.1 -p {port}" in out.stdout  # the query to try, for this one
        assert SECRET not in out.stdout + out.stderr
        for path in (folder / "data").rglob("*"):  # dbt logs, run results, gate reports
            if path.is_file() and path.suffix in (".log", ".json", ".md", ".txt", ".jsonl"):
                assert SECRET not in path.read_text(errors="replace"), path

        connect = {"host": "127.0.0.1", "port": port, "dbname": "chiso"}
        with psycopg.connect(**connect, user="chiso", autocommit=True) as admin:
            admin.execute("create role bi_reader login in role chiso_reader")
        duck = duckdb.connect(str(demo.published), read_only=True)
        try:
            with psycopg.connect(**connect, user="bi_reader") as reader:
                tables = [
                    row[0]
                    for row in reader.execute(
                        "select table_name from information_schema.tables "
                        "where table_schema = 'published' and table_name <> '_publication' "
                        "and table_type = 'BASE TABLE'"  # the renamed marts' old names: views
                    ).fetchall()
                ]
                assert len(tables) == 22
                for table in tables:  # the same sample, the same month: the same rows
                    count = reader.execute(f"select count(*) from published.{table}")
                    expected = duck.execute(f"select count(*) from {table}").fetchone()
                    assert count.fetchone() == expected, table
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    reader.execute("delete from published.target_progress")
                reader.rollback()
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    reader.execute("select * from raw.unit_report_values limit 1")
        finally:
            duck.close()
    finally:
        stop = subprocess.run(
            [str(VENV_BIN / "python"), "-m", "chiso.local_postgres", "stop"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        shutil.rmtree(folder, ignore_errors=True)
    assert stop.returncode == 0, stop.stderr


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
