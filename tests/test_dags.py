"""The DAGs: they import cleanly and light, and run for real under ``dag.test()``."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT, VENV_BIN, expected_progress_pairs

DAGS = sorted((PROJECT_ROOT / "dags").glob("*.py"))
HEAVY = {"pandas", "duckdb", "great_expectations", "dbt", "openpyxl", "ingest", "warehouse"}


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
            assert name.split(".")[0] not in HEAVY, f"{path.name} imports {name} at top level"
            if name.startswith("airflow"):
                assert name == "airflow.sdk", f"{path.name}: import from airflow.sdk only"


@pytest.fixture(scope="module")
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
        PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    migrate = subprocess.run(
        [str(VENV_BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    return env


@pytest.mark.slow
def test_dagbag_has_no_import_errors_and_every_dag_is_documented(airflow_env):
    code = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(collect_dags=True)
print("RESULT " + json.dumps({
    "errors": {str(k): v for k, v in bag.import_errors.items()},
    "dags": {d.dag_id: {"tags": sorted(d.tags), "owner": d.owner, "doc": bool(d.doc_md),
             "catchup": d.catchup, "schedule": str(d.schedule)}
             for d in bag.dags.values()},
}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], env=airflow_env, capture_output=True, text=True
    )
    result = _result(out)
    assert result["errors"] == {}
    assert "chiso_pipeline" in result["dags"]
    for dag_id, dag in result["dags"].items():
        assert dag["tags"] and dag["doc"], dag_id
        assert dag["owner"] not in ("", "airflow"), dag_id
        assert dag["catchup"] is False, dag_id
        assert dag["schedule"] not in ("", "None"), dag_id


def _run_dag(env: dict, dag_id: str, conf: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "tests" / "run_dag.py"), dag_id, json.dumps(conf)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _result(completed: subprocess.CompletedProcess) -> dict:
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result; exit {completed.returncode}\n{completed.stderr[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.fixture(scope="module")
def pipeline_run(airflow_env):
    """The pipeline DAG run once under dag.test() on the sample, as of June 2025."""
    from pathlib import Path

    from ingest.sample import generate

    data = Path(airflow_env["CHISO_DATA_DIR"])
    os.environ["CHISO_DATA_DIR"] = str(data)  # the generator reads the unit registry only
    try:
        generate(data / "inbox", end="2025-06")
    finally:
        del os.environ["CHISO_DATA_DIR"]
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
    report = (data / "reports" / "bao_cao_2025-06.html").read_text(encoding="utf-8")
    assert 'data-chart="status-by-pillar"' in report
