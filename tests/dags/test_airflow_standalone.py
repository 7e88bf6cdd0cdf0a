"""The README's "see it all in the Airflow UI" steps, as a new user runs them, under a real
scheduler: `airflow standalone` lists the DAGs with no import error, and triggered through
the REST API, the model-by-model DAG in cosmos' watcher mode (one `dbt build`, a sensor per
model: what `dag.test()` cannot drive) runs to success and publishes, its ingest task
reading the files in two worker processes (inside a task, where Airflow blocks its
metadata database: what `dag.test()` does not)."""

from __future__ import annotations

import subprocess

import duckdb
import pytest

from benchmarks.airflow import standalone
from tests.conftest import VENV_BIN, chiso_environment

pytestmark = pytest.mark.slow

DAGS = [
    "chiso_ingest_portal",
    "chiso_ingest_unit_files",
    "chiso_monthly_close",
    "chiso_pipeline",
    "chiso_pipeline_models",
    "chiso_reminders",
]


def test_standalone_lists_the_dags_and_a_watcher_mode_run_publishes(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in chiso_environment(data).items() if not k.startswith("AIRFLOW")}
    env["CHISO_INGEST_WORKERS"] = "2"  # cosmos in its default mode: watcher
    sample = subprocess.run(
        [str(VENV_BIN / "chiso"), "sample", "--start", "2025-04", "--end", "2025-06"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert sample.returncode == 0, sample.stderr[-2000:]
    with standalone(tmp_path / "airflow", env, log=lambda line: None) as airflow:
        assert airflow.import_errors() == []
        assert airflow.dag_ids() == DAGS
        run = airflow.run("chiso_pipeline_models", {"period": "2025-06"}, timeout=600)
    states = {task["task_id"]: task["state"] for task in run["tasks"]}
    assert run["state"] == "success", states
    assert any(task.endswith("dbt_producer_watcher") for task in states), states
    models = [task for task in states if task.startswith("dbt.")]
    assert len(models) > 20 and all(states[task] == "success" for task in models), states
    conn = duckdb.connect(str(data / "published" / "chiso.duckdb"), read_only=True)
    try:
        (period,) = conn.execute("select as_of_period from _publication").fetchone()
        rows = conn.execute("select count(*) from fct_indicator_observations").fetchone()[0]
    finally:
        conn.close()
    assert period == "2025-06" and rows > 0
    (ingest_log,) = (tmp_path / "airflow" / "logs").glob(
        "dag_id=chiso_pipeline_models/*/task_id=ingest/attempt=*.log"
    )
    assert "(read by 2 worker processes)" in ingest_log.read_text(encoding="utf-8")
