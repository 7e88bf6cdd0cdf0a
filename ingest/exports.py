"""CSV exports a user brings (DTI tables, the portal's provision table): land, read, load.

An export is landed unchanged (content-addressed, read-only, sidecar with its name, period
and time) before it is read; reading works on the landed copy only, and a file's rows load
once, in one transaction. A file that cannot be read goes to the quarantine with the
reason (Vietnamese and English), and nothing of it is loaded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.landing import land_bytes, sha256_file
from ingest.parsing import ParseError
from warehouse.errors import ChisoError
from warehouse.transaction import transaction


class ExportError(ChisoError, ValueError):
    """An export that cannot be loaded; the message names the file, line and value."""


@dataclass(frozen=True)
class Export:
    source: str  # landing folder and raw table name: raw.<source>
    columns: Sequence[str]  # the header the export must have (in any order)
    ddl: str
    parse: Callable[[list[dict[str, str]], str], list[tuple]]  # (rows, period) -> values


def read_rows(data: bytes, columns: Sequence[str], name: str) -> list[dict[str, str]]:
    """The rows of a CSV export (UTF-8, with or without BOM) keyed by header; every
    expected column must be there, and no line may have extra cells."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ExportError(
            f"{name}: tệp không phải UTF-8 (byte {error.start}); "
            f"the file is not UTF-8 (byte {error.start})"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [column for column in columns if column not in (reader.fieldnames or [])]
    if missing:
        raise ExportError(
            f"{name}: thiếu cột {', '.join(missing)}; missing column {', '.join(missing)}"
        )
    rows = list(reader)
    if not rows:
        raise ExportError(f"{name}: tệp không có dòng số liệu; the file has no data rows")
    for number, row in enumerate(rows, start=2):
        if None in row:
            raise ExportError(
                f"{name} dòng {number}: thừa ô; line {number}: more cells than the header"
            )
    return rows


def ingest_export(conn, export: Export, path: Path, period: str, settings) -> tuple[Path, int]:
    """Land ``path``, read the landed copy, load its rows into ``raw.<source>`` once.

    Returns the landed file and the number of rows loaded (0: these bytes were loaded
    before). A file that cannot be read is quarantined with the reason and re-raised.
    """
    sha256 = sha256_file(path)
    data = path.read_bytes()
    meta = {
        "original_name": path.name,
        "period": period,
        "received_at": datetime.now(UTC).isoformat(),
    }
    try:
        export.parse(read_rows(data, export.columns, path.name), period)  # check first
    except (ExportError, ParseError) as error:
        folder = settings.quarantine_dir / export.source / period
        land_bytes(data, folder, sha256, path.suffix.lower(), meta | {"error": str(error)})
        raise ExportError(f"{path.name}: {error}") from None
    landed = land_bytes(
        data, settings.landing_dir / export.source / period, sha256, path.suffix.lower(), meta
    )
    return landed, load_landed(conn, export, landed)


def _rows(export: Export, landed: Path, now: datetime) -> list[tuple]:
    meta = json.loads(landed.with_name(landed.name + ".meta.json").read_text(encoding="utf-8"))
    values = export.parse(
        read_rows(landed.read_bytes(), export.columns, landed.name), meta["period"]
    )
    sha256 = landed.name.split(".")[0]
    return [(sha256, *value, meta["original_name"], now) for value in values]


def _insert(conn, export: Export, rows: list[tuple], delete_first: bool = False) -> None:
    with transaction(conn):
        if delete_first:
            conn.execute(f"delete from raw.{export.source}")
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            conn.executemany(f"insert into raw.{export.source} values ({marks})", rows)


def load_landed(conn, export: Export, landed: Path) -> int:
    """Load one landed export into ``raw.<source>`` (once per file, one transaction)."""
    conn.execute(export.ddl)
    sha256 = landed.name.split(".")[0]
    if conn.execute(
        f"select count(*) from raw.{export.source} where file_sha256 = ?", [sha256]
    ).fetchone()[0]:
        return 0
    rows = _rows(export, landed, datetime.now(UTC))
    _insert(conn, export, rows)
    return len(rows)


def reload(conn, export: Export, landing_dir: Path) -> int:
    """Rebuild ``raw.<source>`` from every landed export (after a parser fix), in one
    transaction: the table is the old one or the new one, never a mix."""
    conn.execute(export.ddl)
    now = datetime.now(UTC)
    rows = [
        row
        for path in sorted((landing_dir / export.source).glob("*/*"))
        if path.is_file() and not path.name.endswith(".meta.json")
        for row in _rows(export, path, now)
    ]
    _insert(conn, export, rows, delete_first=True)
    return len(rows)


def unmatched(names: list[str], problem: str) -> ExportError:
    listed = ", ".join(f"'{name}'" for name in sorted(set(names)))
    return ExportError(f"{problem}: {listed}")


def province_code(name: str, scheme: str, missing: list[str]) -> str | None:
    """The statistics-office code of a province name, or None with the name noted."""
    from ingest.geography import AdminUnitNotFound, by_name

    try:
        return by_name(name, scheme, "province").code
    except AdminUnitNotFound:
        missing.append(name)
        return None
