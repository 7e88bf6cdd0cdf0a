"""What a warehouse backend does for the pipeline: one interface, two implementations.

The pipeline (``chiso.pipeline``) never asks which engine it runs on. It asks the backend
to open the raw schema for loading, run ``dbt build``, set the built marts aside as the
run's *candidate*, tell the gate where that candidate is, publish it atomically, roll a
publication back, and list the publications so far. Snapshots, exports, the report and
``chiso status`` read what is published through :meth:`Warehouse.published`.

- DuckDB (:mod:`warehouse.backends.duckdb`): the candidate is a file of its own, publication
  an ``os.replace`` of the published file, the earlier files kept as hard links;
  publications are recorded in ``publications.jsonl``.
- PostgreSQL (:mod:`warehouse.backends.postgres`): the candidate is a schema of its own,
  publication renames schemas in one transaction, the earlier ``published`` schemas are
  kept under their run ids; publications are recorded in ``chiso_meta.publications``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from warehouse.build import (
    BuildResult,
    NodeDone,
    dbt_build,
    needs_full_refresh,
    project_fingerprint,
    record_build,
)
from warehouse.errors import ChisoError
from warehouse.settings import Settings

MARTS_SCHEMA = "marts"
PUBLICATION_TABLE = "_publication"
SOURCE_PREFIX = "_source__"  # raw rows for the gate, written beside a candidate's marts
# Marts renamed under the naming rule (docs/MARTS.md, "Names"): a publication keeps each
# old name as a view of the renamed table until release 0.3.0, so a reader's own query or
# dashboard goes on working while it moves to the new name
RENAMED_MARTS = {  # old name -> new name
    "fct_indicator_observations": "indicator_observations",
    "fct_figure_revisions": "figure_revisions",
    "admin_unit_crosswalk": "dim_admin_unit_crosswalk",
}


def deprecated_views(tables) -> list[tuple[str, str]]:
    """(old name, new name) of each renamed mart among ``tables``: the views to publish."""
    return [(old, new) for old, new in RENAMED_MARTS.items() if new in tables]


class WarehouseError(ChisoError):
    """The warehouse cannot be used (unreachable, nothing published yet); the message says
    what to do, and never holds a password."""


class PublishError(WarehouseError):
    """A candidate cannot be published (or a version restored); what is published is
    unchanged."""


@dataclass(frozen=True)
class Candidate:
    """A run's built marts, set aside for the gate: a file (DuckDB) or a schema (PostgreSQL)."""

    backend: str
    location: str
    run_id: str
    period: str
    row_counts: dict[str, int]
    sources_through: str | None = None  # raw rows loaded until then went to the gate

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Candidate:
        return cls(**data)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def order_by_every_column(count: int) -> str:
    """``order by 1, 2, ..., n``: a stable row order on either engine."""
    return "order by " + ", ".join(str(i) for i in range(1, count + 1))


class PublishedReader:
    """Read-only access to what is published, the same on both engines: tables by their
    bare names, ``?`` placeholders, DB-API cursors."""

    def __init__(self, conn, tables: list[str]):
        self.conn = conn
        self.tables = tables  # the marts, without the _publication table

    def execute(self, sql: str, parameters: list | None = None):
        return self.conn.execute(sql, parameters) if parameters else self.conn.execute(sql)

    def publication(self) -> dict:
        run_id, period, built_at = self.execute(
            f"select run_id, as_of_period, built_at from {PUBLICATION_TABLE}"
        ).fetchone()
        return {"run_id": run_id, "as_of_period": period, "built_at": built_at}

    def rows(self, table: str):
        """A cursor over every row of ``table`` in a stable order."""
        columns = self.execute(f'select * from "{table}" limit 0').description
        return self.execute(f'select * from "{table}" {order_by_every_column(len(columns))}')

    def write_parquet(self, table: str, path) -> None:
        """``table``'s rows, in a stable order, as a Parquet file."""
        import duckdb

        cursor = self.rows(table)
        columns = [column[0] for column in cursor.description]
        import pandas as pd

        frame = pd.DataFrame(cursor.fetchall(), columns=columns)  # noqa: F841 (read by SQL)
        with closing(duckdb.connect()) as local:
            local.execute("copy (select * from frame) to ? (format parquet)", [str(path)])


@dataclass(frozen=True)
class Dataset:
    """A table as lineage names it (OpenLineage's dataset naming: a namespace for the
    server or file, ``database.schema.table``), as dbt's lineage names its models."""

    namespace: str
    name: str


class Warehouse(ABC):
    """The warehouse the pipeline writes and BI tools read, on one engine."""

    name: str
    #: Great Expectations validates in the database, through its SQL engine (else, on
    #: frames read from the candidate: its SQL engine fails on some engines)
    validates_in_database: bool = False

    def __init__(self, settings: Settings):
        self.settings = settings

    @abstractmethod
    def exists(self) -> bool:
        """Whether the work warehouse is there yet (a new data directory has none: the
        first run makes it)."""

    # -- readers ------------------------------------------------------------------------
    def gx_environment(self) -> dict[str, str]:
        """What Great Expectations' connection string refers to (``${...}``), to set while
        it validates in the database (:attr:`validates_in_database`)."""
        return {}

    @abstractmethod
    def query_hint(self, query: str) -> list[str]:
        """How a person runs ``query`` on what is published, a line each."""

    @abstractmethod
    def reader_uri(self, login: str) -> tuple[str, dict]:
        """The SQLAlchemy URI a BI tool reads what is published with, as ``login`` where the
        engine has logins (its password as ``{password}``), and its engine parameters."""

    # -- loading ------------------------------------------------------------------------
    @abstractmethod
    def raw(self):
        """A connection to load ``raw`` with (``execute``/``executemany`` with ``?``
        placeholders, ``begin transaction``/``commit``/``rollback`` statements); the caller
        closes it."""

    # -- building -----------------------------------------------------------------------
    def build(
        self, period: str, full_refresh: bool = False, on_node: NodeDone | None = None
    ) -> BuildResult:
        """``dbt build`` as of ``period`` on this engine (seeds, models, dbt tests), with a
        sample of each failing test's rows in its message. The incremental models build
        only the months whose inputs changed, unless ``full_refresh`` or the project
        changed since the last build (:func:`warehouse.build.project_fingerprint`).
        ``on_node`` hears of each node dbt finishes (progress)."""
        fingerprint = project_fingerprint(self.settings)
        with closing(self.raw()) as conn:
            full_refresh = needs_full_refresh(conn, fingerprint) or full_refresh
            figures = self.figure_count(conn)
        try:
            build = dbt_build(self.settings, period, full_refresh, on_node, figures)
        finally:
            self.release_dbt()
        if not build.skipped:  # every model built, with this project
            with closing(self.raw()) as conn:
                record_build(conn, fingerprint)
        build.full_refresh = full_refresh
        return self.with_failing_rows(build)

    def release_dbt(self) -> None:
        """Let go of what dbt's adapter keeps open in this process after an invocation
        (nothing here: an engine whose adapter keeps its database open says so)."""
        return None

    def with_failing_rows(self, build: BuildResult, limit: int = 3) -> BuildResult:
        failed = [t for t in build.tests if t.status in ("fail", "warn") and t.failures_relation]
        if not failed:
            return build
        with closing(self.raw()) as conn:
            samples = {}
            for test in failed:
                relation = test.failures_relation.split(".", 1)[-1]  # drop the database name
                cursor = conn.execute(f"select * from {relation} limit {int(limit)}")
                columns = [c[0] for c in cursor.description]
                rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
                samples[test.name] = f"failing rows (sample): {rows}"
        build.tests = [
            replace(t, message=f"{t.message} {samples[t.name]}".strip()) if t.name in samples else t
            for t in build.tests
        ]
        return build

    # -- write, audit, publish ----------------------------------------------------------
    @abstractmethod
    def write_candidate(
        self, run_id: str, period: str, source_queries: dict[str, str]
    ) -> Candidate:
        """Set the built marts aside as ``run_id``'s candidate, with a ``_publication`` row,
        and beside them the rows of each ``source_queries`` query (``{since}`` is the last
        publication's cut): what the gate's raw-source suites check."""

    @abstractmethod
    def kept_candidate(self, run_id: str) -> str | None:
        """Where a run's candidate the gate rejected is kept for inspection, if it is."""

    @abstractmethod
    def candidate_facts(self, candidate: Candidate) -> tuple[str | None, list[str]]:
        """The first month of the candidate's observations, and its tables."""

    @abstractmethod
    def publish(self, candidate: Candidate, record: dict) -> str:
        """Swap the audited candidate in atomically, record the publication (``record``
        adds the suites' versions and the gate's summary); return where it is published."""

    @abstractmethod
    def rollback(self, run_id: str | None = None) -> dict:
        """Put a kept publication back (default: the one before the current); recorded as
        a publication of its own. Returns its record."""

    @abstractmethod
    def publications(self, last: int | None = None) -> list[dict]:
        """The records of the publications so far, oldest first (the last ``last``)."""

    @abstractmethod
    def kept_versions(self) -> list[str]:
        """Run ids of the earlier publications kept for rollback, oldest first."""

    @abstractmethod
    def has_published(self) -> bool:
        """Whether anything is published yet."""

    def figure_count(self, conn) -> int:
        """The figures in raw, which the memory budget's split depends on."""
        return conn.execute("select count(*) from raw.unit_report_values").fetchone()[0]

    def candidate_bytes(self) -> int:
        """Disk a new candidate takes beside what is published (none where the candidate
        is the built marts themselves, renamed)."""
        return 0

    @abstractmethod
    @contextmanager
    def published(self) -> Iterator[PublishedReader]:
        """Read what is published (raises PublishError when nothing is)."""

    @property
    @abstractmethod
    def published_location(self) -> str:
        """Where BI tools read: a file path or ``schema published of host/db``."""

    # -- lineage ------------------------------------------------------------------------
    @abstractmethod
    def dataset(self, schema: str, table: str) -> Dataset:
        """A table of the working warehouse (``raw``, dbt's schemas)."""

    @abstractmethod
    def candidate_dataset(self, candidate: Candidate, table: str) -> Dataset:
        """A table of a candidate, set aside for the gate."""

    @abstractmethod
    def published_dataset(self, table: str) -> Dataset:
        """A table of what is published, as BI tools read it."""

    # the engine's hash of a row ``t``, which the gate sums per month to find the months a
    # candidate changed (expectations.suites.changed_partitions_query)
    row_hash: str

    def audited_baseline(self, suites: dict[str, str]) -> str | None:
        """What is published (a file, a schema), when the suites that passed it are the ones
        in force now: the gate then re-checks row by row only the months a candidate
        changed, and compares the rest with it by their row counts and hashes."""
        previous = self.last_publication()
        if previous is None or previous.get("suites") != suites or not self.has_published():
            return None
        return self.baseline_location

    @property
    @abstractmethod
    def baseline_location(self) -> str:
        """What is published as the gate's runners name it: a file's path, a schema."""

    def last_publication(self) -> dict | None:
        recent = self.publications(last=1)
        return recent[-1] if recent else None

    def since(self) -> str:
        """The cut of the last publication: raw rows loaded after it are new to the gate."""
        previous = self.last_publication() or {}
        return previous.get("sources_through") or previous.get("published_at") or "1970-01-01"

    def nothing_published(self) -> PublishError:
        return PublishError(
            f"nothing is published yet ({self.published_location}): run chiso run first"
        )

    def rollback_record(self, publication: tuple, current: dict | None) -> dict:
        """The record of a rollback to a kept publication, from its ``_publication`` row
        (run id, month, row counts as JSON)."""
        run_id, period, row_counts = publication
        return {
            "run_id": run_id,
            "as_of_period": period,
            "published_at": now_utc().isoformat(timespec="seconds"),
            "path": self.published_location,
            "row_counts": json.loads(row_counts),
            "rollback_of": current["run_id"] if current else None,
        }

    def publication_record(self, candidate: Candidate, record: dict) -> dict:
        return {
            "run_id": candidate.run_id,
            "as_of_period": candidate.period,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "path": self.published_location,
            "row_counts": candidate.row_counts,
            "sources_through": candidate.sources_through,
            **record,
        }


def now_utc() -> datetime:
    return datetime.now(UTC)


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
