"""Shared fixtures: every test gets its own data directory; nothing touches ./data."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SHARED = Path(os.environ.get("CHISO_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
# Tests serve Lạng Sơn alone, to stay quick; the demo (the README's main job) serves the
# three seed provinces, and tests that need several say so.
TEST_PROVINCES = "20"
os.environ["CHISO_PROVINCES"] = TEST_PROVINCES
# pytest-xdist runs each test module on one worker (--dist loadscope, setup.sh): a module's
# expensive fixtures (the pipeline runs of test_backends, test_crashes, test_dags, the image)
# are made once. (--dist loadgroup's xdist_group marks are lost with pytest 9: xdist writes
# them into Item._nodeid, which pytest 9 no longer reads.) The session's demo is made once
# per worker that runs a module using it.


@pytest.fixture(autouse=True)
def _environment_restored():
    """Whatever a test leaves in the environment is undone after it: an in-process run
    exports its settings for dbt (``export_warehouse_environment``), and a later test on
    the same worker must not inherit them (its sample would depend on the order)."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


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
    monkeypatch.setenv("CHISO_PROVINCES", TEST_PROVINCES)
    settings = load_settings()
    settings.ensure_dirs()
    return settings


@pytest.fixture
def sample_inbox(settings):
    """The deterministic sample report files, written into the inbox."""
    from chiso.samples.report_files import generate

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


def run_demo(data_dir: Path) -> Path:
    """``chiso demo`` as a user runs it, into ``data_dir``; returns the published file."""
    return _demo(data_dir).published


@dataclass(frozen=True)
class Demo:
    data: Path  # the data directory the demo ran in
    published: Path
    stdout: str


def _demo(data_dir: Path) -> Demo:
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env["CHISO_DATA_DIR"] = str(data_dir)
    out = subprocess.run([str(VENV_BIN / "chiso"), "demo"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return Demo(data_dir, data_dir / "published" / "chiso.duckdb", out.stdout)


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Demo:
    """One ``chiso demo`` for the session (the main job on the sample, September 2025).
    Read it; copy its data directory (``demo_copy``) to change anything."""
    return _demo(tmp_path_factory.mktemp("demo") / "data")


@pytest.fixture
def demo_copy(demo, tmp_path) -> Path:
    """A data directory of this test's own, holding what the session's demo left."""
    import shutil

    return Path(shutil.copytree(demo.data, tmp_path / "data"))


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL cluster for the whole session (tests take a database each)."""
    from tests.postgres_server import server_bin, throwaway_server

    if server_bin() is None:
        pytest.fail("PostgreSQL server binaries not found: ./setup.sh installs them")
    with throwaway_server() as env:
        yield env


def fresh_database(pg_env: dict[str, str], name: str) -> dict[str, str]:
    """A new, empty database on the session's server; returns its CHISO_PG_* settings."""
    import psycopg

    with psycopg.connect(
        host=pg_env["CHISO_PG_HOST"],
        port=int(pg_env["CHISO_PG_PORT"]),
        user=pg_env["CHISO_PG_USER"],
        dbname=pg_env["CHISO_PG_DBNAME"],
        autocommit=True,
    ) as conn:
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    return {**pg_env, "CHISO_PG_DBNAME": name}


def chiso_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any CHISO_ setting, then the data directory, the
    tests' provinces and ``settings``: what a user's shell would hand ``chiso``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env["CHISO_DATA_DIR"] = str(data_dir)
    env["CHISO_PROVINCES"] = TEST_PROVINCES
    env.update(settings)
    return env


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
