"""The README's "see it all in the Airflow UI" steps, as a new user runs them, under a real
scheduler: `airflow standalone` lists the DAGs with no import error, and triggered through
the REST API, the model-by-model DAG in cosmos' watcher mode (one `dbt build`, a sensor per
model: what `dag.test()` cannot drive) runs to success and publishes, its ingest task
reading the files in two worker processes (inside a task, where Airflow blocks its
metadata database: what `dag.test()` does not). Then, as the README says, new sample files
in the inbox and the two DAGs unpaused: no task fails or is retried, the pipeline does not
run a past 10th's slot, and the run the ingestion's Asset triggers publishes the month.
Lineage goes to an OpenLineage consumer all along: cosmos' dbt build names dbt's models,
between the report files the ingest read and the marts the publication wrote."""

from __future__ import annotations

import subprocess

import duckdb
import pytest

from benchmarks.airflow import standalone
from tests.helpers.lineage import LineageCollector, lineage_graph, reachable
from tests.helpers.project import VENV_BIN
from tests.helpers.runs import chiso_environment

UNFINISHED = (None, "scheduled", "queued", "running")  # a task instance's states before it ends

pytestmark = pytest.mark.slow

DAGS = [
    "chiso_ingest_portal",
    "chiso_ingest_unit_files",
    "chiso_monthly_close",
    "chiso_pipeline",
    "chiso_pipeline_models",
    "chiso_reminders",
]


def _sample(env: dict, start: str, end: str) -> None:
    """``chiso sample --start --end``: the months' report files into the inbox."""
    command = [str(VENV_BIN / "chiso"), "sample", "--start", start, "--end", end]
    sample = subprocess.run(command, env=env, capture_output=True, text=True)
    assert sample.returncode == 0, sample.stderr[-2000:]


def test_standalone_lists_the_dags_and_a_watcher_mode_run_publishes(tmp_path):
    data = tmp_path / "data"
    env = {k: v for k, v in chiso_environment(data).items() if not k.startswith("AIRFLOW")}
    env["CHISO_INGEST_WORKERS"] = "2"  # cosmos in its default mode: watcher
    _sample(env, "2025-03", "2025-05")
    collector = LineageCollector()
    env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = collector.transport
    try:
        with standalone(tmp_path / "airflow", env, log=lambda line: None) as airflow:
            assert airflow.import_errors() == []
            assert airflow.dag_ids() == DAGS
            run = airflow.run("chiso_pipeline_models", {"period": "2025-05"}, timeout=600)
            _the_watcher_run_published(run, data, tmp_path / "airflow" / "logs")
            _lineage_runs_through_dbts_models(collector.events, data)
            _the_units_pages_are_served_under_chiso(airflow, env)
            _unpause_both_and_publish(airflow, env, data, tmp_path / "airflow" / "logs")
    finally:
        collector.close()


def _the_units_pages_are_served_under_chiso(airflow, env: dict) -> None:
    """plugins/chiso_web.py: the API server serves a unit's page under /chiso, from the
    link `chiso units links` issued."""
    import csv
    import io
    import urllib.request

    command = [str(VENV_BIN / "chiso"), "units", "links", "--province", "20", "--unit", "20.SNV"]
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    token = list(csv.DictReader(io.StringIO(out)))[0]["link"].rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{airflow.url}/chiso/u/{token}", timeout=30) as answer:
        page = answer.read().decode("utf-8")
    assert "Sở Nội vụ" in page and "Gửi báo cáo" in page


def _lineage_runs_through_dbts_models(events: list[dict], data) -> None:
    """cosmos' producer names every model dbt built, as dbt's lineage names them; with
    chiso's own tasks, a report file leads to the published marts through them."""
    warehouse = f"duckdb://{data / 'warehouse' / 'chiso.duckdb'}"
    published = f"duckdb://{data / 'published' / 'chiso.duckdb'}"
    (producer,) = {e["job"]["name"] for e in events if e["job"]["name"].endswith("_watcher")}
    built = {
        (d["namespace"], d["name"])
        for e in events
        if e["job"]["name"] == producer
        for d in e.get("outputs") or []
    }
    assert (warehouse, "chiso.marts.target_progress") in built, sorted(built)[:5]
    assert (warehouse, "chiso.staging.stg_unit_reports__values") in built
    landed = sorted(
        d["name"]
        for e in events
        if e["job"]["name"] == "chiso_pipeline_models.ingest"
        for d in e.get("inputs") or []
        if "/landing/" in d["name"]
    )
    assert landed
    reached = reachable(lineage_graph(events), ("file", landed[0]))
    assert (warehouse, "chiso.marts.target_progress") in reached
    assert (published, "chiso.main.target_progress") in reached


def _published_period(data) -> str:
    conn = duckdb.connect(str(data / "published" / "chiso.duckdb"), read_only=True)
    try:
        (period,) = conn.execute("select as_of_period from _publication").fetchone()
        rows = conn.execute("select count(*) from indicator_observations").fetchone()[0]
    finally:
        conn.close()
    assert rows > 0
    return period


def _the_watcher_run_published(run: dict, data, logs) -> None:
    states = {task["task_id"]: task["state"] for task in run["tasks"]}
    assert run["state"] == "success", states
    assert any(task.endswith("dbt_producer_watcher") for task in states), states
    models = [task for task in states if task.startswith("dbt.")]
    assert len(models) > 20 and all(states[task] == "success" for task in models), states
    assert _published_period(data) == "2025-05"
    (ingest_log,) = logs.glob("dag_id=chiso_pipeline_models/*/task_id=ingest/attempt=*.log")
    assert "(read by 2 worker processes)" in ingest_log.read_text(encoding="utf-8")


def _unpause_both_and_publish(airflow, env: dict, data, logs) -> None:
    """The README's walk-through on this instance: a month's files in the inbox, the
    unit-file DAG and the pipeline unpaused; the Asset-triggered run publishes the month."""
    # June: July 2025's merger of communes would halve the scorecard, which the gate's
    # row-count band stops (a month for its own test)
    _sample(env, "2025-06", "2025-06")
    airflow.unpause("chiso_ingest_unit_files")
    airflow.unpause("chiso_pipeline")
    ingested = airflow.first_run("chiso_ingest_unit_files", "scheduled", timeout=300)
    assert ingested["state"] == "success", ingested["tasks"]
    published = airflow.first_run("chiso_pipeline", "asset_triggered", timeout=600)
    assert published["state"] == "success", published["tasks"]
    # no red mark on the way: nothing failed, nothing retried, no past slot run at once
    awaited = {ingested["dag_run_id"], published["dag_run_id"]}
    for dag_id in ("chiso_ingest_unit_files", "chiso_pipeline"):
        for task in airflow.task_instances(dag_id):
            if task["dag_run_id"] not in awaited and task["state"] in UNFINISHED:
                continue  # the clock passed the next slot meanwhile: that run is under way
            assert task["state"] in ("success", "skipped"), task
            assert task["try_number"] == 1, task
    assert {run["run_type"] for run in airflow.runs("chiso_pipeline")} == {"asset_triggered"}
    assert _published_period(data) == "2025-06"
    (gate_log,) = logs.glob("dag_id=chiso_pipeline/*/task_id=gate/attempt=*.log")
    text = gate_log.read_text(encoding="utf-8")
    assert "gate PASSED" in text and "Skipping registering function" not in text
