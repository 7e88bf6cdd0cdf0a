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

create table if not exists raw.unit_report_rejections (
    file_sha256       varchar primary key,
    source_file_name  varchar not null,
    unit_code         varchar,
    period            varchar,
    received_at       timestamptz,
    error_count       integer not null,
    first_error_vi    varchar,
    first_error_en    varchar,
    quarantine_path   varchar not null
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


def load_rejections(conn, quarantine_root: Path) -> int:
    """Record every quarantined report file (its errors.json) in raw.unit_report_rejections;
    the quarantine folder is the truth, so a crash between the two loses nothing."""
    import json

    known = {
        row[0]
        for row in conn.execute("select file_sha256 from raw.unit_report_rejections").fetchall()
    }
    rows = []
    for report_path in sorted(quarantine_root.glob("*/errors.json")):
        report = json.loads(report_path.read_text(encoding="utf-8"))
        if report["sha256"] in known:
            continue
        first = (report["errors"] or [{}])[0]
        rows.append(
            (
                report["sha256"],
                report["file"],
                report.get("unit_code"),
                report.get("period"),
                report.get("received_at"),
                len(report["errors"]),
                first.get("vi"),
                first.get("en"),
                str(report_path.parent),
            )
        )
    if rows:
        conn.executemany(
            "insert into raw.unit_report_rejections values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    return len(rows)
