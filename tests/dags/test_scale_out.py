"""The production topology of docker-compose.yml, natively (tests/helpers/topology.py):
CeleryExecutor with two workers, PostgreSQL for the metadata and the warehouse, lineage
sent to an OpenLineage consumer. An operator stores the warehouse connection and triggers
``chiso_pipeline`` through the REST API; the machine running the build loses power
mid-build; the build is retried on the other worker and the month is published once, with
every report file in it; then the monthly close snapshots it, and the model-by-model DAG
(cosmos) publishes it again on the same connection. Run once for the module."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

import psycopg
import pytest

from tests.helpers.lineage import LineageCollector, lineage_graph, reachable
from tests.helpers.project import TEST_PROVINCES, VENV_BIN
from tests.helpers.topology import Topology, celery_topology, health_check

pytestmark = pytest.mark.slow

DAG = "chiso_pipeline"


@dataclass
class Outcome:
    """What the module's run left, gathered before the topology stopped."""

    run: dict
    close: dict
    models: dict  # chiso_pipeline_models, after the close
    publications_after_models: list[tuple]
    tries: list[dict]
    victim: str
    survivor: str
    survivor_check: subprocess.CompletedProcess
    victim_check: subprocess.CompletedProcess
    sent: list[str]
    loaded: list[tuple[str, str]]  # (file name, landed path) in raw.unit_report_files
    quarantined: list[str]
    inbox_left: list[str]
    publications: list[tuple]
    published_run: str
    june_rows: int
    payloads: list[str]
    logs: dict[str, str]
    env: dict[str, str]
    password: str
    warehouse_namespace: str
    events: list[dict]


def _warehouse(topology: Topology):
    w = topology.warehouse
    return psycopg.connect(
        host=w["CHISO_PG_HOST"],
        port=int(w["CHISO_PG_PORT"]),
        user=w["CHISO_PG_USER"],
        password=w["CHISO_PG_PASSWORD"],
        dbname=w["CHISO_PG_DBNAME"],
        autocommit=True,
    )


def _dbt_connected(topology: Topology) -> bool:
    """Whether dbt is at work in the warehouse (dbt-postgres connects as application
    ``dbt``)."""
    with _warehouse(topology) as conn:
        query = "select count(*) from pg_stat_activity where application_name = 'dbt'"
        return conn.execute(query).fetchone()[0] > 0


def _lose_the_builder_mid_build(topology: Topology, run_id: str):
    """Wait for ``build`` to run dbt, then cut the power of the worker running it."""
    airflow, started = topology.airflow, time.monotonic()
    while (build := airflow.task_instance(DAG, run_id, "build"))["state"] != "running":
        assert build["state"] in (None, "scheduled", "queued"), build
        assert time.monotonic() - started < 300, "the build never started"
        time.sleep(1)
    victim = topology.workers[build["hostname"]]
    while not _dbt_connected(topology):
        assert time.monotonic() - started < 300, "the build never ran dbt"
        time.sleep(0.5)
    time.sleep(3)  # some models written
    victim.lose_machine()
    return victim


@pytest.fixture(scope="module")
def outcome(tmp_path_factory) -> Outcome:
    root = tmp_path_factory.mktemp("celery")
    collector = LineageCollector()
    dotenv = {"OPENLINEAGE_TRANSPORT": collector.transport}
    try:
        with celery_topology(root, TEST_PROVINCES, dotenv) as topology:
            return _run(topology, collector)
    finally:
        collector.close()
        collector.save(root / "lineage.jsonl")  # to read when a test fails


def _run(topology: Topology, collector: LineageCollector) -> Outcome:
    airflow = topology.airflow
    sample = subprocess.run(
        [str(VENV_BIN / "chiso"), "sample", "--start", "2025-05", "--end", "2025-06"],
        env=topology.env,
        capture_output=True,
        text=True,
    )
    assert sample.returncode == 0, sample.stderr[-2000:]
    sent = sorted(path.name for path in (topology.data / "inbox").iterdir())
    topology.add_warehouse_connection()

    run_id = airflow.trigger(DAG, {"period": "2025-06"})
    victim = _lose_the_builder_mid_build(topology, run_id)
    run = airflow.finished(DAG, run_id, timeout=900, log=lambda line: None)
    close = airflow.run("chiso_monthly_close", {"period": "2025-06"}, log=lambda line: None)
    (survivor,) = set(topology.workers) - {victim.machine}
    with _warehouse(topology) as conn:
        loaded = conn.execute("select source_file_name, landed_path from raw.unit_report_files")
        loaded = loaded.fetchall()
        publications = conn.execute("select run_id, as_of_period from chiso_meta.publications")
        publications = publications.fetchall()
        (published_run,) = conn.execute("select run_id from published._publication").fetchone()
        (june_rows,) = conn.execute(
            "select count(*) from published.indicator_observations where period = '2025-06'"
        ).fetchone()
    # cosmos' dbt, model by model, on the same connection
    models = airflow.run("chiso_pipeline_models", {"period": "2025-06"}, log=lambda line: None)
    with _warehouse(topology) as conn:
        query = "select run_id, as_of_period from chiso_meta.publications order by published_at"
        publications_after_models = conn.execute(query).fetchall()
    port = int(topology.warehouse["CHISO_PG_PORT"])
    with psycopg.connect(host="127.0.0.1", port=port, user="airflow", dbname="airflow") as conn:
        # every task's payload (XCom), as Airflow keeps it
        query = "select value::text from xcom where dag_id like 'chiso_%%'"
        payloads = [row[0] for row in conn.execute(query)]
    time.sleep(2)  # the last task's lineage on its way
    return Outcome(
        run=run,
        close=close,
        models=models,
        publications_after_models=publications_after_models,
        tries=airflow.tries(DAG, run_id, "build"),
        victim=victim.machine,
        survivor=survivor,
        # the compose health checks see it too: the lost worker fails its own
        survivor_check=health_check(topology.workers[survivor], topology.api_port),
        victim_check=health_check(victim, topology.api_port),
        sent=sent,
        loaded=loaded,
        quarantined=[path.name for path in (topology.data / "quarantine").iterdir()],
        inbox_left=[path.name for path in (topology.data / "inbox").iterdir()],
        publications=publications,
        published_run=published_run,
        june_rows=june_rows,
        payloads=payloads,
        logs={
            str(path): path.read_text(encoding="utf-8", errors="replace")
            for path in topology.logs()
        },
        env=topology.env,
        password=topology.warehouse["CHISO_PG_PASSWORD"],
        warehouse_namespace=f"postgres://127.0.0.1:{port}",
        events=list(collector.events),
    )


def test_a_worker_lost_mid_build_is_retried_on_the_other_and_the_month_published_once(outcome):
    states = {task["task_id"]: task["state"] for task in outcome.run["tasks"]}
    assert outcome.run["state"] == "success", states
    # lost with its machine, retried on the other
    assert [(t["try_number"], t["hostname"], t["state"]) for t in outcome.tries] == [
        (1, outcome.victim, "failed"),
        (2, outcome.survivor, "success"),
    ]
    assert outcome.survivor_check.returncode == 0, outcome.survivor_check.stderr[-2000:]
    assert outcome.victim_check.returncode != 0
    # nothing lost: every file sent is landed and loaded once, or quarantined
    names = [name for name, _ in outcome.loaded]
    assert outcome.sent and len(names) == len(set(names))
    assert len(names) + len(outcome.quarantined) == len(outcome.sent)
    assert outcome.inbox_left == []
    # published once, by the retried build's run
    assert outcome.publications == [(outcome.published_run, "2025-06")]
    assert outcome.june_rows > 0
    close = {task["task_id"]: task["state"] for task in outcome.close["tasks"]}
    assert outcome.close["state"] == "success", close


def test_the_warehouse_password_is_in_no_log_and_no_task_payload(outcome):
    """Stored as an Airflow connection in the metadata database, handed to the tasks by
    Airflow, never written where an operator reads."""
    assert outcome.logs and outcome.payloads
    for path, text in outcome.logs.items():
        assert outcome.password not in text, path
    assert not any(outcome.password in payload for payload in outcome.payloads)
    assert all(outcome.password not in value for value in outcome.env.values())


def test_lineage_leads_from_a_report_file_to_the_published_marts_and_the_snapshot(outcome):
    """OpenLineage events, as Marquez would receive them: a report file a unit sent leads
    through raw, dbt's models, the candidate and publication to the marts BI tools read,
    and on to the month's snapshot; every task names what it read and wrote."""
    events = outcome.events
    jobs = {e["job"]["name"] for e in events}
    assert {f"{DAG}.{task}" for task in ("ingest", "build", "gate", "publish")} <= jobs
    warehouse = outcome.warehouse_namespace
    graph = lineage_graph(events)
    _, landed = outcome.loaded[0]
    reached = reachable(graph, ("file", landed))
    for name in (
        "chiso.raw.unit_report_values",
        "chiso.staging.stg_unit_reports__values",
        "chiso.marts.target_progress",
        "chiso.published.target_progress",
        "chiso.published.indicator_observations",
    ):
        assert (warehouse, name) in reached, name
    candidate = [d for d in reached if ".candidate_" in d[1]]
    assert candidate, "the candidate is on the way"
    snapshot = {d[1] for d in reached if d[0] == "file" and "/snapshots/" in d[1]}
    assert any(name.endswith("/target_progress.parquet") for name in snapshot), snapshot
    # the inbox and every file loaded are named, each once per task that read it
    ingest_inputs = {
        d["name"]
        for e in events
        if e["job"]["name"] == f"{DAG}.ingest"
        for d in e.get("inputs") or []
    }
    assert {path for _, path in outcome.loaded} <= ingest_inputs
    assert any(name.endswith("/inbox") for name in ingest_inputs)


def test_the_model_by_model_dag_runs_cosmos_dbt_on_the_same_connection(outcome):
    """chiso_pipeline_models in cosmos' watcher mode on the Celery workers: its dbt reads
    the warehouse's connection from Airflow as chiso's tasks do, publishes the month again,
    and its dbt build names dbt's models in the lineage, on the same datasets."""
    states = {task["task_id"]: task["state"] for task in outcome.models["tasks"]}
    assert outcome.models["state"] == "success", states
    assert any(task.endswith("dbt_producer_watcher") for task in states)
    assert [p for _, p in outcome.publications_after_models] == ["2025-06", "2025-06"]
    jobs = {event["job"]["name"] for event in outcome.events}
    (producer,) = {job for job in jobs if job.endswith("_watcher")}
    built = {
        (d["namespace"], d["name"])
        for e in outcome.events
        if e["job"]["name"] == producer
        for d in e.get("outputs") or []
    }
    assert (outcome.warehouse_namespace, "chiso.marts.target_progress") in built
