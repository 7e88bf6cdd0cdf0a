"""Monthly snapshots read back into the warehouse, for the history marts.

Each snapshot's ``target_progress.parquet`` (verified against its manifest first) is
copied into ``raw.snapshot_target_progress`` once; a snapshot made again with ``--force``
replaces its month. The table is created (empty) by every load, so dbt's source exists
before the first snapshot. Entry point: :func:`load`.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from warehouse import raw_schema
from warehouse.raw import insert_rows
from warehouse.transaction import transaction

# the columns of target_progress the history keeps, then the snapshot's month and lineage
FROZEN = {
    "target_id": "varchar",
    "unit_code": "varchar",
    "unit_group": "varchar",
    "indicator_code": "varchar",
    "target_value": "double precision",
    "deadline_on": "date",
    "latest_period": "varchar",
    "latest_value": "double precision",
    "pace_ratio": "double precision",
    "projected_value_at_deadline": "double precision",
    "status": "varchar",
}
DDL = raw_schema.SNAPSHOTS  # warehouse/raw_schema.py: every raw table
TABLE = "target_progress"
COLUMNS = ["snapshot_period", *FROZEN, "file_sha256", "loaded_at"]


def _read(path: Path, period: str, sha256: str) -> list[tuple]:
    """The snapshot's rows, in COLUMNS order."""
    from warehouse.backends import file_engine

    with closing(file_engine()) as local:
        return local.execute(
            f"select ?, {', '.join(FROZEN)}, ?, ? from read_parquet(?)",
            [period, sha256, datetime.now(UTC), str(path)],
        ).fetchall()


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
        rows = _read(path, manifest["period"], expected)
        with transaction(conn):
            conn.execute(
                "delete from raw.snapshot_target_progress where snapshot_period = ?",
                [manifest["period"]],
            )
            insert_rows(conn, "raw.snapshot_target_progress", COLUMNS, rows)
            conn.execute("delete from raw.snapshot_loads where period = ?", [manifest["period"]])
            conn.execute(
                "insert into raw.snapshot_loads values (?, ?)", [manifest["period"], expected]
            )
        months.append(manifest["period"])
    return f"snapshots: {len(months)} month(s) loaded" + (
        f" ({', '.join(months)})" if months else ""
    )
