"""The DAGs: they import cleanly and light, and run for real under ``dag.test()``."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys

import pytest

from tests.helpers.data import expected_progress_pairs
from tests.helpers.postgres_server import fresh_database
from tests.helpers.project import PROJECT_ROOT, TEST_PROVINCES, VENV_BIN

DAGS = sorted((PROJECT_ROOT / "dags").glob("*.py"))
HEAVY = {
    "pandas",
    "duckdb",
    "great_expectations",
    "dbt",
    "openpyxl",
    "ingest",
    "warehouse",
    "chiso",
}
LIGHT = {"warehouse.settings"}  # the settings: the standard library only (checked below)
COSMOS_DAG = "chiso_pipeline_models.py"  # renders dbt through cosmos: imports it by design


@pytest.mark.parametrize("path", DAGS, ids=lambda p: p.name)
def test_dag_files_import_nothing_heavy_at_top_level(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            heavy = name.split(".")[0] in HEAVY and name not in LIGHT
            assert not heavy, f"{path.name} imports {name} at top level"
            if name.startswith("cosmos"):
                assert path.name == COSMOS_DAG, f"{path.name} imports cosmos"
            if name.startswith("airflow"):
                assert name == "airflow.sdk", f"{path.name}: import from airflow.sdk only"


def test_dag_files_share_their_wiring_instead_of_repeating_it():
    """The time zone comes from the settings, and each Asset is declared once (in the
    shared module): a DAG file names neither a zone nor an Asset's name."""
    common = PROJECT_ROOT / "dags" / "chiso_common.py"
    names = re.findall(r'Asset\("([^"]+)"\)', common.read_text(encoding="utf-8"))
    assert len(names) == len(set(names)) >= 2
    assert "chiso_common.py" in (PROJECT_ROOT / "dags" / ".airflowignore").read_text()
    for path in DAGS:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"[A-Z][a-z]+/[A-Z][a-z_]+", text), f"{path.name} names a zone"
        if path == common:
            continue
        assert "Asset(" not in text, f"{path.name} declares an Asset"
        assert "on_failure_callback" not in text, f"{path.name} writes its default arguments"
        for name in names:
            assert name not in text, f"{path.name} repeats the Asset name {name}"


# the settings and what they import: the standard library only, nothing that connects
LIGHT_CHAIN = ("warehouse.settings", "warehouse.errors", "warehouse.bilingual")


@pytest.mark.parametrize("module", LIGHT_CHAIN)
def test_the_settings_a_dag_file_may_read_import_the_standard_library_only(module):
    import sys

    path = PROJECT_ROOT / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "level", 0) == 0:
            modules = (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            )
            for imported in modules:
                top = imported.split(".")[0]
                light = top in sys.stdlib_module_names or top == "__future__"
                assert light or imported in LIGHT_CHAIN, f"{module} imports {imported}"


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "CHISO_"))
    }
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        CHISO_DATA_DIR=str(home / "chiso_data"),
        CHISO_PROVINCES=TEST_PROVINCES,
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    migrate = subprocess.run(
        [str(VENV_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    manifest = subprocess.run(  # the cosmos DAG renders from it
        [str(VENV_BIN / "chiso"), "dbt-manifest"], env=env, capture_output=True, text=True
    )
    assert manifest.returncode == 0, manifest.stderr[-3000:]
    return env


@pytest.mark.slow
def test_dagbag_has_no_import_errors_and_every_dag_is_documented(airflow_env):
    code = """
import json
from pathlib import Path
from airflow import settings
from airflow.dag_processing.dagbag import BundleDagBag
bag = BundleDagBag(collect_dags=True, bundle_path=Path(settings.DAGS_FOLDER))
print("RESULT " + json.dumps({
    "errors": {str(k): v for k, v in bag.import_errors.items()},
    "dags": {d.dag_id: {"tags": sorted(d.tags), "owner": d.owner, "doc": bool(d.doc_md),
             "catchup": d.catchup, "schedule": str(d.schedule),
             "pools": {t.task_id: t.pool for t in d.tasks},
             "callback": bool(d.default_args.get("on_failure_callback"))}
             for d in bag.dags.values()},
}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=airflow_env, capture_output=True, text=True
    )
    result = _result(out)
    assert result["errors"] == {}
    assert set(result["dags"]) == {
        "chiso_pipeline",
        "chiso_pipeline_models",
        "chiso_monthly_close",
        "chiso_ingest_unit_files",
        "chiso_ingest_portal",
        "chiso_reminders",
    }
    for dag_id, dag in result["dags"].items():
        assert dag["tags"] and dag["doc"], dag_id
        assert dag["owner"] not in ("", "airflow"), dag_id
        assert dag["catchup"] is False, dag_id
        assert dag["schedule"] not in ("", "None") or dag_id == "chiso_pipeline_models", dag_id
        assert dag["callback"], f"{dag_id} has no failure callback"
    # every task that takes the warehouse lock (to write it, or to read raw) shares the
    # one-slot pool: none waits on the lock, or fails on it, beside a task of the pool
    writers = {
        ("chiso_pipeline", "resolve_period"),
        ("chiso_pipeline_models", "resolve_period"),
        ("chiso_monthly_close", "resolve_period"),
        ("chiso_pipeline", "ingest"),
        ("chiso_pipeline", "build"),
        ("chiso_pipeline", "publish"),
        ("chiso_monthly_close", "snapshot"),
        ("chiso_ingest_unit_files", "ingest"),
        ("chiso_ingest_portal", "fetch_and_load"),
        ("chiso_reminders", "send_reminders"),
        ("chiso_pipeline_models", "ingest"),
        ("chiso_pipeline_models", "candidate"),
        ("chiso_pipeline_models", "publish"),
        ("chiso_pipeline_models", "dbt.dbt_producer_watcher"),  # watcher mode: one dbt build
    }
    for dag_id, task_id in writers:
        assert result["dags"][dag_id]["pools"][task_id] == "chiso_warehouse", (dag_id, task_id)
    sensors = [t for t in result["dags"]["chiso_pipeline_models"]["pools"] if t.endswith("_run")]
    assert sensors and all(  # a model's sensor only waits: it must not hold the writer's slot
        result["dags"]["chiso_pipeline_models"]["pools"][t] != "chiso_warehouse" for t in sensors
    )
    assert "Asset" in result["dags"]["chiso_pipeline"]["schedule"]


def _run_dag(env: dict, dag_id: str, conf: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "tests" / "helpers" / "run_dag.py"),
            dag_id,
            json.dumps(conf),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _result(completed: subprocess.CompletedProcess) -> dict:
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result; exit {completed.returncode}\n{completed.stderr[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.fixture(scope="session")
def pipeline_run(airflow_env):
    """The pipeline DAG run once under dag.test() on the sample, as of June 2025."""
    from pathlib import Path

    from chiso.samples.report_files import generate

    data = Path(airflow_env["CHISO_DATA_DIR"])
    os.environ["CHISO_DATA_DIR"] = str(data)  # the generator reads the unit registry only
    try:
        generate(data / "inbox", end="2025-06")
    finally:
        del os.environ["CHISO_DATA_DIR"]
    # the inbox belongs to the unit-files DAG (its Asset triggers the pipeline)
    assert _result(_run_dag(airflow_env, "chiso_ingest_unit_files", {}))["state"] == "success"
    return _run_dag(airflow_env, "chiso_pipeline", {"period": "2025-06"})


@pytest.mark.slow
def test_pipeline_dag_runs_the_slice_and_publishes(airflow_env, pipeline_run):
    from pathlib import Path

    data = Path(airflow_env["CHISO_DATA_DIR"])
    out = pipeline_run
    result = _result(out)
    assert result["state"] == "success", out.stderr[-4000:]
    assert set(result["tasks"].values()) == {"success"}
    assert set(result["tasks"]) == {"resolve_period", "ingest", "build", "gate", "publish"}
    published = data / "published" / "chiso.duckdb"
    assert published.is_file()

    import duckdb

    conn = duckdb.connect(str(published), read_only=True)
    try:
        pairs = set(conn.execute("select target_id, unit_code from target_progress").fetchall())
        assert pairs == expected_progress_pairs("2025-06")
        assert conn.execute("select distinct as_of_period from target_progress").fetchall() == [
            ("2025-06",)
        ]
    finally:
        conn.close()


@pytest.mark.slow
def test_monthly_close_dag_snapshots_the_published_month(airflow_env, pipeline_run):
    from pathlib import Path

    assert _result(pipeline_run)["state"] == "success"
    data = Path(airflow_env["CHISO_DATA_DIR"])
    out = _run_dag(airflow_env, "chiso_monthly_close", {"period": "2025-06"})
    result = _result(out)
    assert result["state"] == "success", out.stderr[-4000:]
    manifest = json.loads((data / "snapshots" / "2025-06" / "manifest.json").read_text())
    assert manifest["period"] == "2025-06" and manifest["files"]
    assert set(result["tasks"]) == {"resolve_period", "verify_snapshots", "snapshot", "report"}
    report = (data / "reports" / "bao_cao_20_2025-06.html").read_text(encoding="utf-8")
    assert 'data-chart="status-by-pillar"' in report


@pytest.mark.slow
def test_the_pipeline_and_the_monthly_close_run_the_same_on_postgresql(airflow_env, pg_server):
    """The DAGs on the PostgreSQL warehouse: published as schema ``published``, the
    snapshot and a report for each province the instance serves."""
    import shutil
    from pathlib import Path

    import psycopg

    from chiso.samples.report_files import generate

    env = _own_data_dir(airflow_env, "on_postgres")
    data = Path(env["CHISO_DATA_DIR"])
    shutil.copytree(data / "dbt" / "target", data / "dbt" / "target-postgres")  # cosmos DAG
    env.update(
        fresh_database(pg_server, "dags"), CHISO_WAREHOUSE="postgres", CHISO_PROVINCES="20,08"
    )
    generate(data / "inbox", start="2025-01", end="2025-06")
    assert _result(_run_dag(env, "chiso_ingest_unit_files", {}))["state"] == "success"
    out = _run_dag(env, "chiso_pipeline", {"period": "2025-06"})
    result = _result(out)
    assert result["state"] == "success", (result["tasks"], out.stdout[-6000:])
    assert not (data / "published" / "chiso.duckdb").exists()  # nothing on the DuckDB side
    with psycopg.connect(
        host=env["CHISO_PG_HOST"],
        port=int(env["CHISO_PG_PORT"]),
        user=env["CHISO_PG_USER"],
        dbname=env["CHISO_PG_DBNAME"],
    ) as conn:
        period = conn.execute("select as_of_period from published._publication").fetchone()
        pairs = set(conn.execute("select target_id, unit_code from published.target_progress"))
    assert period == ("2025-06",)
    assert pairs == expected_progress_pairs("2025-06", provinces=("20", "08"))

    out = _run_dag(env, "chiso_monthly_close", {"period": "2025-06"})
    assert _result(out)["state"] == "success", out.stderr[-4000:]
    assert json.loads((data / "snapshots" / "2025-06" / "manifest.json").read_text())["files"]
    for province in ("20", "08"):
        page = (data / "reports" / f"bao_cao_{province}_2025-06.html").read_text(encoding="utf-8")
        assert 'data-chart="status-by-pillar"' in page, province


def _own_data_dir(airflow_env: dict, name: str) -> dict:
    """The Airflow environment with its own chiso data directory (and a copy of the dbt
    manifest the cosmos DAG renders from, so the DagBag still loads every DAG)."""
    import shutil
    from pathlib import Path

    env = dict(airflow_env, CHISO_DATA_DIR=str(Path(airflow_env["AIRFLOW_HOME"]) / name))
    manifest = Path("dbt", "target", "manifest.json")
    target = Path(env["CHISO_DATA_DIR"]) / manifest
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(airflow_env["CHISO_DATA_DIR"]) / manifest, target)
    return env


def _asset_events(env: dict, asset: str) -> int:
    import sqlite3
    from pathlib import Path

    db = sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")
    try:
        return db.execute(
            "select count(*) from asset_event e join asset a on a.id = e.asset_id where a.name = ?",
            [asset],
        ).fetchone()[0]
    finally:
        db.close()


@pytest.mark.slow
def test_unit_file_dag_loads_new_files_then_skips_and_emits_its_asset_once(airflow_env):
    from pathlib import Path

    from chiso.samples.report_files import generate

    env = _own_data_dir(airflow_env, "unit_files_data")
    os.environ["CHISO_DATA_DIR"] = env["CHISO_DATA_DIR"]
    try:
        files = generate(Path(env["CHISO_DATA_DIR"]) / "inbox", start="2025-06", end="2025-06")
    finally:
        del os.environ["CHISO_DATA_DIR"]
    before = _asset_events(env, "chiso_raw_unit_reports")
    first = _result(_run_dag(env, "chiso_ingest_unit_files", {}))
    assert first == {"state": "success", "tasks": {"ingest": "success"}}
    second = _result(_run_dag(env, "chiso_ingest_unit_files", {}))
    assert second["tasks"] == {"ingest": "skipped"}  # nothing new: no Asset event
    assert _asset_events(env, "chiso_raw_unit_reports") == before + 1

    import duckdb

    conn = duckdb.connect(str(Path(env["CHISO_DATA_DIR"]) / "warehouse" / "chiso.duckdb"))
    assert conn.execute("select count(*) from raw.unit_report_files").fetchone()[0] == len(files)
    conn.close()


@pytest.mark.slow
def test_portal_dag_fetches_this_and_last_month_through_the_connector(airflow_env, httpserver):
    import json as json_module
    from pathlib import Path

    from werkzeug import Response

    from chiso.samples.portal_replay import portal_answer
    from ingest.sources.portal_766 import NEW_PATH

    asked = []

    def answer(request):
        body = json_module.loads(request.get_data())
        asked.append((body["year"], body["month"]))
        return Response(portal_answer(body["year"], body["month"]), content_type="application/json")

    httpserver.expect_request(NEW_PATH, method="POST").respond_with_handler(answer)
    env = _own_data_dir(airflow_env, "portal_data")
    env.update(CHISO_PORTAL_BASE_URL=httpserver.url_for(""), CHISO_PORTAL_APIS="new")
    result = _result(_run_dag(env, "chiso_ingest_portal", {}))
    assert result == {"state": "success", "tasks": {"fetch_and_load": "success"}}
    assert len(asked) == 2 and asked[0] != asked[1]

    import duckdb

    conn = duckdb.connect(str(Path(env["CHISO_DATA_DIR"]) / "warehouse" / "chiso.duckdb"))
    periods = conn.execute(
        "select period, count(*) from raw.portal_766_scores group by period order by period"
    ).fetchall()
    conn.close()
    assert [count for _, count in periods] == [34, 34]


@pytest.mark.slow
def test_a_backfill_of_months_plans_one_run_per_month(airflow_env):
    airflow = str(VENV_BIN / "airflow")
    reserialize = subprocess.run(
        [airflow, "dags", "reserialize"], env=airflow_env, capture_output=True, text=True
    )
    assert reserialize.returncode == 0, reserialize.stderr[-2000:]
    plan = subprocess.run(
        [
            airflow,
            "backfill",
            "create",
            "--dag-id",
            "chiso_pipeline",
            "--from-date",
            "2025-02-01",
            "--to-date",
            "2025-07-31",
            "--dry-run",
        ],
        env=airflow_env,
        capture_output=True,
        text=True,
    )
    assert plan.returncode == 0, plan.stderr[-2000:]
    # 06:00 in Hà Nội on the 10th = 23:00 UTC on the 9th: runs for January to June
    runs = sorted(set(re.findall(r"2025-\d\d-09 23:00:00", plan.stdout)))
    assert [run[:7] for run in runs] == [f"2025-0{m}" for m in range(2, 8)]


@pytest.mark.slow
def test_in_runner_mode_every_dbt_model_is_a_task_of_its_own_in_the_one_slot_pool(airflow_env):
    """``CHISO_COSMOS_MODE=runner`` renders a task per dbt model (its tests run with it),
    each in the warehouse pool. Rendered here, not run: the default watcher mode runs
    under a real scheduler in test_airflow_standalone.py, and a run in runner mode is
    measured in docs/BENCHMARKS.md (215 s on the sample against watcher's 55 s)."""
    code = """
import json
from pathlib import Path
from airflow import settings
from airflow.dag_processing.dagbag import BundleDagBag
bag = BundleDagBag(collect_dags=True, bundle_path=Path(settings.DAGS_FOLDER))
dag = bag.get_dag("chiso_pipeline_models")
print("RESULT " + json.dumps({t.task_id: t.pool for t in dag.tasks}))
"""
    from pathlib import Path

    env = dict(airflow_env, CHISO_COSMOS_MODE="runner")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    tasks = _result(out)
    manifest = Path(airflow_env["CHISO_DATA_DIR"]) / "dbt" / "target" / "manifest.json"
    nodes = json.loads(manifest.read_text())["nodes"].values()
    expected = {f"dbt.{n['name']}_model_build" for n in nodes if n["resource_type"] == "model"}
    assert len(expected) >= 30 and expected <= set(tasks)
    assert {tasks[task] for task in expected} == {"chiso_warehouse"}


@pytest.mark.slow
def test_reminders_dag_posts_once_per_unit_and_period_before_and_after_the_due_day(
    airflow_env, httpserver
):
    """June 2025's reports are due on 5 July. On 3 July (none received yet) every unit
    that owes June is reminded, once, whatever the number of runs; on 9 July, only those
    whose file had still not arrived, as overdue."""
    from datetime import date
    from pathlib import Path

    from chiso.samples.report_files import generate, reported_indicators
    from ingest.inbox import ingest_inbox
    from ingest.readers import local_day
    from ingest.registry import default_registry
    from warehouse.calendar import schedule
    from warehouse.settings import load_settings

    env = _own_data_dir(airflow_env, "reminders_data")
    env["CHISO_ALERT_WEBHOOK"] = httpserver.url_for("/hook")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    saved = os.environ.get("CHISO_DATA_DIR")
    os.environ["CHISO_DATA_DIR"] = env["CHISO_DATA_DIR"]
    try:
        # May and June (May is not overdue on 3 July: it came), less one June report
        made = generate(Path(env["CHISO_DATA_DIR"]) / "inbox", start="2025-05", end="2025-06")
        next(path for path in made if "_20.STP_2025-06" in path.name).unlink()  # never sent
        settings = load_settings()
        ingest_inbox(settings, log=lambda _: None)
        registry = default_registry()
        import duckdb

        conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
        arrived = dict(
            conn.execute(
                "select unit_code, min(received_at) from raw.unit_report_files "
                "where period = '2025-06' group by 1"
            ).fetchall()
        )
        conn.close()
    finally:
        if saved is None:
            del os.environ["CHISO_DATA_DIR"]
        else:
            os.environ["CHISO_DATA_DIR"] = saved
    owed = {
        unit.code
        for unit in registry.units.values()
        if reported_indicators(unit)
        and unit.exists_in("2025-06")
        and schedule(unit.served_province_code, unit.group).owes("2025-06")
    }
    assert len(owed) > 20 and set(arrived) == owed - {"20.STP"}

    def posts() -> list[dict]:
        return [json.loads(request.get_data()) for request, _ in httpserver.log]

    first = _result(_run_dag(env, "chiso_reminders", {"on": "2025-07-03"}))
    assert first["state"] == "success", first
    sent = posts()
    assert sorted(p["unit_code"] for p in sent) == sorted(owed)  # once per unit and period
    assert {(p["period"], p["stage"], p["due_on"]) for p in sent} == {
        ("2025-06", "before_due", "2025-07-05")
    }
    message = next(p for p in sent if p["unit_code"] == "20.STC")["message_vi"]
    assert message.startswith("Kính gửi Sở Tài chính tỉnh Lạng Sơn: chiso chưa nhận được báo cáo")
    assert "kỳ 06/2025" in message and "hạn gửi 05/07/2025 (còn 2 ngày)" in message
    assert "chiso template --group department --period 2025-06" in message

    again = _result(_run_dag(env, "chiso_reminders", {"on": "2025-07-03"}))
    assert again["state"] == "success" and len(posts()) == len(sent)  # nothing twice

    _result(_run_dag(env, "chiso_reminders", {"on": "2025-07-09"}))
    overdue = posts()[len(sent) :]
    late = {
        code
        for code in owed
        if code not in arrived or local_day(arrived[code], "Asia/Ho_Chi_Minh") > date(2025, 7, 9)
    }
    assert late and sorted(p["unit_code"] for p in overdue) == sorted(late)
    assert {p["stage"] for p in overdue} == {"overdue"}
    files = sorted((Path(env["CHISO_DATA_DIR"]) / "reminders").glob("*.json"))
    written = [json.loads(path.read_text(encoding="utf-8")) for path in files]
    assert [len(run["reminders"]) for run in written] == [len(sent), 0, len(overdue)]


def test_lineage_is_sent_in_events_of_bounded_size_each_dataset_once(monkeypatch):
    """chiso_common.openlineage, the sink the DAGs hand chiso's tasks: a national ingest
    names some 60,000 files; they go in events of at most LINEAGE_BATCH datasets, the
    outputs first, none twice."""
    import airflow.providers.openlineage.api as api

    sys.path.insert(0, str(PROJECT_ROOT / "dags"))
    try:
        import chiso_common
    finally:
        sys.path.remove(str(PROJECT_ROOT / "dags"))
    from warehouse.backends import Dataset

    sent = []
    monkeypatch.setattr(api, "is_openlineage_active", lambda: True)
    monkeypatch.setattr(
        api, "emit_dataset_lineage", lambda inputs, outputs: sent.append((inputs, outputs))
    )
    files = [Dataset("file", f"/data/landing/2025-06/{n}.xlsx") for n in range(1234)]
    raw = [Dataset("postgres://db:5432", "chiso.raw.unit_report_values")]
    chiso_common.openlineage(files + files[:10], raw + raw)
    assert [(len(i), len(o)) for i, o in sent] == [(499, 1), (500, 0), (235, 0)]
    assert [d.name for i, _ in sent for d in i] == [d.name for d in files]
