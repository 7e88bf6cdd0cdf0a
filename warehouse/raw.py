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
    numerator         double,
    denominator       double,
    reported_value    double,
    note              varchar,
    load_id           varchar not null,
    primary key (file_sha256, source_row)
);

-- added after the first release: older warehouses get them here
alter table raw.unit_report_files add column if not exists received_at timestamptz;
alter table raw.unit_report_files add column if not exists sheet varchar;
alter table raw.unit_report_values add column if not exists received_at timestamptz;
alter table raw.unit_report_values add column if not exists sheet varchar;
"""


def connect(path: Path, read_only: bool = False):
    """Open a DuckDB file (imported here so callers stay light until they need it)."""
    import duckdb

    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def ensure_raw_schema(conn) -> None:
    conn.execute(RAW_DDL)
