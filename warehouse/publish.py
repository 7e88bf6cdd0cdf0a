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

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from warehouse.faults import kill_point
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
    sources_through: str | None = None  # raw rows loaded until then went to the gate


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
            kill_point("candidate_mid_write")
        conn.execute(
            "create table candidate.main._publication as select "
            "? as run_id, ? as as_of_period, ?::timestamptz as built_at, ? as row_counts",
            [run_id, period, datetime.now(UTC), json.dumps(row_counts, sort_keys=True)],
        )
        conn.execute("detach candidate")
        through = _write_sources(settings, conn, candidate)
    finally:
        conn.close()
    return Candidate(candidate, run_id, period, row_counts, through)


def _write_sources(settings: Settings, conn, candidate: Path) -> str:
    """Beside the candidate, the raw rows the source suites check (``meta.source_query`` of
    each): rows loaded since the last publication's cut, which the gate has not seen yet.
    Returns this cut: this connection is the only writer, so every row loaded until now is
    in. (Not the publication time: in Airflow an ingest task may load between the candidate
    and the publish tasks; its rows belong to the next run.)"""
    from expectations.gate import load_suites, sources_path

    path = sources_path(candidate)
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)  # a retried task writes them afresh
    previous = last_publication(settings) or {}
    since = previous.get("sources_through") or previous.get("published_at") or "1970-01-01"
    through = datetime.now(UTC).isoformat()
    conn.execute(f"attach {_sql_string(str(path))} as sources")
    try:
        for suite in load_suites():
            query = suite["meta"].get("source_query")
            if query:
                conn.execute(
                    f'create table sources.main."{suite["name"]}" as '
                    + query.replace("{since}", f"{_sql_string(since)}::timestamptz")
                )
    finally:
        conn.execute("detach sources")
    return through


def publications(settings: Settings, last: int | None = None) -> list[dict]:
    """The manifests of the publications so far, oldest first (the last ``last`` of them)."""
    log = settings.published_path.with_name("publications.jsonl")
    if not log.exists():
        return []
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line) for line in lines[-last if last else 0 :]]


def last_publication(settings: Settings) -> dict | None:
    """The manifest of the latest publication, or None before the first."""
    recent = publications(settings, last=1)
    return recent[-1] if recent else None


def audited_baseline(settings: Settings) -> Path | None:
    """The published file, when the suites that passed it are the ones in force now: the
    gate then re-checks row by row only the partitions a candidate changed."""
    previous = last_publication(settings)
    if previous is None or previous.get("suites") != suite_versions():
        return None
    return settings.published_path if settings.published_path.exists() else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def suite_versions() -> dict[str, str]:
    from expectations.gate import SUITES_DIR

    return {
        path.stem: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted(SUITES_DIR.glob("*.json"))
    }


def _gate_summary(settings: Settings, run_id: str) -> dict | None:
    path = settings.gate_dir / f"{run_id}.json"
    if not path.exists():
        return None
    checks = json.loads(path.read_text(encoding="utf-8"))["checks"]
    return {
        "checks": len(checks),
        "blocking_failures": sum(not c["passed"] and c["tier"] == "blocking" for c in checks),
        "warnings": sum(not c["passed"] and c["tier"] == "warning" for c in checks),
    }


def _append_manifest(settings: Settings, manifest: dict) -> None:
    line = json.dumps(manifest, ensure_ascii=False, sort_keys=True)
    with open(settings.published_path.with_name("publications.jsonl"), "a", encoding="utf-8") as f:
        f.write(line + "\n")


def _keep_version(settings: Settings) -> None:
    """Keep the file about to be replaced under versions/<its run id>.duckdb (a hard link:
    no copy), and only the last ``keep_versions`` of them."""
    previous = last_publication(settings)
    target = settings.published_path
    if previous is None or not target.exists():
        return
    versions = settings.versions_dir
    versions.mkdir(parents=True, exist_ok=True)
    kept = versions / f"{previous['run_id']}.duckdb"
    if not kept.exists():
        os.link(target, kept)
    for old in sorted(versions.glob("*.duckdb"))[: -settings.keep_versions]:
        old.unlink(missing_ok=True)


def _swap_in(settings: Settings, source: Path) -> Path:
    with open(source, "rb") as handle:
        os.fsync(handle.fileno())
    _keep_version(settings)
    pause = float(os.environ.get("CHISO_FAULT_PAUSE_BEFORE_REPLACE", "0"))
    if pause:  # fault injection for tests: a process killed here must change nothing
        time.sleep(pause)
    kill_point("publish_before_replace")
    os.replace(source, settings.published_path)
    _fsync_dir(settings.published_path.parent)
    return settings.published_path


def publish(settings: Settings, candidate: Candidate) -> Path:
    """Check the audited candidate and swap it in atomically; return the published path."""
    from expectations.gate import sources_path

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
    target = _swap_in(settings, candidate.path)
    sources_path(candidate.path).unlink(missing_ok=True)  # audited; raw keeps the rows
    # candidates of earlier runs were rejected or overtaken: this publication supersedes them
    for stale in settings.candidate_dir.glob("*.duckdb*"):
        if stale.name.split(".")[0] < candidate.run_id:
            stale.unlink(missing_ok=True)
    _append_manifest(
        settings,
        {
            "run_id": candidate.run_id,
            "as_of_period": candidate.period,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "path": str(target),
            "row_counts": candidate.row_counts,
            "sources_through": candidate.sources_through,
            "suites": suite_versions(),
            "gate": _gate_summary(settings, candidate.run_id),
        },
    )
    return target


def rollback(settings: Settings, run_id: str | None = None) -> dict:
    """Put a kept version back as the published file (default: the one before the current).
    The rollback is itself a publication, recorded in the manifest log."""
    current = last_publication(settings)
    versions = [
        path
        for path in sorted(settings.versions_dir.glob("*.duckdb"))
        if current is None or path.stem != current["run_id"]  # not the file now published
    ]
    if not versions:
        raise PublishError(f"no earlier version to roll back to in {settings.versions_dir}")
    if run_id is None:
        chosen = versions[-1]
    else:
        chosen = settings.versions_dir / f"{run_id}.duckdb"
        if not chosen.exists():
            names = ", ".join(path.stem for path in versions)
            raise PublishError(f"no kept version {run_id!r}; kept: {names}")
    staging = settings.candidate_dir / f"rollback-{chosen.name}"
    staging.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(chosen, staging)
    conn = connect(staging, read_only=True)
    try:
        info = conn.execute("select run_id, as_of_period, row_counts from _publication").fetchone()
    finally:
        conn.close()
    _swap_in(settings, staging)
    manifest = {
        "run_id": info[0],
        "as_of_period": info[1],
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "path": str(settings.published_path),
        "row_counts": json.loads(info[2]),
        "rollback_of": current["run_id"] if current else None,
    }
    _append_manifest(settings, manifest)
    return manifest
