"""Write-audit-publish on PostgreSQL (the scale-out warehouse, ``CHISO_WAREHOUSE=postgres``).

Ingestion writes ``raw`` here directly (the same tables and lineage columns as on DuckDB,
one transaction per batch). ``dbt build --target postgres`` builds the models; the marts
schema is then renamed to the run's candidate schema ``candidate_<run id>``, with the raw
rows the source suites check beside them (``_source__<suite>`` tables). The gate runs the
same suites through Great Expectations' SQL path. Publication is one transaction:
``published`` is renamed to ``published_<its run id>`` (kept for rollback, the last
``keep_versions`` of them), the candidate becomes ``published``, the read-only role
``chiso_reader`` is granted it and ``chiso_meta.publications`` records it. BI tools
read ``published`` and see the old marts or the new ones, never a mix, and never wait: a
publication only renames schemas. Credentials come from the settings (CHISO_PG_* or the
Airflow connection ``chiso_warehouse``); the password is never printed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing, contextmanager

from warehouse.backends.base import (
    MARTS_SCHEMA,
    PUBLICATION_TABLE,
    SOURCE_PREFIX,
    Candidate,
    Dataset,
    PublishedReader,
    PublishError,
    Warehouse,
    WarehouseError,
    deprecated_views,
    dumps,
    now_utc,
)
from warehouse.build import BuildResult, NodeDone
from warehouse.faults import kill_point
from warehouse.settings import PostgresSettings
from warehouse.transaction import transaction

READER_ROLE = "chiso_reader"
META_SCHEMA = "chiso_meta"
PUBLISHED = "published"
KEPT_PREFIX = "published_"
CANDIDATE_PREFIX = "candidate_"

META_DDL = f"""
create schema if not exists {META_SCHEMA};
create table if not exists {META_SCHEMA}.publications (
    published_at  timestamptz not null,
    run_id        text not null,
    as_of_period  text not null,
    record        text not null
);
"""


def schema_for(prefix: str, run_id: str) -> str:
    """A schema name for a run: lowercase, no dash (``candidate_20261122t020000123456z_2025_06``),
    so it needs no quoting in a search path."""
    return prefix + run_id.lower().replace("-", "_")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PgConnection:
    """A psycopg connection that speaks as chiso's loaders speak to DuckDB: ``execute`` and
    ``executemany`` with ``?`` placeholders, transactions by ``begin transaction`` /
    ``commit`` / ``rollback`` statements (the connection is in autocommit mode otherwise),
    and :meth:`insert_rows`, a COPY for bulk loads."""

    dialect = "postgres"

    def __init__(self, settings: PostgresSettings, search_path: str | None = None):
        import psycopg

        options = f"-c search_path={search_path}" if search_path else None
        try:
            self._conn = psycopg.connect(
                host=settings.host,
                port=settings.port,
                user=settings.user,
                password=settings.password or None,
                dbname=settings.dbname,
                autocommit=True,
                options=options,
                connect_timeout=10,
            )
        except psycopg.OperationalError as error:  # says host and port, never the password
            raise WarehouseError(
                f"cannot connect to PostgreSQL at {settings.host}:{settings.port} "
                f"(database {settings.dbname}, user {settings.user}): "
                f"{str(error).strip().splitlines()[-1]}"
            ) from None

    @staticmethod
    def _sql(sql: str, parameters) -> str:
        return sql.replace("%", "%%").replace("?", "%s") if parameters is not None else sql

    def execute(self, sql: str, parameters=None):
        cursor = self._conn.cursor()
        cursor.execute(self._sql(sql, parameters), parameters)
        return cursor

    def executemany(self, sql: str, rows) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(self._sql(sql, ()), rows)

    def insert_rows(self, table: str, columns: list[str], rows) -> None:
        names = ", ".join(_ident(column) for column in columns)
        with (
            self._conn.cursor() as cursor,
            cursor.copy(f"copy {table} ({names}) from stdin") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def close(self) -> None:
        self._conn.close()


class PostgresWarehouse(Warehouse):
    name = "postgres"
    validates_in_database = True

    def exists(self) -> bool:
        return True  # a server: each writer makes the schemas it needs

    def query_hint(self, query: str) -> list[str]:
        pg = self.settings.postgres
        return [
            f'psql -h {pg.host} -p {pg.port} -U {pg.user} -d {pg.dbname} -c "{query}"',
            f"(tables are in schema {PUBLISHED})",
        ]

    def reader_uri(self, login: str) -> tuple[str, dict]:
        pg = self.settings.postgres
        uri = f"postgresql+psycopg2://{login}:{{password}}@{pg.host}:{pg.port}/{pg.dbname}"
        return uri, {"connect_args": {"options": f"-c search_path={PUBLISHED}"}}

    def raw(self) -> PgConnection:
        return PgConnection(self.settings.postgres)

    def build(
        self, period: str, full_refresh: bool = False, on_node: NodeDone | None = None
    ) -> BuildResult:
        """As on every engine, after refreshing the planner's statistics of ``raw``: a run
        has just loaded it, and autovacuum's own ANALYZE comes later; without them the
        planner takes a month's new rows for none and the build's joins for nested loops
        (the demo's build took 90 s instead of 20 on a fresh cluster). The tables dbt
        builds are analyzed by dbt itself (``analyze_on_postgres``, a post-hook)."""
        with closing(self.raw()) as conn:
            for table in self._tables(conn, "raw"):
                conn.execute(f"analyze raw.{_ident(table)}")
        return super().build(period, full_refresh, on_node)

    def figure_count(self, conn) -> int:
        """The planner's estimate (the build has just analyzed raw): a count would read
        every figure, and only DuckDB's budget depends on it."""
        row = conn.execute(
            "select reltuples from pg_class where oid = 'raw.unit_report_values'::regclass"
        ).fetchone()
        return max(int(row[0]), 0)

    def dataset(self, schema: str, table: str) -> Dataset:
        pg = self.settings.postgres
        return Dataset(f"postgres://{pg.host}:{pg.port}", f"{pg.dbname}.{schema}.{table}")

    def candidate_dataset(self, candidate: Candidate, table: str) -> Dataset:
        return self.dataset(candidate.location, table)

    def published_dataset(self, table: str) -> Dataset:
        return self.dataset(PUBLISHED, table)

    @property
    def published_location(self) -> str:
        pg = self.settings.postgres
        return f"schema {PUBLISHED} of postgresql://{pg.host}:{pg.port}/{pg.dbname}"

    row_hash = "('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint"  # 60 bits of md5

    @property
    def baseline_location(self) -> str:
        return PUBLISHED

    def _schemas(self, conn, prefix: str) -> list[str]:
        rows = conn.execute(
            "select schema_name from information_schema.schemata "
            "where starts_with(schema_name, ?) order by schema_name",
            [prefix],
        ).fetchall()
        return [row[0] for row in rows]

    def _tables(self, conn, schema: str) -> list[str]:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_type = 'BASE TABLE' order by table_name",
            [schema],
        ).fetchall()
        return [row[0] for row in rows]

    def has_published(self) -> bool:
        with closing(self.raw()) as conn:
            return PUBLISHED in self._schemas(conn, PUBLISHED)

    def write_candidate(self, run_id: str, period: str, source_queries: dict[str, str]):
        schema = schema_for(CANDIDATE_PREFIX, run_id)
        with closing(self.raw()) as conn:
            tables = self._tables(conn, MARTS_SCHEMA)
            if not tables:
                raise PublishError(f"the warehouse has no tables in schema '{MARTS_SCHEMA}'")
            since = self.since()
            with transaction(conn):
                conn.execute(f"drop schema if exists {_ident(schema)} cascade")
                conn.execute(f"alter schema {MARTS_SCHEMA} rename to {_ident(schema)}")
                kill_point("candidate_mid_write")
                row_counts = {
                    table: conn.execute(
                        f"select count(*) from {_ident(schema)}.{_ident(table)}"
                    ).fetchone()[0]
                    for table in tables
                }
                for old, new in deprecated_views(tables):
                    conn.execute(
                        f"create view {_ident(schema)}.{_ident(old)} as "
                        f"select * from {_ident(schema)}.{_ident(new)}"
                    )
                through = now_utc()
                conn.execute(
                    f"create table {_ident(schema)}.{PUBLICATION_TABLE} as select "
                    "?::text as run_id, ?::text as as_of_period, ?::timestamptz as built_at, "
                    "?::text as row_counts",
                    [run_id, period, through, json.dumps(row_counts, sort_keys=True)],
                )
                for name, query in source_queries.items():
                    # rows committed after this statement began belong to the next run
                    conn.execute(
                        f"create table {_ident(schema)}.{_ident(SOURCE_PREFIX + name)} as "
                        + query.replace("{since}", "?::timestamptz"),
                        [since] * query.count("{since}"),
                    )
                for table in [PUBLICATION_TABLE, *(SOURCE_PREFIX + n for n in source_queries)]:
                    # made here, not by dbt: their statistics too (the gate queries them)
                    conn.execute(f"analyze {_ident(schema)}.{_ident(table)}")
        return Candidate(self.name, schema, run_id, period, row_counts, through.isoformat())

    def kept_candidate(self, run_id: str) -> str | None:
        schema = schema_for(CANDIDATE_PREFIX, run_id)
        with closing(self.raw()) as conn:
            return f"schema {schema}" if schema in self._schemas(conn, schema) else None

    def candidate_facts(self, candidate: Candidate) -> tuple[str | None, list[str]]:
        with closing(self.raw()) as conn:
            schema = _ident(candidate.location)
            first = conn.execute(
                f"select min(period) from {schema}.indicator_observations"
            ).fetchone()[0]
            tables = [
                table
                for table in self._tables(conn, candidate.location)
                if not table.startswith(SOURCE_PREFIX)
            ]
        return first, tables

    def publications(self, last: int | None = None) -> list[dict]:
        with closing(self.raw()) as conn:
            conn.execute(META_DDL)
            rows = conn.execute(
                f"select record from {META_SCHEMA}.publications order by published_at, run_id"
            ).fetchall()
        records = [json.loads(row[0]) for row in rows]
        return records[-last:] if last else records

    def kept_versions(self) -> list[str]:
        with closing(self.raw()) as conn:
            return [
                conn.execute(f"select run_id from {_ident(name)}.{PUBLICATION_TABLE}").fetchone()[0]
                for name in self._schemas(conn, KEPT_PREFIX)
            ]

    def _publish_schema(self, conn, schema: str, record: dict) -> None:
        """In the caller's transaction: keep ``published`` under its run id, rename
        ``schema`` to ``published``, grant the reader role, record the publication."""
        conn.execute(META_DDL)
        if PUBLISHED in self._schemas(conn, PUBLISHED):
            current = conn.execute(f"select run_id from {PUBLISHED}.{PUBLICATION_TABLE}")
            kept = schema_for(KEPT_PREFIX, current.fetchone()[0])
            conn.execute(f"drop schema if exists {_ident(kept)} cascade")
            conn.execute(f"alter schema {PUBLISHED} rename to {_ident(kept)}")
        kill_point("publish_before_replace")
        conn.execute(f"alter schema {_ident(schema)} rename to {PUBLISHED}")
        if (
            conn.execute("select 1 from pg_roles where rolname = ?", [READER_ROLE]).fetchone()
            is None
        ):
            conn.execute(f"create role {READER_ROLE} nologin")
        conn.execute(f"grant usage on schema {PUBLISHED} to {READER_ROLE}")
        conn.execute(f"grant select on all tables in schema {PUBLISHED} to {READER_ROLE}")
        conn.execute(
            f"insert into {META_SCHEMA}.publications values (?, ?, ?, ?)",
            [now_utc(), record["run_id"], record["as_of_period"], dumps(record)],
        )
        for old in self._schemas(conn, KEPT_PREFIX)[: -self.settings.keep_versions]:
            conn.execute(f"drop schema {_ident(old)} cascade")

    def publish(self, candidate: Candidate, record: dict) -> str:
        schema = candidate.location
        full = self.publication_record(candidate, record)
        with closing(self.raw()) as conn, transaction(conn):
            if schema not in self._schemas(conn, CANDIDATE_PREFIX):
                raise PublishError(f"candidate schema {schema} is gone; not published")
            for table, expected in candidate.row_counts.items():
                found = conn.execute(
                    f"select count(*) from {_ident(schema)}.{_ident(table)}"
                ).fetchone()[0]
                if found != expected:
                    raise PublishError(
                        f"candidate table {table} has {found} rows, expected {expected}; "
                        "not published"
                    )
            for table in self._tables(conn, schema):
                if table.startswith(SOURCE_PREFIX):  # audited; raw keeps the rows
                    conn.execute(f"drop table {_ident(schema)}.{_ident(table)}")
            self._publish_schema(conn, schema, full)
            # candidates of earlier runs were rejected or overtaken: superseded now
            for stale in self._schemas(conn, CANDIDATE_PREFIX):
                if stale < schema:
                    conn.execute(f"drop schema {_ident(stale)} cascade")
        return self.published_location

    def rollback(self, run_id: str | None = None) -> dict:
        current = self.last_publication()
        kept = [name for name in self.kept_versions() if not current or name != current["run_id"]]
        if not kept:
            raise PublishError("no earlier published schema to roll back to")
        chosen = kept[-1] if run_id is None else run_id
        if chosen not in kept:
            raise PublishError(f"no kept version {run_id!r}; kept: {', '.join(kept)}")
        with closing(self.raw()) as conn, transaction(conn):
            schema = _ident(schema_for(KEPT_PREFIX, chosen))
            info = conn.execute(
                f"select run_id, as_of_period, row_counts from {schema}.{PUBLICATION_TABLE}"
            ).fetchone()
            # the kept schema leaves the kept list: it is what is published again
            staging = schema_for(CANDIDATE_PREFIX + "rollback_", chosen)
            conn.execute(f"alter schema {schema} rename to {_ident(staging)}")
            record = self.rollback_record(info, current)
            self._publish_schema(conn, staging, record)
        return record

    @contextmanager
    def published(self) -> Iterator[PublishedReader]:
        if not self.has_published():
            raise self.nothing_published()
        with closing(PgConnection(self.settings.postgres, search_path=PUBLISHED)) as conn:
            conn.execute("begin transaction isolation level repeatable read read only")
            tables = [table for table in self._tables(conn, PUBLISHED) if not table.startswith("_")]
            yield PublishedReader(conn, tables)

    def gx_connection_string(self) -> str:
        """The SQLAlchemy URL Great Expectations connects with: the password as
        ``${CHISO_PG_PASSWORD}``, which it fills in from the environment itself (set while
        it validates: :meth:`gx_environment`); the password never sits in its configuration."""
        pg = self.settings.postgres
        secret = ":${CHISO_PG_PASSWORD}" if pg.password else ""
        return f"postgresql+psycopg2://{pg.user}{secret}@{pg.host}:{pg.port}/{pg.dbname}"

    def gx_environment(self) -> dict[str, str]:
        return {"CHISO_PG_PASSWORD": self.settings.postgres.password}
