"""Write-audit-publish on DuckDB files (the embedded default).

1. :meth:`DuckDBWarehouse.write_candidate` copies every table of the work warehouse's
   ``marts`` schema into a candidate file of the run's own
   (``published/candidates/<run id>.duckdb``), with a ``_publication`` table, and the raw
   rows the source suites check beside it (``<run id>.sources.duckdb``).
2. The gate audits that candidate file.
3. :meth:`DuckDBWarehouse.publish` re-opens the candidate, checks it is complete, and
   ``os.replace``-s it over the published file: readers see the whole old file or the whole
   new one, never a mix. A failed gate never reaches step 3, so the published file stays
   byte-for-byte as it was; its candidate stays for inspection until a later run publishes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from warehouse.backends import FILE_ROW_HASH
from warehouse.backends.base import (
    MARTS_SCHEMA,
    PUBLICATION_TABLE,
    Candidate,
    Dataset,
    PublishedReader,
    PublishError,
    Warehouse,
    deprecated_views,
    dumps,
    now_utc,
    sql_string,
)
from warehouse.faults import kill_point


def connect(path: Path, read_only: bool = False, config: dict | None = None):
    """Open a DuckDB file (its folder made when it is to be written) with DuckDB's
    ``config`` settings."""
    import duckdb

    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only, config=config or {})


def base_tables(conn, schema: str = "main") -> list[str]:
    """The tables of ``schema`` in a DuckDB connection's database, not its views (the
    renamed marts' old names) nor its tables named with a leading ``_`` (the publication
    record), by name."""
    return [
        row[0]
        for row in conn.execute(
            "select table_name from information_schema.tables where table_schema = ? "
            "and table_catalog = current_database() and table_type = 'BASE TABLE' "
            "and table_name not like '\\_%' escape '\\' order by table_name",
            [schema],
        ).fetchall()
    ]


def sources_path(candidate: Path) -> Path:
    """Beside a candidate, the raw rows its source suites check."""
    return candidate.with_name(candidate.name.replace(".duckdb", ".sources.duckdb"))


@contextmanager
def read_candidate(path: Path, baseline: Path | None = None, config: dict | None = None):
    """A candidate file opened read-only for the gate's frames, with DuckDB's ``config``
    (the gate's share of the budget: warehouse/budget.py): ``baseline`` (the published
    file the same suites audited) attached as ``baseline`` when given and there, the raw
    rows written with the candidate attached as ``sources`` when there. Yields (the
    connection, whether a baseline is attached, the sources file)."""
    if config and config.get("temp_directory"):
        Path(config["temp_directory"]).mkdir(parents=True, exist_ok=True)
    with closing(connect(path, read_only=True, config=config)) as conn:
        attached = baseline is not None and baseline.exists()
        if attached:
            conn.execute(f"attach '{baseline}' as baseline (read_only)")
        sources = sources_path(path)
        if sources.exists():
            conn.execute(f"attach '{sources}' as sources (read_only)")
        yield conn, attached, sources


def file_facts(path: Path) -> tuple[str | None, list[str]]:
    """The first month of a marts file's observations, and its tables."""
    with closing(connect(path, read_only=True)) as conn:
        first = conn.execute("select min(period) from main.indicator_observations")
        return first.fetchone()[0], base_tables(conn)


def file_dataset(path: Path, schema: str, table: str) -> Dataset:
    """A table of a DuckDB file, named as dbt's lineage names it: the file's path, then its
    catalog (the file's stem), schema and table."""
    return Dataset(f"duckdb://{path}", f"{path.stem}.{schema}.{table}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DuckDBWarehouse(Warehouse):
    name = "duckdb"
    row_hash = FILE_ROW_HASH

    def exists(self) -> bool:
        return self.settings.warehouse_path.exists()

    def query_hint(self, query: str) -> list[str]:
        return [
            f'{sys.executable} -c "import duckdb; print(duckdb.connect('
            f"'{self.published_location}', read_only=True).sql('{query}'))\""
        ]

    def reader_uri(self, login: str) -> tuple[str, dict]:
        # a file has no logins; the reader opens it read-only, a connection per query (so
        # the query after a publication reads the new file)
        return f"duckdb:///{self.settings.published_path}?access_mode=read_only", {}

    def raw(self):
        """The work warehouse, within DuckDB's share of the run's budget (it spills into
        its own ``<warehouse>.tmp``, as dbt's does): a candidate's copy of the national
        marts took 6 GiB without it."""
        return self._within_budget(connect(self.settings.warehouse_path))

    def _within_budget(self, conn):
        """``conn`` limited to DuckDB's share of the run's budget (SET, not a connection's
        config: the spill room in it changes, and a file open twice in one process must be
        opened with one config)."""
        from warehouse.budget import run_budget

        for name, value in run_budget(self.settings).duckdb_settings().items():
            conn.execute(f"set {name} = '{value}'")
        return conn

    def release_dbt(self) -> None:
        """dbt-duckdb keeps its database open in the process after ``dbt build``, for a
        next invocation: its buffers, up to DuckDB's share of the budget, would stay
        resident while the candidate is copied and the gate's worker holds its own, and no
        other process could open the file. Closed here (dbt opens it again when asked)."""
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager

        with manager._LOCK:  # dbt-duckdb's own lock around its process-wide environment
            environment, manager._ENV = manager._ENV, None
        if environment is not None:
            environment.close()

    @property
    def published_location(self) -> str:
        return str(self.settings.published_path)

    def dataset(self, schema: str, table: str) -> Dataset:
        return file_dataset(self.settings.warehouse_path, schema, table)

    def candidate_dataset(self, candidate: Candidate, table: str) -> Dataset:
        return file_dataset(Path(candidate.location), "main", table)

    def published_dataset(self, table: str) -> Dataset:
        return file_dataset(self.settings.published_path, "main", table)

    @property
    def _log(self) -> Path:
        return self.settings.published_path.with_name("publications.jsonl")

    def has_published(self) -> bool:
        return self.settings.published_path.exists()

    def candidate_bytes(self) -> int:
        """A candidate is a new file of the marts: about the size of the published one
        (the work warehouse's, before the first publication)."""
        for path in (self.settings.published_path, self.settings.warehouse_path):
            if path.exists():
                return path.stat().st_size
        return 0

    def write_candidate(self, run_id: str, period: str, source_queries: dict[str, str]):
        candidate = self.settings.candidate_path(run_id)
        candidate.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (candidate, candidate.with_name(candidate.name + ".wal")):
            leftover.unlink(missing_ok=True)  # a retried task starts its candidate afresh
        with closing(self.raw()) as conn:
            tables = base_tables(conn, MARTS_SCHEMA)
            if not tables:
                raise PublishError(f"the warehouse has no tables in schema '{MARTS_SCHEMA}'")
            conn.execute(f"attach {sql_string(str(candidate))} as candidate")
            row_counts = {}
            for table in tables:
                conn.execute(
                    f'create table candidate.main."{table}" as '
                    f'select * from {MARTS_SCHEMA}."{table}"'
                )
                row_counts[table] = conn.execute(
                    f'select count(*) from candidate.main."{table}"'
                ).fetchone()[0]
                kill_point("candidate_mid_write")
            for old, new in deprecated_views(tables):
                # bound in the file's own catalog: it reads main."new" wherever it is opened
                conn.execute(f'create view candidate.main."{old}" as select * from main."{new}"')
            conn.execute(
                f"create table candidate.main.{PUBLICATION_TABLE} as select "
                "? as run_id, ? as as_of_period, ?::timestamptz as built_at, ? as row_counts",
                [run_id, period, now_utc(), json.dumps(row_counts, sort_keys=True)],
            )
            conn.execute("detach candidate")
            through = self._write_sources(conn, candidate, source_queries)
        return Candidate(self.name, str(candidate), run_id, period, row_counts, through)

    def _write_sources(self, conn, candidate: Path, queries: dict[str, str]) -> str:
        """The rows loaded since the last publication's cut, which the gate has not seen.
        Returns this cut: this connection is the only writer, so every row loaded until now
        is in. (Not the publication time: in Airflow an ingest task may load between the
        candidate and the publish tasks; its rows belong to the next run.)"""
        path = sources_path(candidate)
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)  # a retried task writes them afresh
        since = self.since()
        through = now_utc().isoformat()
        conn.execute(f"attach {sql_string(str(path))} as sources")
        try:
            for name, query in queries.items():
                conn.execute(
                    f'create table sources.main."{name}" as '
                    + query.replace("{since}", f"{sql_string(since)}::timestamptz")
                )
        finally:
            conn.execute("detach sources")
        return through

    def kept_candidate(self, run_id: str) -> str | None:
        path = self.settings.candidate_path(run_id)
        return str(path) if path.exists() else None

    def candidate_facts(self, candidate: Candidate) -> tuple[str | None, list[str]]:
        return file_facts(Path(candidate.location))

    @property
    def baseline_location(self) -> str:
        return str(self.settings.published_path)

    def publications(self, last: int | None = None) -> list[dict]:
        if not self._log.exists():
            return []
        lines = [line for line in self._log.read_text(encoding="utf-8").splitlines() if line]
        return [json.loads(line) for line in lines[-last if last else 0 :]]

    def _append(self, record: dict) -> None:
        with open(self._log, "a", encoding="utf-8") as handle:
            handle.write(dumps(record) + "\n")

    def kept_versions(self) -> list[str]:
        current = self.last_publication()
        return [
            path.stem
            for path in sorted(self.settings.versions_dir.glob("*.duckdb"))
            if current is None or path.stem != current["run_id"]  # a publish killed midway
        ]

    def _keep_version(self) -> None:
        """Keep the file about to be replaced under versions/<its run id>.duckdb (a hard
        link: no copy), and only the last ``keep_versions`` of them."""
        previous = self.last_publication()
        target = self.settings.published_path
        if previous is None or not target.exists():
            return
        versions = self.settings.versions_dir
        versions.mkdir(parents=True, exist_ok=True)
        kept = versions / f"{previous['run_id']}.duckdb"
        if not kept.exists():
            os.link(target, kept)
        for old in sorted(versions.glob("*.duckdb"))[: -self.settings.keep_versions]:
            old.unlink(missing_ok=True)

    def _swap_in(self, source: Path) -> None:
        with open(source, "rb") as handle:
            os.fsync(handle.fileno())
        self._keep_version()
        pause = self.settings.fault_pause_before_replace
        if pause:  # fault injection for tests: a process killed here must change nothing
            time.sleep(pause)
        kill_point("publish_before_replace")
        os.replace(source, self.settings.published_path)
        _fsync_dir(self.settings.published_path.parent)

    def publish(self, candidate: Candidate, record: dict) -> str:
        path = Path(candidate.location)
        with closing(connect(path, read_only=True)) as conn:
            for table, expected in candidate.row_counts.items():
                found = conn.execute(f'select count(*) from main."{table}"').fetchone()[0]
                if found != expected:
                    raise PublishError(
                        f"candidate table {table} has {found} rows, expected {expected}; "
                        "not published"
                    )
        self._swap_in(path)
        sources_path(path).unlink(missing_ok=True)  # audited; raw keeps the rows
        # candidates of earlier runs were rejected or overtaken: this one supersedes them
        for stale in self.settings.candidate_dir.glob("*.duckdb*"):
            if stale.name.split(".")[0] < candidate.run_id:
                stale.unlink(missing_ok=True)
        self._append(self.publication_record(candidate, record))
        return self.published_location

    def rollback(self, run_id: str | None = None) -> dict:
        current = self.last_publication()
        versions = [self.settings.versions_dir / f"{run}.duckdb" for run in self.kept_versions()]
        if not versions:
            raise PublishError(
                f"no earlier version to roll back to in {self.settings.versions_dir}"
            )
        if run_id is None:
            chosen = versions[-1]
        else:
            chosen = self.settings.versions_dir / f"{run_id}.duckdb"
            if not chosen.exists():
                names = ", ".join(path.stem for path in versions)
                raise PublishError(f"no kept version {run_id!r}; kept: {names}")
        staging = self.settings.candidate_dir / f"rollback-{chosen.name}"
        staging.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chosen, staging)
        with closing(connect(staging, read_only=True)) as conn:
            info = conn.execute(
                f"select run_id, as_of_period, row_counts from {PUBLICATION_TABLE}"
            ).fetchone()
        self._swap_in(staging)
        record = self.rollback_record(info, current)
        self._append(record)
        return record

    @contextmanager
    def published(self) -> Iterator[PublishedReader]:
        if not self.has_published():
            raise self.nothing_published()
        # within DuckDB's share of the budget: the snapshot sorts every mart, and DuckDB's
        # default is 80 % of the machine
        conn = connect(self.settings.published_path, read_only=True)
        with closing(self._within_budget(conn)):
            yield DuckDBReader(conn, base_tables(conn))


class DuckDBReader(PublishedReader):
    def write_parquet(self, table: str, path) -> None:
        columns = self.execute(f'select * from main."{table}" limit 0').description
        order = ", ".join(str(i) for i in range(1, len(columns) + 1))
        self.execute(
            f'copy (select * from main."{table}" order by {order}) to ? (format parquet)',
            [str(path)],
        )
