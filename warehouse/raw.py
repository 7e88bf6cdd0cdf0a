"""The raw schema: typed copies of landed inputs, each row carrying its lineage.

Raw tables are append-only per file: a file (identified by its sha256) is loaded once, in
one transaction, so a retried or re-run ingest never duplicates rows.
"""

from __future__ import annotations

from pathlib import Path

RAW_DDL = """
create schema if not exists raw;

create table if not exists raw.unit_report_files (
    file_sha256       varchar primary key,
    source_file_name  varchar not null,
    landed_path       varchar not null,
    file_format       varchar not null,
    unit_code         varchar not null,
    period            varchar not null,
    reporter          varchar,
    sent_on           date,
    row_count         integer not null,
    load_id           varchar not null,
    loaded_at         timestamptz not null
);

create table if not exists raw.unit_report_values (
    file_sha256       varchar not null,
    source_row        integer not null,
    source_file_name  varchar not null,
    unit_code         varchar not null,
    period            varchar not null,
    sent_on           date,
    indicator_code    varchar not null,
    numerator         double precision,
    denominator       double precision,
    reported_value    double precision,
    note              varchar,
    load_id           varchar not null,
    primary key (file_sha256, source_row)
);

-- one row per quarantine folder (a rejected file, by its bytes and the name it came under),
-- rebuilt from the folders' errors.json: the quarantine is the truth
create table if not exists raw.unit_report_quarantine (
    quarantine_path   varchar primary key,  -- under the quarantine area: unit_files/<folder>
    file_sha256       varchar not null,
    source_file_name  varchar not null,
    unit_code         varchar,
    period            varchar,
    received_at       timestamptz,
    error_count       integer not null,
    first_error_vi    varchar,
    first_error_en    varchar
);
-- its first form, keyed by the file hash alone (one folder for the same bytes under two
-- names): derived from the quarantine like its successor, so dropped, never migrated
drop table if exists raw.unit_report_rejections;

-- added after the first release: older warehouses get them here
alter table raw.unit_report_files add column if not exists received_at timestamptz;
alter table raw.unit_report_files add column if not exists sheet varchar;
alter table raw.unit_report_values add column if not exists received_at timestamptz;
alter table raw.unit_report_values add column if not exists sheet varchar;

-- The one statement of which submission counts when a unit sends a month's report more
-- than once (a correction): the file received last wins as a whole (then the later "date
-- sent", then the file hash, so the choice is deterministic), so a figure the correction
-- no longer has is withdrawn with the rest. dbt's staging reads it as a source; the inbox's
-- jump warnings compare with its rank 1. Superseded rows stay in raw and in history.
create or replace view raw.unit_report_submissions as
with submitted_files as (
    -- every file the figures came from, as the figures say (a figure loaded by another
    -- path than the inbox still ranks, and still meets the tests)
    select distinct file_sha256, unit_code, period, received_at, sent_on
    from raw.unit_report_values
),
ranked_files as (
    select
        file_sha256,
        unit_code,
        period,
        count(*) over (partition by unit_code, period) as submission_count,
        row_number() over (
            partition by unit_code, period
            order by received_at desc nulls last, sent_on desc nulls last, file_sha256 desc
        ) as submission_rank
    from submitted_files
)
select
    unit_report_values.*,
    ranked_files.submission_count,
    ranked_files.submission_rank
from raw.unit_report_values
inner join ranked_files
    on
        unit_report_values.file_sha256 = ranked_files.file_sha256
        and unit_report_values.unit_code = ranked_files.unit_code
        and unit_report_values.period = ranked_files.period;
"""


def insert_rows(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Append ``rows`` (tuples in ``columns`` order) to ``table`` in the caller's
    transaction: a COPY on PostgreSQL, a scan of a data frame on DuckDB."""
    if not rows:
        return
    if hasattr(conn, "insert_rows"):  # PostgreSQL (warehouse.backends.postgres.PgConnection)
        conn.insert_rows(table, columns, rows)
        return
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns, dtype=object)  # noqa: F841 (read by SQL)
    names = ", ".join(f'"{column}"' for column in columns)
    conn.execute(f"insert into {table} ({names}) select {names} from frame")


def table_columns(conn, schema: str, table: str) -> list[str]:
    """A table's columns in order, on either engine."""
    return [
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def connect(path: Path, read_only: bool = False):
    """Open a DuckDB file (imported here so callers stay light until they need it)."""
    import duckdb

    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def ensure_raw_schema(conn) -> None:
    conn.execute(RAW_DDL)


def load_rejections(conn, quarantine_root: Path) -> int:
    """Record every quarantine folder (its errors.json) in raw.unit_report_quarantine; the
    folders are the truth, so a crash between the two loses nothing."""
    import json

    known = {
        row[0]
        for row in conn.execute("select quarantine_path from raw.unit_report_quarantine").fetchall()
    }
    rows = []
    for report_path in sorted(quarantine_root.glob("*/errors.json")):
        # relative to the quarantine area, so a data directory moved or copied elsewhere
        # keeps its keys (and its rejections are not counted twice)
        folder = str(report_path.parent.relative_to(quarantine_root.parent))
        if folder in known:
            continue
        report = json.loads(report_path.read_text(encoding="utf-8"))
        first = (report["errors"] or [{}])[0]
        rows.append(
            (
                folder,
                report["sha256"],
                report["file"],
                report.get("unit_code"),
                report.get("period"),
                report.get("received_at"),
                len(report["errors"]),
                first.get("vi"),
                first.get("en"),
            )
        )
    if rows:
        conn.executemany(
            "insert into raw.unit_report_quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    return len(rows)


# the monthly figures a run can be about: what they are -> (raw table, which rows)
MONTHLY_SOURCES = {
    "unit report files": ("unit_report_files", "true"),
    "index-766 scores": ("portal_766_scores", "period_kind = 'month'"),
}


def figures_in_month(conn, period: str) -> dict[str, int]:
    """How many rows each monthly source holds for a month (0 where a table is missing)."""
    counts = {}
    for source, (table, rows) in MONTHLY_SOURCES.items():
        counts[source] = (
            conn.execute(
                f"select count(*) from raw.{table} where {rows} and period = ?", [period]
            ).fetchone()[0]
            if table_columns(conn, "raw", table)
            else 0
        )
    return counts


def latest_month_with_figures(conn) -> str | None:
    """The latest month any monthly source has figures for."""
    months = [
        conn.execute(f"select max(period) from raw.{table} where {rows}").fetchone()[0]
        for table, rows in MONTHLY_SOURCES.values()
        if table_columns(conn, "raw", table)
    ]
    return max((month for month in months if month), default=None)
