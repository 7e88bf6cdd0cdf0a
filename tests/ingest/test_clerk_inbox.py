"""Every clerk case through the inbox, in one run: what landed, what was quarantined with
which message, and what reached raw; then the inbox's own rules (the order files were
received in, corrections that replace a whole file, hidden files, one quarantine folder
per file and name)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from ingest.inbox import ingest_inbox
from ingest.landing import sha256_file
from tests.helpers.clerk_cases import CASES, FIRST, PERIOD, UNIT
from tests.helpers.clerk_files import base_rows, put, received, write
from tests.helpers.project import PROJECT_ROOT, VENV_BIN
from tests.helpers.runs import chiso_environment
from warehouse.raw import submissions_query

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SUBMISSIONS = submissions_query(PROJECT_ROOT / "dbt_project")  # the rule, as the inbox reads it


def _query(settings, sql: str, *params) -> list[tuple]:
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return conn.execute(sql, list(params)).fetchall()
    finally:
        conn.close()


def _quarantined(settings) -> dict[str, dict]:
    """errors.json of every quarantine folder, by the file name it was sent under."""
    return {
        report["file"]: report
        for report in (
            json.loads(path.read_text(encoding="utf-8"))
            for path in (settings.quarantine_dir / "unit_files").glob("*/errors.json")
        )
    }


@pytest.fixture(scope="module")
def clerk_inbox(tmp_path_factory):
    """Every case's file sent to one inbox and ingested in one run."""
    import os

    from warehouse.settings import load_settings

    root = tmp_path_factory.mktemp("clerk")
    saved = {k: v for k, v in os.environ.items() if k.startswith("CHISO_")}
    try:
        for name in saved:
            del os.environ[name]
        os.environ.update(chiso_environment(root / "data"))
        settings = load_settings()
        settings.ensure_dirs()
        sent = {}
        for case in CASES:
            folder = root / "made" / case.name
            folder.mkdir(parents=True)
            path = case.make(folder)
            target = settings.inbox_dir / f"{case.name}__{path.name}"
            shutil.move(path, target)
            sent[case.name] = (target.name, sha256_file(target))
        summary = ingest_inbox(settings, log=lambda _: None)
        yield settings, sent, summary
    finally:
        for name in [k for k in os.environ if k.startswith("CHISO_")]:
            del os.environ[name]
        os.environ.update(saved)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_inbox_gives_each_clerk_file_the_readers_verdict(clerk_inbox, case):
    settings, sent, summary = clerk_inbox
    name, sha256 = sent[case.name]
    if case.rejected:  # (the same bytes may be accepted under a name that says the month)
        assert name in summary.quarantined
        for table in ("unit_report_files", "unit_report_values"):
            sql = f"select count(*) from raw.{table} where source_file_name = ?"
            assert _query(settings, sql, name) == [(0,)]
        report = _quarantined(settings)[name]
        assert any(
            error["cell"] == case.rejected.cell
            and case.rejected.en in error["en"]
            and case.rejected.vi in error["vi"]
            for error in report["errors"]
        ), report["errors"]
        (row,) = _query(
            settings,
            "select file_sha256, error_count from raw.unit_report_quarantine "
            "where source_file_name = ?",
            name,
        )
        assert row == (sha256, len(report["errors"]))
        return
    assert name not in summary.quarantined
    ((unit, period, sheet),) = _query(
        settings,
        "select unit_code, period, sheet from raw.unit_report_files where file_sha256 = ?",
        sha256,
    )
    assert (unit, period, sheet) == (case.unit, case.period, case.sheet)
    figures = {
        code: (numerator, denominator, value)
        for code, numerator, denominator, value in _query(
            settings,
            "select indicator_code, numerator, denominator, reported_value "
            "from raw.unit_report_values where file_sha256 = ?",
            sha256,
        )
    }
    for code, expected in case.figures.items():
        assert figures[code] == expected
    for said in case.warnings:
        assert any(name in line and said.en in line for line in summary.warnings), said


def test_a_correction_received_later_wins_whatever_its_name_and_withdraws_what_it_dropped(
    settings,
):
    """ "(ban sua)" sorts before the original, and it came in the same inbox run; it was
    received later, so it counts, whole: the indicator it no longer has is gone."""
    start = datetime(2025, 7, 5, 2, tzinfo=UTC)
    original = write(settings.inbox_dir / "Bao cao 20.178 06-2025.csv", base_rows())
    corrected_rows = put(base_rows()[:-1], "C9", 1500)  # the last indicator dropped
    corrected = write(settings.inbox_dir / "Bao cao 20.178 06-2025 (ban sua).csv", corrected_rows)
    assert corrected.name < original.name
    received(original, start)
    received(corrected, start + timedelta(hours=3))
    dropped = base_rows()[-1][0]
    summary = ingest_inbox(settings, log=lambda _: None)
    assert summary.loaded_files == 2
    counting = _query(
        settings,
        "select distinct source_file_name, submission_count, received_at "
        f"from ({SUBMISSIONS}) as s where submission_rank = 1",
    )
    assert [(r[0], r[1]) for r in counting] == [(corrected.name, 2)]
    assert counting[0][2] == start + timedelta(hours=3)  # received: the inbox file's time
    first = _query(
        settings,
        f"select numerator from ({SUBMISSIONS}) as s "
        "where submission_rank = 1 and indicator_code = ?",
        FIRST,
    )
    assert first == [(1500,)]
    assert _query(
        settings,
        f"select count(*) from ({SUBMISSIONS}) as s "
        "where submission_rank = 1 and indicator_code = ?",
        dropped,
    ) == [(0,)]


def test_hidden_files_wait_a_while_then_go_to_quarantine_with_a_message(settings):
    fresh = write(settings.inbox_dir / ".Bao cao.csv", base_rows())
    stale = received(
        write(settings.inbox_dir / ".bao cao cu.csv", base_rows()),
        datetime.now(UTC) - timedelta(days=2),
    )
    lock = settings.inbox_dir / "~$bao_cao.xlsx"
    lock.write_bytes(b"\x0aNguyen Van An")
    received(lock, datetime.now(UTC) - timedelta(days=2))
    summary = ingest_inbox(settings, log=lambda _: None)
    assert summary.waiting == [fresh.name] and fresh.exists()
    assert "1 hidden file(s) waiting" in summary.line()
    assert sorted(summary.quarantined) == sorted([stale.name, lock.name])
    reports = _quarantined(settings)
    (error,) = reports[stale.name]["errors"]
    assert (
        "starts with '.' (a hidden file)" in error["en"] and "bắt đầu bằng dấu chấm" in error["vi"]
    )
    (error,) = reports[lock.name]["errors"]
    assert "Excel's temporary lock file" in error["en"] and "tệp khóa tạm" in error["vi"]
    assert not stale.exists() and not lock.exists()


def test_the_same_bytes_under_two_names_keep_a_quarantine_folder_each(settings, tmp_path):
    rows = put(base_rows(), "D9", "12; 5")  # a cell holding "; ": the languages stay apart
    first = write(settings.inbox_dir / "so_a.csv", rows)
    second = settings.inbox_dir / "so_b.csv"
    shutil.copy(first, second)
    empty_a, empty_b = settings.inbox_dir / "a.xlsx", settings.inbox_dir / "b.xlsx"
    empty_a.write_bytes(b"")
    empty_b.write_bytes(b"")
    summary = ingest_inbox(settings, log=lambda _: None)
    assert len(summary.quarantined) == 4
    reports = _quarantined(settings)
    assert sorted(reports) == ["a.xlsx", "b.xlsx", "so_a.csv", "so_b.csv"]
    assert reports["so_a.csv"]["sha256"] == reports["so_b.csv"]["sha256"]
    (error,) = reports["so_b.csv"]["errors"]
    assert error["cell"] == "D9"
    assert error["vi"] == "'12; 5' không phải là số"
    assert error["en"] == "'12; 5' is not a number"
    folders = _query(
        settings, "select count(distinct quarantine_path) from raw.unit_report_quarantine"
    )
    assert folders == [(4,)]
    # the data directory moved elsewhere: the same folders, not counted twice
    from warehouse.raw import load_rejections

    moved = tmp_path / "moved" / "quarantine"
    shutil.copytree(settings.quarantine_dir, moved)
    conn = duckdb.connect(str(settings.warehouse_path))
    try:
        assert load_rejections(conn, moved / "unit_files") == 0
    finally:
        conn.close()


def test_validate_file_gives_the_inbox_verdict(settings, tmp_path):
    """The command a unit runs before sending and the inbox read a file the same way."""
    from tests.helpers.clerk_cases import BY_NAME

    names = ["sheet_per_month", "uncalculated_formula", "percent_cell_xls", "footer_and_signatures"]
    paths = []
    for name in names:
        (tmp_path / name).mkdir()
        paths.append(BY_NAME[name].make(tmp_path / name))
    result = subprocess.run(
        [str(VENV_BIN / "chiso"), "validate-file", *map(str, paths)],
        env=chiso_environment(settings.data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # one file is not valid
    lines = result.stdout.splitlines()
    verdicts = {line.split(": ")[0]: line for line in lines if not line.startswith("  ")}
    assert "hợp lệ / valid (20.178, 2025-06, 10 rows)" in verdicts[str(paths[0])]
    assert "KHÔNG hợp lệ" in verdicts[str(paths[1])]
    assert any("Ô C9" in line and "formula saved without its value" in line for line in lines)
    assert "hợp lệ / valid (20, 2025-06, 1 rows)" in verdicts[str(paths[2])]
    for path in paths:
        shutil.copy2(path, settings.inbox_dir / path.name)  # with the time it arrived
    summary = ingest_inbox(settings, log=lambda _: None)
    assert summary.quarantined == [paths[1].name] and summary.loaded_files == 3
    assert _query(settings, "select distinct period from raw.unit_report_values") == [(PERIOD,)]
    assert {r[0] for r in _query(settings, "select unit_code from raw.unit_report_files")} == {
        UNIT,
        "20",
    }
