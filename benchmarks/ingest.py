"""Benchmarks, run by ``chiso bench ...``; results are recorded in docs/BENCHMARKS.md.

``ingest``: a national month of report files (5,000 xlsx files of the template, one per
unit) through the real inbox flow (validate, land, load into DuckDB), next to the floor:
only opening the same files and reading every cell of every sheet with the same reader,
python-calamine; and, for the record, the same with openpyxl (the reader before it). Each
side runs in a fresh process so that its peak memory is its own.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from warehouse.settings import PROJECT_ROOT

# the files arrive on the day they say they were sent (June is locked since February 2026)
RECEIVED = datetime(2025, 7, 5, 2, tzinfo=UTC)
BENCH_PROVINCE = "20"


def _prepare(workdir: Path, files: int) -> Path:
    """A copy of the seeds (and macros) with ``files`` extra departments, and one file per
    department."""
    from ingest.template import report_rows, report_workbook, save_workbook

    project = workdir / "dbt_project"
    shutil.copytree(PROJECT_ROOT / "dbt_project" / "seeds", project / "seeds")
    # the inbox renders the project's submission rule (macro unit_report_submissions)
    shutil.copytree(PROJECT_ROOT / "dbt_project" / "macros", project / "macros")
    with open(project / "seeds" / "departments.csv", "a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for number in range(files):  # the registry builds units from the departments seed
            writer.writerow([BENCH_PROVINCE, f"B{number:05d}", f"Đơn vị {number}", "", "", "", ""])
    from warehouse import reference

    previous = os.environ.get("CHISO_DBT_PROJECT_DIR")
    os.environ["CHISO_DBT_PROJECT_DIR"] = str(project)
    try:
        indicators = reference.indicators_for_group("department", BENCH_PROVINCE)
    finally:
        if previous is None:
            del os.environ["CHISO_DBT_PROJECT_DIR"]
        else:
            os.environ["CHISO_DBT_PROJECT_DIR"] = previous
    inbox = workdir / "inbox"
    inbox.mkdir()
    for number in range(files):
        header = {
            "unit_code": f"{BENCH_PROVINCE}.B{number:05d}",
            "unit_name": f"Đơn vị {number}",
            "period": "06/2025",
            "reporter": "Nguyễn Văn An",
            "sent_on": "05/07/2025",
        }
        figures = [(i, 100 + number % 50, 200 + number % 70) for i in indicators]
        path = inbox / f"f{number}.xlsx"
        save_workbook(report_workbook(report_rows(header, figures)), path)
        os.utime(path, (RECEIVED.timestamp(), RECEIVED.timestamp()))  # the day it was sent
    return inbox


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _floor(inbox: str) -> dict:
    """Reading the files and nothing else: every cell of every sheet, python-calamine."""
    import python_calamine

    started = time.perf_counter()
    cells = 0
    for path in sorted(Path(inbox).iterdir()):
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        for name in workbook.sheet_names:
            for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False):
                cells += len(row)
        workbook.close()
    return {"seconds": time.perf_counter() - started, "cells": cells, "peak_mib": _peak_mib()}


def _openpyxl(inbox: str) -> dict:
    """The same with openpyxl (read-only, cached values): chiso's reader until 2026-12."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    cells = 0
    for path in sorted(Path(inbox).iterdir()):
        workbook = load_workbook(path, read_only=True, data_only=True)
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
        workbook.close()
    return {"seconds": time.perf_counter() - started, "cells": cells, "peak_mib": _peak_mib()}


def _pipeline(inbox: str) -> dict:
    from ingest.inbox import ingest_inbox
    from warehouse.settings import load_settings

    settings = load_settings()
    started = time.perf_counter()
    summary = ingest_inbox(settings, log=lambda _: None)
    return {
        "seconds": time.perf_counter() - started,
        "loaded": summary.loaded_files,
        "quarantined": len(summary.quarantined),
        "peak_mib": _peak_mib(),
    }


def _child(kind: str, workdir: Path) -> dict:
    env = dict(os.environ, CHISO_DATA_DIR=str(workdir / "data"))
    env["CHISO_INBOX_DIR"] = str(workdir / "inbox")
    env["CHISO_DBT_PROJECT_DIR"] = str(workdir / "dbt_project")
    inbox = str(workdir / "inbox")
    code = f"import json, benchmarks.ingest as b; print(json.dumps(b._{kind}({inbox!r})))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_ingest(files: int = 5000) -> dict:
    with tempfile.TemporaryDirectory(prefix="chiso-bench-") as folder:
        workdir = Path(folder)
        print(f"writing {files} template files ...", flush=True)
        _prepare(workdir, files)
        print("floor: opening and reading every cell with python-calamine ...", flush=True)
        floor = _child("floor", workdir)
        print("the same with openpyxl ...", flush=True)
        openpyxl = _child("openpyxl", workdir)
        print("pipeline: validate, land, load into DuckDB ...", flush=True)
        pipeline = _child("pipeline", workdir)
    result = {
        "files": files,
        "floor_files_per_second": files / floor["seconds"],
        "pipeline_files_per_second": files / pipeline["seconds"],
        "ratio_pipeline_to_floor": pipeline["seconds"] / floor["seconds"],
        "openpyxl_files_per_second": files / openpyxl["seconds"],
        "floor_peak_mib": floor["peak_mib"],
        "pipeline_peak_mib": pipeline["peak_mib"],
        "loaded": pipeline["loaded"],
        "quarantined": pipeline["quarantined"],
    }
    if pipeline["loaded"] != files:
        raise RuntimeError(f"the benchmark's files did not all load: {result}")
    return result
