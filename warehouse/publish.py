"""Write-audit-publish for the DuckDB target.

1. ``write_candidate`` copies every table of the work warehouse's ``marts`` schema into a
   candidate file of the run's own (``published/candidates/<run id>.duckdb``), with a
   ``_publication`` table saying what it is (run id, period, row counts).
2. The quality gate audits that candidate file (``expectations.gate``).
3. ``publish`` re-opens the candidate, checks it is complete, and ``os.replace``-s it over
   the published file: readers see the whole old file or the whole new one, never a mix.
   A failed gate never reaches step 3, so the published file stays byte-for-byte as it was;
   its candidate stays for inspection until a later run publishes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warehouse.raw import connect
from warehouse.settings import Settings

MARTS_SCHEMA = "marts"


class PublishError(RuntimeError):
    pass


@dataclass(frozen=True)
class Candidate:
    path: Path
    run_id: str
    period: str
    row_counts: dict[str, int]


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def write_candidate(settings: Settings, run_id: str, period: str) -> Candidate:
    candidate = settings.candidate_path(run_id)
    candidate.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (candidate, candidate.with_name(candidate.name + ".wal")):
        leftover.unlink(missing_ok=True)  # a retried task starts its candidate afresh
    conn = connect(settings.warehouse_path)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [MARTS_SCHEMA],
            ).fetchall()
        ]
        if not tables:
            raise PublishError(f"the warehouse has no tables in schema '{MARTS_SCHEMA}'")
        conn.execute(f"attach {_sql_string(str(candidate))} as candidate")
        row_counts = {}
        for table in tables:
            conn.execute(
                f'create table candidate.main."{table}" as select * from {MARTS_SCHEMA}."{table}"'
            )
            row_counts[table] = conn.execute(
                f'select count(*) from candidate.main."{table}"'
            ).fetchone()[0]
        conn.execute(
            "create table candidate.main._publication as select "
            "? as run_id, ? as as_of_period, ?::timestamptz as built_at, ? as row_counts",
            [run_id, period, datetime.now(UTC), json.dumps(row_counts, sort_keys=True)],
        )
        conn.execute("detach candidate")
    finally:
        conn.close()
    return Candidate(candidate, run_id, period, row_counts)


def last_publication(settings: Settings) -> dict | None:
    """The manifest of the latest publication, or None before the first."""
    log = settings.published_path.with_name("publications.jsonl")
    if not log.exists():
        return None
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(settings: Settings, candidate: Candidate) -> Path:
    """Check the audited candidate and swap it in atomically; return the published path."""
    conn = connect(candidate.path, read_only=True)
    try:
        for table, expected in candidate.row_counts.items():
            found = conn.execute(f'select count(*) from main."{table}"').fetchone()[0]
            if found != expected:
                raise PublishError(
                    f"candidate table {table} has {found} rows, expected {expected}; not published"
                )
    finally:
        conn.close()
    with open(candidate.path, "rb") as handle:
        os.fsync(handle.fileno())
    target = settings.published_path
    os.replace(candidate.path, target)
    _fsync_dir(target.parent)
    # candidates of earlier runs were rejected or overtaken: this publication supersedes them
    for stale in settings.candidate_dir.glob("*.duckdb*"):
        if stale.name.split(".")[0] < candidate.run_id:
            stale.unlink(missing_ok=True)
    manifest = {
        "run_id": candidate.run_id,
        "as_of_period": candidate.period,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "path": str(target),
        "row_counts": candidate.row_counts,
    }
    line = json.dumps(manifest, ensure_ascii=False, sort_keys=True)
    with open(target.with_name("publications.jsonl"), "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    return target
