"""The ``chiso`` console script, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess

import pytest

from tests.helpers.data import set_csv_cell
from tests.helpers.project import VENV_BIN

CHISO = str(VENV_BIN / "chiso")


def _run(args, data_dir, settings=None, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env["CHISO_DATA_DIR"] = str(data_dir)
    env.update(settings or {})
    return subprocess.run(
        [CHISO, *args], env=env, capture_output=True, text=True, timeout=600, **kwargs
    )


def test_a_bad_period_is_a_usage_error(tmp_path):
    out = _run(["run", "--period", "2025-13"], tmp_path)
    assert out.returncode == 2
    assert "YYYY-MM" in out.stderr


def test_validate_file_reports_cells_in_both_languages(tmp_path):
    from chiso.samples.report_files import generate

    generate(tmp_path / "ok", start="2025-06", end="2025-06")
    good = tmp_path / "ok" / "bao_cao_20.178_2025-06.csv"
    bad = tmp_path / "bad.csv"
    set_csv_cell(good, bad, "C9", "chín trăm")
    ok = _run(["validate-file", str(good)], tmp_path)
    assert ok.returncode == 0 and "hợp lệ / valid" in ok.stdout
    failed = _run(["validate-file", str(bad), str(tmp_path / "missing.csv")], tmp_path)
    assert failed.returncode == 1
    assert (
        "[error] dòng/row 9 — Ô C9: 'chín trăm' không phải là số; "
        "cell C9: 'chín trăm' is not a number" in failed.stdout
    )
    assert "file not found" in failed.stdout


@pytest.mark.slow
def test_demo_publishes_and_prints_a_query_that_works(demo):
    for stage in ("[1/4] ingest", "[2/4] build", "[3/4] gate", "[4/4] publish"):
        assert stage in demo.stdout
    assert "gate PASSED" in demo.stdout
    assert f"Marts published to {demo.published}" in demo.stdout
    query_line = next(
        line.strip() for line in demo.stdout.splitlines() if "duckdb.connect(" in line
    )
    query = subprocess.run(shlex.split(query_line), capture_output=True, text=True)
    assert query.returncode == 0, query.stderr
    assert "status" in query.stdout and "not_achieved" in query.stdout


@pytest.mark.slow
def test_the_main_job_ends_with_its_summary_and_keeps_dbts_log_in_a_file(demo):
    """One line per stage, no model-by-model dbt line (those are in dbt's log file, whose
    path the build line prints), and the summary in the last lines."""
    lines = demo.stdout.splitlines()
    dbt_line = re.compile(r"\d+ of \d+ (START|OK|PASS|WARN|ERROR|SKIP)\b")
    assert not [line for line in lines if dbt_line.search(line)]
    assert len(lines) < 60, demo.stdout
    summary = lines.index("Summary")
    assert len(lines) - summary <= 12
    assert lines[summary + 1].startswith("  ingest:") and lines[summary + 2].startswith("  build:")
    log = demo.data / "dbt" / "logs" / "dbt.log"
    assert any(line.endswith(f"dbt's log: {log}") for line in lines)
    held = log.read_text(encoding="utf-8")
    assert dbt_line.search(held) and "target_progress" in held


def test_verbose_streams_dbts_log_and_the_default_keeps_it_in_the_file(settings):
    from dataclasses import replace

    from warehouse.build import dbt_args

    quiet = dbt_args(settings, "build")
    loud = dbt_args(replace(settings, verbose=True), "build")
    assert quiet[quiet.index("--log-level") + 1] == "none"
    assert loud[loud.index("--log-level") + 1] == "info"
    assert quiet[quiet.index("--log-path") + 1] == str(settings.dbt_log_dir)
    assert quiet[quiet.index("--log-level-file") + 1] == "debug"


@pytest.mark.slow
def test_a_changed_landed_file_stops_the_run_with_its_name(demo_copy):
    from ingest.landing import sha256_file

    published = demo_copy / "published" / "chiso.duckdb"
    before = sha256_file(published)
    (demo_copy / "warehouse" / "chiso.duckdb").unlink()  # force a reload from landing
    landed = sorted((demo_copy / "landing" / "unit_files" / "2025-06").glob("*.csv"))[0]
    landed.chmod(0o644)
    landed.write_bytes(landed.read_bytes()[:-20])  # truncated
    out = _run(["run", "--period", "2025-06"], demo_copy)
    assert out.returncode == 1
    assert f"error: landed files failed their integrity check, not loaded: {landed}" in out.stderr
    assert "is unchanged" in out.stderr and sha256_file(published) == before


TOO_SMALL = "64MiB"  # DuckDB gets 38 MiB of it: the demo's largest models need more


def _manifest_models(data_dir) -> list[str]:
    manifest = json.loads((data_dir / "dbt" / "target" / "manifest.json").read_text())
    return [node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "model"]


def _files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.slow
def test_a_run_without_room_on_its_disk_refuses_to_start_and_touches_nothing(demo_copy):
    from chiso.samples.report_files import generate
    from ingest.landing import sha256_file

    published = demo_copy / "published" / "chiso.duckdb"
    before = sha256_file(published)
    generate(demo_copy / "inbox", start="2025-10", end="2025-10")
    inbox, landing = _files(demo_copy / "inbox"), _files(demo_copy / "landing")
    out = _run(["run", "--period", "2025-10"], demo_copy, {"CHISO_DISK_RESERVE": "1PiB"})
    assert out.returncode == 1
    assert "not enough free disk to start: " in out.stderr
    assert "the inbox's files, landed" in out.stderr and "CHISO_DISK_RESERVE=1024 TiB" in out.stderr
    assert "nothing was started" in out.stderr and "[1/4] ingest" not in out.stdout
    assert _files(demo_copy / "inbox") == inbox and _files(demo_copy / "landing") == landing
    assert sha256_file(published) == before


@pytest.mark.slow
def test_a_budget_too_small_for_a_model_names_the_model_and_the_budget(demo_copy):
    from ingest.landing import sha256_file

    published = demo_copy / "published" / "chiso.duckdb"
    before = sha256_file(published)
    out = _run(
        ["run", "--period", "2025-09", "--full-refresh"],
        demo_copy,
        {"CHISO_MEMORY_BUDGET": TOO_SMALL},
    )
    assert out.returncode == 1
    starved = re.search(r"error: (.+) ran out of memory: DuckDB may take (\d+) MiB", out.stderr)
    assert starved, out.stderr
    models = starved.group(1).split(", ")
    assert set(models) <= set(_manifest_models(demo_copy)) and models
    assert f"CHISO_MEMORY_BUDGET={TOO_SMALL.replace('MiB', ' MiB')}" in out.stderr
    assert "is unchanged" in out.stderr and sha256_file(published) == before


@pytest.mark.slow
def test_a_month_nobody_reported_stops_publication_with_the_check_named(tmp_path):
    from chiso.samples.report_files import generate
    from ingest.landing import sha256_file

    generate(tmp_path / "inbox", end="2025-06")
    assert _run(["run", "--period", "2025-06"], tmp_path).returncode == 0
    published = tmp_path / "published" / "chiso.duckdb"
    before = sha256_file(published)
    for path in generate(tmp_path / "inbox", start="2025-07", end="2025-09"):
        if "_2025-08" in path.name:
            path.unlink()  # August never arrived
    out = _run(["run", "--period", "2025-09"], tmp_path)
    assert out.returncode == 1
    assert "every_month_covered on indicator_observations" in out.stderr
    assert "NOT PUBLISHED" in out.stderr
    assert sha256_file(published) == before


@pytest.mark.slow
def test_status_names_the_publication_the_gate_and_who_has_not_reported(demo):
    import json

    status = _run(["status"], demo.data)
    assert status.returncode == 0, status.stderr
    record = json.loads((demo.data / "published" / "publications.jsonl").read_text())
    assert f"published: run {record['run_id']}, month 2025-09" in status.stdout
    assert f"last gate: run {record['run_id']} passed" in status.stdout
    docs = demo.data / "gate" / "data_docs" / "index.html"
    assert f"Great Expectations Data Docs: {docs}" in status.stdout
    # per province served, from the marts: targets by status, who has not reported
    import duckdb

    conn = duckdb.connect(str(demo.published), read_only=True)
    missing = conn.execute(
        "select province_code, unit_code, unit_name_vi, due_on from reporting_completeness "
        "where period = '2025-09' and reporting_status = 'missing' order by all"
    ).fetchall()
    schools = conn.execute(
        "select count(distinct target_id) from target_progress "
        "where province_code = '20' and unit_group = 'school'"
    ).fetchone()[0]
    conn.close()
    for province in ("20", "08", "14"):
        count = sum(1 for row in missing if row[0] == province)
        assert f"province {province} that have not reported for 2025-09: {count}" in status.stdout
    province, code, name, due_on = missing[0]
    assert f"{code}  {name}  (late, due {due_on})" in status.stdout
    assert schools == 8  # every school target of Lạng Sơn, on its imported schools
    # the figures to check with their units: the sample's one mistyped report
    assert "figures of province 20 to check with their units (outliers): 1" in status.stdout
    assert "  20.SXD  Sở Xây dựng tỉnh Lạng Sơn  " in status.stdout
    assert "figures of province 08 to check with their units (outliers): 0" in status.stdout
    only = _run(["status", "--province", "14"], demo.data)
    assert "province 14: targets by status" in only.stdout
    assert "province 20:" not in only.stdout
    validations = list((demo.data / "gate" / "data_docs" / "validations").rglob("*.html"))
    assert {page.parent.parent.parent.name for page in validations} >= {
        "target_progress",
        "indicator_observations",
        "reconciliation_province_totals",
    }


@pytest.mark.slow
def test_two_runs_at_once_one_waits_out_with_the_holder_named(tmp_path):
    import time

    from chiso.samples.report_files import generate

    generate(tmp_path / "inbox", start="2025-05", end="2025-06")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env.update(CHISO_DATA_DIR=str(tmp_path), CHISO_FAULT_PAUSE_BEFORE_REPLACE="8")
    first = subprocess.Popen(
        [CHISO, "run", "--period", "2025-06"], env=env, stdout=subprocess.PIPE, text=True
    )
    time.sleep(1.5)  # the first holds the lock from its start
    second = _run(["run", "--period", "2025-05"], tmp_path)
    assert second.returncode == 1
    assert "another chiso run holds the warehouse lock" in second.stderr
    assert f"pid {first.pid}" in second.stderr and "chiso run --period 2025-06" in second.stderr
    assert first.wait(timeout=300) == 0


def test_the_failure_callback_logs_and_posts_to_the_webhook(httpserver, monkeypatch, caplog):
    import json as json_module
    from types import SimpleNamespace

    from chiso.tasks import on_failure

    httpserver.expect_oneshot_request("/alert", method="POST").respond_with_data("ok")
    monkeypatch.setenv("CHISO_ALERT_WEBHOOK", httpserver.url_for("/alert"))
    task = SimpleNamespace(dag_id="chiso_pipeline", task_id="gate", run_id="r1", try_number=1)
    on_failure({"task_instance": task, "exception": RuntimeError("gate FAILED: 2 blocking")})
    ((request, _),) = httpserver.log
    sent = json_module.loads(request.get_data())
    assert sent["task_id"] == "gate" and "gate FAILED" in sent["error"]
    assert "chiso task failed" in caplog.text
    monkeypatch.setenv("CHISO_ALERT_WEBHOOK", "http://127.0.0.1:1/unreachable")
    on_failure({"task_instance": task, "exception": RuntimeError("x")})  # never raises
    assert "alert webhook failed" in caplog.text


def test_a_month_with_no_figures_says_so_and_names_the_latest_month_with_some(tmp_path):
    from chiso.samples.report_files import generate

    generate(tmp_path / "inbox", start="2025-06", end="2025-06")
    out = _run(["run", "--period", "2026-10"], tmp_path)
    assert out.returncode == 1, out.stderr[-2000:]
    assert "no figures for 2026-10 (unit report files: 0, index-766 scores: 0)" in out.stderr
    assert "the latest month with figures is 2025-06 (chiso run --period 2025-06)" in out.stderr
    assert "What is published" in out.stderr and "unchanged" in out.stderr
    assert not (tmp_path / "published" / "chiso.duckdb").exists()


def test_main_in_process_changes_no_signal_disposition(settings, capsys):
    """Tests and Airflow tasks call ``main`` in their own process: it must not set SIGPIPE to
    its default there (a peer hanging up on any socket would then kill the process), which
    only the console script does."""
    import signal

    from chiso.cli import main

    before = signal.getsignal(signal.SIGPIPE)
    assert main(["calendar", "show", "--year", "2025"]) == 0
    assert "2025" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGPIPE) == before != signal.SIG_DFL


def test_the_console_script_ends_quietly_on_a_closed_pipe(tmp_path):
    """``chiso ... | head -1``: no BrokenPipeError traceback. The second command writes after
    ``head`` has gone (the pause lets it go)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env["CHISO_DATA_DIR"] = str(tmp_path / "data")
    show = f"{shlex.quote(CHISO)} calendar show --year 2025"
    out = subprocess.run(
        ["bash", "-c", f"({show}; sleep 1; {show}) | head -1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.stdout.count("\n") == 1
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr, out.stderr
