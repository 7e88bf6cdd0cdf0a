"""The PostgreSQL target: the same dbt models on the scale-out warehouse.

DuckDB stays the work warehouse where ingestion loads raw tables; for PostgreSQL, chiso
copies the ``raw`` schema there (one transaction: the old raw schema or the new one, never
a mix) and runs the same ``dbt build`` with ``--target postgres``. If every dbt test
passes, the new ``marts`` schema is published by renaming schemas inside one transaction
(``published`` -> ``published_previous``, ``marts`` -> ``published``), and the read-only
role ``chiso_reader`` is granted it: BI tools read ``published`` and see the old marts or
the new ones, never a mix; a failed build leaves ``published`` untouched. Connection settings come
from the environment only (CHISO_PG_HOST, _PORT, _USER, _PASSWORD, _DBNAME), as
``dbt_project/profiles.yml`` reads them; the password is never printed.
"""

from __future__ import annotations

import csv
import io
import json
import os

from ingest.parsing import months
from warehouse.build import BuildError, read_results, run_dbt
from warehouse.raw import connect
from warehouse.settings import Settings

PG_TYPES = {
    "VARCHAR": "text",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


def connect_pg():
    """A psycopg2 connection from the CHISO_PG_* environment."""
    import psycopg2

    return psycopg2.connect(
        host=os.environ.get("CHISO_PG_HOST", "127.0.0.1"),
        port=int(os.environ.get("CHISO_PG_PORT", 5432)),
        user=os.environ.get("CHISO_PG_USER", "chiso"),
        password=os.environ.get("CHISO_PG_PASSWORD", ""),
        dbname=os.environ.get("CHISO_PG_DBNAME", "chiso"),
    )


def gx_connection_string() -> str:
    """The SQLAlchemy URL Great Expectations connects with: the password as
    ``${CHISO_PG_PASSWORD}``, which it fills in from the environment itself."""
    user = os.environ.get("CHISO_PG_USER", "chiso")
    secret = ":${CHISO_PG_PASSWORD}" if os.environ.get("CHISO_PG_PASSWORD") else ""
    host = os.environ.get("CHISO_PG_HOST", "127.0.0.1")
    port = int(os.environ.get("CHISO_PG_PORT", 5432))
    return f"postgresql+psycopg2://{user}{secret}@{host}:{port}/" + os.environ.get(
        "CHISO_PG_DBNAME", "chiso"
    )


def suite_parameters(pg, as_of_period: str, schema: str = "marts", band: float = 2.0) -> dict:
    """The gate's parameters on PostgreSQL, as ``expectations.gate.suite_parameters`` makes
    them for DuckDB: months to cover, and row-count bands around what ``published`` holds."""
    from expectations.gate import NEVER_EMPTY

    with pg.cursor() as cursor:
        cursor.execute(f"select min(period) from {schema}.fct_indicator_observations")
        first = cursor.fetchone()[0]
        cursor.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in (%s, 'published') and table_type = 'BASE TABLE'",
            [schema],
        )
        tables = cursor.fetchall()
        previous = {}
        for where, table in tables:
            if where == "published" and table != "_publication":
                cursor.execute(f'select count(*) from published."{table}"')
                previous[table] = cursor.fetchone()[0]
    parameters: dict = {
        "as_of_period": [as_of_period],
        "expected_periods": months(first, as_of_period) if first else [],
    }
    for table in {table for where, table in tables if where == schema}:
        least = 1 if table in NEVER_EMPTY else 0
        rows = previous.get(table)
        parameters[f"{table}_min_rows"] = max(least, int(rows / band)) if rows else least
        parameters[f"{table}_max_rows"] = int(rows * band) if rows else None
    return parameters


def load_raw(settings: Settings, pg) -> dict[str, int]:
    """Replace PostgreSQL's ``raw`` schema with the work warehouse's, in one transaction;
    return the rows copied per table."""
    duck = connect(settings.warehouse_path, read_only=True)
    copied: dict[str, int] = {}
    try:
        tables = [
            row[0]
            for row in duck.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' order by table_name"
            ).fetchall()
        ]
        with pg, pg.cursor() as cursor:  # commits at the end, rolls back on error
            cursor.execute("drop schema if exists raw cascade; create schema raw")
            for table in tables:
                columns = duck.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                definition = ", ".join(
                    f'"{name}" {PG_TYPES.get(kind, "text")}' for name, kind in columns
                )
                cursor.execute(f'create table raw."{table}" ({definition})')
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                rows = duck.execute(f'select * from raw."{table}"').fetchall()
                for row in rows:
                    writer.writerow(["\\N" if value is None else value for value in row])
                buffer.seek(0)
                cursor.copy_expert(
                    f"copy raw.\"{table}\" from stdin with (format csv, null '\\N')", buffer
                )
                copied[table] = len(rows)
    finally:
        duck.close()
    return copied


def build(settings: Settings, as_of_period: str):
    """``dbt build --target postgres`` as of a month; returns the BuildResult."""
    target_dir = settings.data_dir / "dbt" / "target-postgres"
    os.environ["CHISO_DBT_TARGET"] = "postgres"
    try:
        run_dbt(
            settings,
            "build",
            "--target",
            "postgres",
            "--vars",
            json.dumps({"as_of_period": as_of_period}),
            target_path=target_dir,
        )
    finally:
        os.environ.pop("CHISO_DBT_TARGET", None)
    if not (target_dir / "run_results.json").exists():
        raise BuildError(f"dbt build (postgres) wrote no results in {target_dir}")
    return read_results(target_dir)


READER_ROLE = "chiso_reader"


def publish(pg, run_id: str, as_of_period: str, reader_role: str = READER_ROLE) -> list[str]:
    """Swap the marts just built in as schema ``published`` (one transaction) and grant the
    read-only role; return the published tables."""
    with pg, pg.cursor() as cursor:
        cursor.execute("select 1 from pg_roles where rolname = %s", [reader_role])
        if cursor.fetchone() is None:
            cursor.execute(f'create role "{reader_role}" nologin')
        cursor.execute("drop schema if exists published_previous cascade")
        cursor.execute("select 1 from information_schema.schemata where schema_name = 'published'")
        if cursor.fetchone():
            cursor.execute("alter schema published rename to published_previous")
        cursor.execute("alter schema marts rename to published")
        cursor.execute(
            "create table published._publication as select %s::text as run_id, "
            "%s::text as as_of_period, now() as built_at",
            [run_id, as_of_period],
        )
        cursor.execute(f'grant usage on schema published to "{reader_role}"')
        cursor.execute(f'grant select on all tables in schema published to "{reader_role}"')
        cursor.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'published' order by table_name"
        )
        return [row[0] for row in cursor.fetchall()]
