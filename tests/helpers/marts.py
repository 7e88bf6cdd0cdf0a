"""A digest of every published mart, row by row, to show a change left the marts as they
were: ``python -m tests.helpers.marts <published.duckdb> > tests/dbt_project/marts.json``
records one (the demo's, reviewed in the commit that changes them)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import date, datetime
from pathlib import Path

# what a run stamps (when, which run), not what the marts compute
RUN_COLUMN = re.compile(r"(_at|_run_id|^run_id|^load_id)$")


def _shown(value: object) -> str:
    if value is None:
        return "∅"
    if isinstance(value, float):
        return f"{value:.9g}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def digests(published: Path) -> dict[str, dict]:
    """mart -> its row count, the columns compared and a digest of its sorted rows."""
    import duckdb

    from warehouse.backends.duckdb import base_tables

    conn = duckdb.connect(str(published), read_only=True)
    try:
        out = {}
        for table in base_tables(conn):
            columns = [
                row[0]
                for row in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'main' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if not RUN_COLUMN.search(row[0])
            ]
            names = ", ".join(f'"{c}"' for c in columns)
            rows = sorted(
                "\x1f".join(_shown(v) for v in row)
                for row in conn.execute(f'select {names} from main."{table}"').fetchall()
            )
            digest = hashlib.sha256("\x1e".join(rows).encode("utf-8")).hexdigest()
            out[table] = {"rows": len(rows), "columns": len(columns), "sha256": digest}
        return out
    finally:
        conn.close()


if __name__ == "__main__":
    print(json.dumps(digests(Path(sys.argv[1])), indent=1, sort_keys=True))
