"""Inbox -> landing / quarantine -> raw: nothing lost, nothing loaded twice."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from openpyxl import load_workbook

from ingest.inbox import ingest_inbox
from ingest.readers import MIN_FILES_FOR_WORKERS
from ingest.sources.unit_files import read_report
from warehouse.settings import load_settings


@pytest.fixture
def sample_inbox(settings):
    """Five months of sample files around the July 2025 reorganisation (fast to ingest)."""
    from chiso.samples.report_files import generate

    return generate(settings.inbox_dir, start="2025-04", end="2025-08")


def _raw_counts(settings) -> tuple[int, int]:
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        files = conn.execute("select count(*) from raw.unit_report_files").fetchone()[0]
        rows = conn.execute("select count(*) from raw.unit_report_values").fetchone()[0]
        return files, rows
    finally:
        conn.close()


def test_ingest_lands_loads_and_empties_the_inbox(settings, sample_inbox):
    figures = sum(len(read_report(path).rows) for path in sample_inbox)
    summary = ingest_inbox(settings, log=lambda _: None)
    assert summary.received == summary.landed == summary.loaded_files == len(sample_inbox)
    assert summary.loaded_rows == figures
    assert list(settings.inbox_dir.iterdir()) == []
    landed = [p for p in (settings.landing_dir / "unit_files").rglob("*") if p.suffix != ".json"]
    assert len([p for p in landed if p.is_file()]) == len(sample_inbox)
    assert _raw_counts(settings) == (len(sample_inbox), figures)


def test_the_same_file_sent_again_is_not_loaded_twice(settings, sample_inbox):
    ingest_inbox(settings, log=lambda _: None)
    before = _raw_counts(settings)
    from chiso.samples.report_files import generate

    again = generate(settings.inbox_dir, start="2025-06", end="2025-06")  # the same bytes
    summary = ingest_inbox(settings, log=lambda _: None)
    assert (summary.received, summary.landed, summary.duplicates) == (len(again), 0, len(again))
    assert summary.loaded_files == 0 and summary.already_loaded == before[0]
    assert _raw_counts(settings) == before


def test_a_rejected_file_goes_to_quarantine_with_its_report(settings, sample_inbox):
    bad = settings.inbox_dir / "bao_cao_20.SNV_2025-06.xlsx"
    workbook = load_workbook(bad)
    workbook.active["D10"] = "nhiều"
    workbook.save(bad)
    messages: list[str] = []
    summary = ingest_inbox(settings, log=messages.append)
    assert summary.quarantined == [bad.name]
    (folder,) = (settings.quarantine_dir / "unit_files").iterdir()
    assert (folder / bad.name).is_file()
    report = json.loads((folder / "errors.json").read_text(encoding="utf-8"))
    assert report["errors"][0]["cell"] == "D10"
    assert "không phải là số" in report["errors"][0]["vi"]
    assert "is not a number" in (folder / "errors.txt").read_text(encoding="utf-8")
    assert any("D10" in line for line in messages)
    assert _raw_counts(settings)[0] == len(sample_inbox) - 1


def test_a_landed_file_that_changed_is_reported_and_not_loaded(settings, sample_inbox):
    ingest_inbox(settings, log=lambda _: None)
    # a fresh warehouse, and one landed file altered on disk
    settings.warehouse_path.unlink()
    landed = sorted((settings.landing_dir / "unit_files").glob("2025-06/*.csv"))[0]
    os.chmod(landed, 0o644)
    landed.write_bytes(landed.read_bytes() + b"\n")
    summary = ingest_inbox(settings, log=lambda _: None)
    assert summary.integrity_errors == [str(landed)]
    assert summary.loaded_files == len(sample_inbox) - 1


def test_an_implausible_jump_is_loaded_with_a_warning(settings, sample_inbox, tmp_path):
    from chiso.samples.report_files import generate
    from tests.helpers.data import set_csv_cell

    ingest_inbox(settings, log=lambda _: None)
    generate(tmp_path / "sep", start="2025-09", end="2025-09")
    jump = settings.inbox_dir / "bao_cao_20.STP_2025-09_khac.csv"
    set_csv_cell(tmp_path / "sep" / "bao_cao_20.STP_2025-09.csv", jump, "C9", "1")
    set_csv_cell(jump, jump, "D9", "100.000")
    messages: list[str] = []
    summary = ingest_inbox(settings, log=messages.append)
    assert summary.loaded_files == 1 and summary.quarantined == []
    assert [w.split(": ", 1)[0] for w in summary.warnings] == [jump.name, jump.name]
    assert "cell C9: implausible change against 2025-08" in summary.warnings[0]
    assert "cell D9: implausible denominator against 2025-08" in summary.warnings[1]
    assert any(m.strip().startswith("warning") for m in messages)


def test_a_landed_file_that_todays_rules_reject_is_reported_not_fatal(
    settings, sample_inbox, monkeypatch
):
    import shutil

    from tests.helpers.project import PROJECT_ROOT

    ingest_inbox(settings, log=lambda _: None)
    settings.warehouse_path.unlink()  # reload everything from landing ...
    project = settings.data_dir / "dbt_p"
    shutil.copytree(PROJECT_ROOT / "dbt_project" / "seeds", project / "seeds")
    departments = project / "seeds" / "departments.csv"
    lines = departments.read_text(encoding="utf-8").splitlines(keepends=True)
    departments.write_text(  # ... under a registry that no longer has Sở Tư pháp
        "".join(line for line in lines if not line.startswith("20,STP,")), encoding="utf-8"
    )
    monkeypatch.setenv("CHISO_DBT_PROJECT_DIR", str(project))
    summary = ingest_inbox(settings, log=lambda _: None)
    justice = [path for path in sample_inbox if "20.STP_" in path.name]
    assert len(summary.not_loadable) == len(justice) > 0
    assert summary.integrity_errors == []
    assert summary.loaded_files == len(sample_inbox) - len(justice)


def test_the_quarantine_report_names_sheet_row_and_cell(settings, tmp_path):
    from openpyxl import load_workbook

    from chiso.samples.report_files import generate

    generate(tmp_path / "june", start="2025-06", end="2025-06")
    bad = settings.inbox_dir / "bao_cao_20.SNV_2025-06.xlsx"
    workbook = load_workbook(tmp_path / "june" / bad.name)
    workbook.active["C11"] = "mười"
    workbook.save(bad)
    ingest_inbox(settings, log=lambda _: None)
    (folder,) = (settings.quarantine_dir / "unit_files").iterdir()
    (error,) = json.loads((folder / "errors.json").read_text(encoding="utf-8"))["errors"]
    assert (error["sheet"], error["row"], error["cell"]) == ("Báo cáo", 11, "C11")
    assert "trang/sheet 'Báo cáo', dòng/row 11 — Ô C11" in (folder / "errors.txt").read_text(
        encoding="utf-8"
    )


def test_an_airflow_task_and_a_cli_run_never_write_at_once(settings):
    """The Airflow task functions take the same lock as `chiso run`: a task started while a
    CLI run holds it fails naming the holder (and Airflow retries ingestion later)."""
    import subprocess
    import sys
    import textwrap

    import pytest

    from chiso import tasks
    from warehouse.lock import LockedError

    holder = subprocess.Popen(  # another process, as a CLI run would be
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from warehouse.lock import run_lock
                with run_lock(Path({str(settings.lock_path)!r}), "chiso run --period 2025-06"):
                    print("held", flush=True)
                    time.sleep(30)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        for task in (tasks.ingest, tasks.ingest_unit_files):
            with pytest.raises(LockedError, match="chiso run --period 2025-06"):
                task()
    finally:
        holder.kill()
        holder.wait()
    tasks.ingest()  # the holder was killed: its lock went with it, nothing stale is left


def test_worker_processes_load_what_one_process_loads(settings, sample_inbox, tmp_path):
    """The same files read by two worker processes and by this one alone: the same raw
    tables, row for row (lineage timestamps aside), and the same summary."""
    import shutil
    from dataclasses import replace

    from tests.helpers.runs import chiso_environment
    from warehouse.settings import load_settings

    alone = tmp_path / "alone"
    shutil.copytree(settings.inbox_dir, alone / "inbox")  # with the mtimes: the receipts
    assert len(sample_inbox) >= MIN_FILES_FOR_WORKERS  # enough files for the workers
    parallel = ingest_inbox(replace(settings, ingest_workers=2), log=lambda _: None)
    saved = dict(os.environ)
    os.environ.update(chiso_environment(alone))
    try:
        single = ingest_inbox(replace(load_settings(), ingest_workers=1), log=lambda _: None)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (parallel.workers, single.workers) == (2, 1)
    assert parallel.line().replace(" (read by 2 worker processes)", "") == single.line()

    def raw(path):
        drop = {"loaded_at", "recorded_at", "landed_path", "fetched_at"}
        conn = duckdb.connect(str(path), read_only=True)
        try:
            out = {}
            for (table,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall():
                columns = [
                    c
                    for (c,) in conn.execute(
                        "select column_name from information_schema.columns "
                        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                        [table],
                    ).fetchall()
                    if c not in drop
                ]
                rows = conn.execute(f"select {', '.join(columns)} from raw.{table}").fetchall()
                out[table] = sorted(rows, key=repr)
            return out
        finally:
            conn.close()

    assert raw(settings.warehouse_path) == raw(alone / "warehouse" / "chiso.duckdb")
    assert raw(settings.warehouse_path)["unit_report_files"]


def test_reader_workers_never_import_the_callers_main_script(settings, sample_inbox, tmp_path):
    """A worker is an interpreter of chiso's own: a script that ingests at its top level, and
    cannot be imported twice (as Airflow's ``airflow`` script cannot inside a task, where the
    metadata database is blocked), still has its files read by two workers."""
    import subprocess
    import sys

    from tests.helpers.runs import chiso_environment
    from warehouse.settings import PROJECT_ROOT

    script = tmp_path / "ingest_at_top_level.py"
    script.write_text(
        "import sys\n"
        "if __name__ != '__main__':\n"
        "    sys.exit('this script was imported again by a reader')\n"
        "from dataclasses import replace\n"
        "from ingest.inbox import ingest_inbox\n"
        "from warehouse.settings import load_settings\n"
        "summary = ingest_inbox(replace(load_settings(), ingest_workers=2), log=lambda _: None)\n"
        "print(summary.workers, summary.loaded_files)\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        env=chiso_environment(settings.data_dir),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["2", str(len(sample_inbox))]


def test_a_reader_worker_failure_is_raised_with_its_traceback(tmp_path):
    """A bug while reading (here: the file vanished under the reader) stops the run with the
    worker's own traceback; the workers are gone after the block."""
    from ingest.readers import ReaderError, Readers, Request
    from ingest.registry import Registry

    gone = [Request(tmp_path / f"gone_{n}.xlsx", f"gone_{n}.xlsx") for n in range(40)]
    settings = replace(load_settings(), ingest_workers=2)
    readers = Readers(settings, Registry({}, []), [])
    with pytest.raises(ReaderError, match="FileNotFoundError") as failure, readers:
        pool = readers._start()
        list(readers.read(gone))
    assert "gone_0.xlsx" in str(failure.value)
    assert all(worker.process.poll() is not None for worker in pool)


def test_a_read_left_unfinished_never_hands_its_answers_to_the_next(settings, sample_inbox):
    """Workers answer in the order asked: a caller that stops taking one read's results
    must not get them from its next read."""
    from ingest.readers import Readers, Request
    from ingest.registry import built_in

    paths = sorted(sample_inbox)[: 3 * MIN_FILES_FOR_WORKERS]
    first = [Request(path, path.name) for path in paths[: 2 * MIN_FILES_FOR_WORKERS]]
    second = [Request(path, path.name) for path in paths[2 * MIN_FILES_FOR_WORKERS :]]
    two = replace(settings, ingest_workers=2)
    with Readers(two, built_in(settings.provinces), []) as readers:
        unfinished = readers.read(first)
        assert next(unfinished).request == first[0]
        unfinished.close()  # the caller moved on with answers still owed
        assert [read.request for read in readers.read(second)] == second


def test_staged_copies_land_first_received_first_and_none_is_left(settings, sample_inbox):
    """The reader workers write each valid file's copy and sidecar beside its landing
    place; the run renames them in the order received: the same bytes sent twice keep the
    first receipt, every landed file holds the bytes its name says, and no staged copy
    stays (one a stopped run left is removed)."""
    import shutil
    from dataclasses import replace

    from ingest.landing import STAGE_SUFFIX, sha256_file
    from tests.helpers.clerk_files import received

    first = sorted(sample_inbox)[0]
    again = settings.inbox_dir / f"gui_lai_{first.name}"
    shutil.copyfile(first, again)
    received(again, datetime.fromtimestamp(first.stat().st_mtime, UTC) + timedelta(days=1))
    stale = settings.landing_dir / "unit_files" / "2025-06" / f".{'0' * 64}.1.0{STAGE_SUFFIX}"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by a run that was killed")
    lines: list[str] = []
    sent_twice = sha256_file(first)

    summary = ingest_inbox(replace(settings, ingest_workers=2), log=lines.append)
    assert summary.workers == 2 and summary.duplicates == 1
    assert summary.landed == summary.loaded_files == len(sample_inbox)
    assert any("removed 1 staged" in line for line in lines)
    landing = settings.landing_dir / "unit_files"
    assert not [p for p in landing.rglob("*") if p.name.endswith(STAGE_SUFFIX)]
    copies = [p for p in landing.glob("*/*") if not p.name.endswith(".json")]
    assert len(copies) == len(sample_inbox)
    assert all(sha256_file(p) == p.name.split(".")[0] for p in copies)
    (sidecar,) = landing.glob(f"*/{sent_twice}.*.meta.json")
    assert json.loads(sidecar.read_text(encoding="utf-8"))["original_name"] == first.name
