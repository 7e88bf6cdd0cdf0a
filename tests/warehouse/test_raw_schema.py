"""The raw schema in one module (warehouse/raw_schema.py): every raw table is there, what
the loaders write fits it, and the build's fingerprint follows it."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import duckdb
import pytest

from warehouse import raw_schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def columns() -> dict[str, list[str]]:
    """table -> its columns, from every source's DDL run on an empty DuckDB (twice: each
    statement must be idempotent)."""
    conn = duckdb.connect()
    for _ in range(2):
        for ddl in raw_schema.SCHEMA.values():
            conn.execute(ddl)
    rows = conn.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'raw' order by table_name, ordinal_position"
    ).fetchall()
    conn.close()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def test_no_module_but_the_schema_creates_a_raw_table():
    wrong = []
    for package in ("chiso", "ingest", "expectations", "warehouse"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "warehouse" / "raw_schema.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = " ".join(node.value.lower().split())
                    if "create table if not exists raw." in text or "view raw." in text:
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not wrong, "raw tables belong in warehouse/raw_schema.py:\n" + "\n".join(wrong)


def test_what_the_export_and_snapshot_loaders_write_fits_their_tables(columns):
    from ingest.sources import dti, provision, snapshots

    assert set(dti.PILLARS.values()) <= set(columns[dti.SOURCE])
    assert set(provision.COUNTS.values()) <= set(columns[provision.SOURCE])
    assert columns["snapshot_target_progress"] == snapshots.COLUMNS


def test_every_source_has_its_tables(columns):
    assert {"unit_report_files", "unit_report_values",
            "portal_766_scores", "dti_scores", "portal_provision", "reporting_deadlines",
            "snapshot_target_progress", "unit_registry", "unit_list_imports",
            "reminders_sent", "build_state", "admin_units_2025"} <= set(columns)  # fmt: skip


def test_a_change_to_any_raw_table_makes_the_next_build_a_full_one(tmp_path, monkeypatch):
    from warehouse.build import project_fingerprint
    from warehouse.settings import load_settings

    settings = load_settings()
    before = project_fingerprint(settings)
    changed = tmp_path / "raw_schema.py"
    shutil.copy(raw_schema.__file__, changed)
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("bigint", "numeric", 1), encoding="utf-8")  # provision's
    monkeypatch.setattr(raw_schema, "__file__", str(changed))
    assert project_fingerprint(settings) != before


def test_the_inbox_ranks_a_unit_months_files_by_dbts_own_rule():
    """Which file counts is written once, as a dbt macro (staging renders it); the inbox's
    query is that macro rendered on the raw table, run here on the raw schema."""
    from warehouse.raw import SUBMISSIONS_MACRO, submissions_query

    project = ROOT / "dbt_project"
    staging = (project / "models/staging/unit_reports/stg_unit_reports__values.sql").read_text()
    assert "unit_report_submissions(source('unit_reports', 'unit_report_values'))" in staging
    assert (project / SUBMISSIONS_MACRO).exists()
    conn = duckdb.connect()
    for ddl in raw_schema.SCHEMA.values():
        conn.execute(ddl)
    conn.execute(
        "insert into raw.unit_report_values (file_sha256, source_row, unit_code, indicator_code, "
        "period, received_at, sent_on, source_file_name, load_id) "
        "select sha, 5, unit, 'x', '2025-06', cast(received as timestamptz), cast(sent as date), "
        "'f.csv', 'l' from (values ('a', 'u1', '2025-07-05 09:00', '2025-07-04'), "
        "('b', 'u1', '2025-07-09 09:00', '2025-07-08'), ('c', 'u1', '2025-07-09 09:00', "
        "'2025-07-09'), ('d', 'u2', '2025-07-01 09:00', '2025-07-01')) "
        "as t(sha, unit, received, sent)"
    )
    ranked = conn.execute(
        f"select file_sha256, submission_count, submission_rank "
        f"from ({submissions_query(project)}) as s order by file_sha256"
    ).fetchall()
    assert ranked == [("a", 3, 3), ("b", 3, 2), ("c", 3, 1), ("d", 1, 1)]
