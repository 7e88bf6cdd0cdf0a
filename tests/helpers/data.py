"""Reading what a run left (tables, marts, the pairs target_progress must hold) and
making report files to send."""

from __future__ import annotations

from pathlib import Path


def table_contents(path: Path) -> dict:
    """Every mart of a DuckDB file (not its publication record), rows sorted, for comparing
    two builds."""
    import duckdb

    from warehouse.backends.duckdb import base_tables

    conn = duckdb.connect(str(path), read_only=True)
    try:
        return {
            table: conn.execute(f'select * from "{table}" order by all').fetchall()
            for table in base_tables(conn)
        }
    finally:
        conn.close()


def published_marts(settings) -> dict[str, list[tuple]]:
    """Every published mart, through the backend's reader, as sorted rows of comparable
    values: numbers rounded to 9 places (PostgreSQL returns Decimal where DuckDB returns
    float, and sums in another order), load and fetch times (``*_at``) left out."""
    from decimal import Decimal

    from warehouse.backends import open_warehouse

    def plain(value):
        if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
            return round(float(value), 9)
        return value

    marts = {}
    with open_warehouse(settings).published() as reader:
        for table in reader.tables:
            columns = [
                c[0]
                for c in reader.execute(f'select * from "{table}" limit 0').description
                if not c[0].endswith("_at")
            ]
            names = ", ".join(f'"{column}"' for column in columns)
            rows = reader.execute(f'select {names} from "{table}"').fetchall()
            marts[table] = sorted((tuple(map(plain, row)) for row in rows), key=repr)
    return marts


def set_csv_cell(source: Path, target: Path, cell: str, value: str) -> None:
    """Copy a semicolon CSV report, with one cell (A1 style, e.g. "C9") replaced; the copy
    keeps the time the source arrived (the inbox reads it as the receipt)."""
    import csv
    import io
    import os
    import re

    letters, row = re.fullmatch(r"([A-Z])(\d+)", cell).groups()
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig")), delimiter=";"))
    rows[int(row) - 1][ord(letters) - ord("A")] = value
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows(rows)
    times = source.stat()
    target.write_text(buffer.getvalue(), encoding="utf-8")
    os.utime(target, ns=(times.st_atime_ns, times.st_mtime_ns))


def expected_progress_pairs(
    as_of_period: str, registry=None, provinces: tuple[str, ...] | None = None
) -> set[tuple[str, str | None]]:
    """(target, unit) pairs target_progress must hold as of a month: the units of the
    target's group and province that existed between its document and its deadline and
    exist by the end of the month (the rule in target_progress.sql, restated); a target of
    a served province with no such unit: (target, None). ``provinces``: those served (the
    configured ones unless given); ``registry``: their built-in one unless given (the
    demo's has the sample lists)."""
    import calendar
    from datetime import date

    from ingest.registry import built_in
    from warehouse import reference
    from warehouse.reference import read_seed
    from warehouse.settings import load_settings

    settings = load_settings()
    provinces = provinces or settings.provinces
    registry = registry or built_in(provinces)
    year, month = map(int, as_of_period.split("-"))
    as_of_end = date(year, month, calendar.monthrange(year, month)[1])
    seeds = settings.dbt_project_dir / "seeds"
    issued = {row["document_id"]: row["issued_on"] for row in read_seed(seeds, "documents")}
    pairs = set()
    for target in reference.targets():
        if target["province_code"] not in provinces:
            continue
        document_on = date.fromisoformat(issued[target["document_id"]] or "1900-01-01")
        deadline_on = date.fromisoformat(target["deadline_on"])
        units = {
            unit.code
            for unit in registry.units.values()
            if (unit.group, unit.province_code) == (target["unit_group"], target["province_code"])
            and (unit.valid_from is None or unit.valid_from <= min(deadline_on, as_of_end))
            and (unit.valid_to is None or unit.valid_to >= document_on)
        }
        pairs |= {(target["target_id"], code) for code in units} or {(target["target_id"], None)}
    return pairs
