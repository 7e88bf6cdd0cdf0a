"""Administrative units before and after 1 July 2025, from the `vietnamadminunits` library.

The library (PyPI ``vietnamadminunits``, maintained from the statistics office's list and
the 2025 merger resolutions) ships a SQLite file with the 63-province, 696-district,
10,035-commune scheme and the 34-province, 3,321-commune scheme, and the data of its
old -> new converter. Entry point: :func:`load`, which copies them into ``raw`` with codes
(the converter speaks in name keys; they are turned into codes here). It loads once per
library version: a new version is a new load, in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from functools import cache
from importlib import metadata, resources

from warehouse import raw_schema
from warehouse.errors import ChisoError
from warehouse.raw import insert_rows, table_columns
from warehouse.transaction import transaction

LIBRARY = "vietnamadminunits"

DDL = raw_schema.ADMIN_UNITS  # warehouse/raw_schema.py: every raw table


class AdminUnitsError(ChisoError):
    pass


def _library_data():
    folder = resources.files(LIBRARY) / "data"
    with (
        resources.as_file(folder / "dataset.db") as db_path,
        closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db,
    ):
        legacy = db.execute(
            "select provinceCode, province, districtCode, district, districtType, "
            "wardCode, ward, wardType, provinceKey, districtKey, wardKey "
            "from admin_units_legacy order by provinceCode, districtCode, wardCode"
        ).fetchall()
        current = db.execute(
            "select provinceCode, province, wardCode, ward, wardType, provinceKey, wardKey "
            "from admin_units order by provinceCode, wardCode"
        ).fetchall()
    converter = json.loads((folder / "converter_2025.json").read_text(encoding="utf-8"))
    return legacy, current, converter


def build_tables(version: str) -> dict[str, list[tuple]]:
    """The rows of every raw table, codes instead of the library's name keys."""
    legacy, current, converter = _library_data()
    old_by_key = {f"{row[8]}_{row[9]}_{row[10] or ''}": (row[0], row[2], row[5]) for row in legacy}
    old_province_by_key = {row[8]: row[0] for row in legacy}
    new_by_key = {(row[5], row[6]): (row[0], row[2]) for row in current}
    new_province_by_key = {row[5]: row[0] for row in current}

    crosswalk: list[tuple] = []
    missing: list[str] = []
    for new_province, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, old_keys in wards.items():
            target = new_by_key.get((new_province, new_ward))
            for old_key in old_keys:
                source = old_by_key.get(old_key)
                if target is None or source is None:
                    missing.append(old_key)
                    continue
                crosswalk.append((*source, *target, False, True, version))
    for new_province, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, new_wards in divided.items():
            source = old_by_key.get(old_key)
            for ward in new_wards:
                target = new_by_key.get((new_province, ward["newWardKey"]))
                if target is None or source is None:
                    missing.append(old_key)
                    continue
                crosswalk.append((*source, *target, True, bool(ward["isDefaultNewWard"]), version))
    if missing:
        raise AdminUnitsError(
            f"{LIBRARY}: {len(missing)} converter keys match no unit, e.g. {missing[:5]}"
        )
    provinces = sorted(
        (old_province_by_key[old], new_province_by_key[new], version)
        for new, olds in converter["DICT_PROVINCE"].items()
        for old in olds
    )
    return {
        "admin_units_legacy": [(*row[:8], version) for row in legacy],
        "admin_units_2025": [(*row[:5], version) for row in current],
        "admin_unit_crosswalk": sorted(set(crosswalk), key=lambda r: tuple(map(str, r))),
        "admin_province_crosswalk": provinces,
    }


@cache
def library_tables() -> dict[str, list[tuple]]:
    """:func:`build_tables` for the installed library version, read once per process."""
    return build_tables(metadata.version(LIBRARY))


def load(conn) -> str:
    """Load the library's units into ``raw`` unless this version is already there."""
    from datetime import UTC, datetime

    version = metadata.version(LIBRARY)
    conn.execute(DDL)
    loaded = conn.execute(
        "select version from raw.reference_loads where source = ?", [LIBRARY]
    ).fetchone()
    if loaded and loaded[0] == version:
        return f"administrative units: {LIBRARY} {version} already loaded"
    tables = library_tables()
    with transaction(conn):
        for table, rows in tables.items():
            conn.execute(f"delete from raw.{table}")
            insert_rows(conn, f"raw.{table}", table_columns(conn, "raw", table), rows)
        conn.execute("delete from raw.reference_loads where source = ?", [LIBRARY])
        conn.execute(
            "insert into raw.reference_loads values (?, ?, ?)",
            [LIBRARY, version, datetime.now(UTC)],
        )
    counts = ", ".join(f"{table} {len(rows)}" for table, rows in tables.items())
    return f"administrative units: {LIBRARY} {version} loaded ({counts})"
