"""Monthly snapshots read back into the warehouse, for the history marts.

Each snapshot's ``target_progress.parquet`` (verified against its manifest first) is
copied into ``raw.snapshot_target_progress`` once; a snapshot made again with ``--force``
replaces its month. Entry point: :func:`load`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from warehouse.raw import column_type, insert_rows

DDL = """
create schema if not exists raw;
create table if not exists raw.snapshot_loads (
    period varchar primary key, file_sha256 varchar not null
);
"""
TABLE = "target_progress"


def _read(path: Path, period: str) -> tuple[list[tuple[str, str]], list[tuple]]:
    """The snapshot's columns (name, DuckDB type) and rows, with its month added."""
    import duckdb

    local = duckdb.connect()
    try:
        cursor = local.execute(
            "select *, ? as snapshot_period from read_parquet(?)", [period, str(path)]
        )
        rows = cursor.fetchall()
        kinds = local.execute(
            "describe select *, ? as snapshot_period from read_parquet(?)", [period, str(path)]
        ).fetchall()
    finally:
        local.close()
    return [(row[0], row[1]) for row in kinds], rows


def load(conn, snapshot_dir: Path) -> str:
    conn.execute(DDL)
    loaded = dict(conn.execute("select period, file_sha256 from raw.snapshot_loads").fetchall())
    months = []
    for manifest_path in sorted(snapshot_dir.glob("*/manifest.json")):
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        name = f"{TABLE}.parquet"
        path = manifest_path.parent / name
        if manifest["period"] != manifest_path.parent.name or name not in manifest["files"]:
            continue  # a superseded copy kept beside, or a snapshot without the table
        expected = manifest["files"][name]
        if loaded.get(manifest["period"]) == expected:
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise RuntimeError(f"{path} does not match its manifest: not loaded")
        columns, rows = _read(path, manifest["period"])
        conn.execute("begin transaction")
        try:
            exists = conn.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'raw' and table_name = 'snapshot_target_progress'"
            ).fetchone()[0]
            if not exists:
                definition = ", ".join(
                    f'"{name}" {column_type(conn, kind)}' for name, kind in columns
                )
                conn.execute(f"create table raw.snapshot_target_progress ({definition})")
            conn.execute(
                "delete from raw.snapshot_target_progress where snapshot_period = ?",
                [manifest["period"]],
            )
            insert_rows(conn, "raw.snapshot_target_progress", [name for name, _ in columns], rows)
            conn.execute("delete from raw.snapshot_loads where period = ?", [manifest["period"]])
            conn.execute(
                "insert into raw.snapshot_loads values (?, ?)", [manifest["period"], expected]
            )
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        months.append(manifest["period"])
    return f"snapshots: {len(months)} month(s) loaded" + (
        f" ({', '.join(months)})" if months else ""
    )
