"""Shared fixtures: every test gets its own data directory; nothing touches ./data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SHARED = Path(os.environ.get("CHISO_SHARED_DIR", PROJECT_ROOT.parent / "shared"))


def shared_folder(name: str) -> Path:
    """A folder of ../shared (seed documents, real data); skip, with the reason, if absent."""
    folder = SHARED / name
    if not folder.is_dir():
        if os.environ.get("CHISO_REQUIRE_SHARED"):
            pytest.fail(f"{folder} is missing: ../shared sits beside the checkout")
        pytest.skip(f"{folder} is not beside this checkout (set CHISO_SHARED_DIR)")
    return folder


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings pointing at a fresh data directory under the test's tmp_path."""
    from warehouse.settings import load_settings

    for name in list(os.environ):
        if name.startswith("CHISO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    settings.ensure_dirs()
    return settings


@pytest.fixture
def sample_inbox(settings):
    """The deterministic sample report files, written into the inbox."""
    from ingest.sample import generate

    return generate(settings.inbox_dir)


def table_contents(path: Path, exclude: tuple[str, ...] = ("_publication",)) -> dict:
    """Every table of a DuckDB file, rows sorted, for comparing two builds."""
    import duckdb

    conn = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables order by table_name"
            ).fetchall()
        ]
        return {
            table: conn.execute(f'select * from "{table}" order by all').fetchall()
            for table in tables
            if table not in exclude
        }
    finally:
        conn.close()


def set_csv_cell(source: Path, target: Path, cell: str, value: str) -> None:
    """Copy a semicolon CSV report, with one cell (A1 style, e.g. "C9") replaced."""
    import csv
    import io
    import re

    letters, row = re.fullmatch(r"([A-Z])(\d+)", cell).groups()
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig")), delimiter=";"))
    rows[int(row) - 1][ord(letters) - ord("A")] = value
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\n").writerows(rows)
    target.write_text(buffer.getvalue(), encoding="utf-8")


def expected_progress_rows() -> int:
    """target_progress has one row per target and registry unit of its group and province."""
    from warehouse import reference

    units = reference.units().values()
    return sum(
        1
        for target in reference.targets()
        for unit in units
        if (unit.group, unit.province_code) == (target["unit_group"], target["province_code"])
    )
