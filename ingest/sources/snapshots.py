"""Monthly snapshots read back into the warehouse, for the history marts.

Each snapshot's ``target_progress.parquet`` (verified against its manifest first) is
copied into ``raw.snapshot_target_progress`` once; a snapshot made again with ``--force``
replaces its month. Entry point: :func:`load`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

DDL = """
create schema if not exists raw;
create table if not exists raw.snapshot_loads (
    period varchar primary key, file_sha256 varchar not null
);
"""
TABLE = "target_progress"


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
        conn.execute("begin transaction")
        try:
            exists = conn.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = 'raw' and table_name = 'snapshot_target_progress'"
            ).fetchone()[0]
            if not exists:
                conn.execute(
                    "create table raw.snapshot_target_progress as "
                    "select *, ? as snapshot_period from read_parquet(?) limit 0",
                    [manifest["period"], str(path)],
                )
            conn.execute(
                "delete from raw.snapshot_target_progress where snapshot_period = ?",
                [manifest["period"]],
            )
            conn.execute(
                "insert into raw.snapshot_target_progress by name "
                "select *, ? as snapshot_period from read_parquet(?)",
                [manifest["period"], str(path)],
            )
            conn.execute(
                "insert or replace into raw.snapshot_loads values (?, ?)",
                [manifest["period"], expected],
            )
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        months.append(manifest["period"])
    return f"snapshots: {len(months)} month(s) loaded" + (
        f" ({', '.join(months)})" if months else ""
    )
