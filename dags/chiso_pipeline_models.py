"""chiso: the pipeline with every dbt model as its own Airflow task (astronomer-cosmos).

The same write-audit-publish as `chiso_pipeline`, but the build is rendered from dbt's
manifest by cosmos, so each model (with its tests) is visible, retried and timed on its
own in the Airflow UI. dbt's start-up is paid once per run, not once per model: cosmos'
watcher mode runs one `dbt build` (with its tests) in a producer task and a sensor per model
marks each model as dbt finishes it. Measured under a real scheduler on the sample
(docs/BENCHMARKS.md): watcher 55 s, in-process dbt per model 215 s, a dbt process per model
longer still. The manifest is read at parse time, never built then: `chiso dbt-manifest`
(run by ./setup.sh) writes it.

`CHISO_COSMOS_MODE` picks how cosmos runs dbt: `watcher` (the default), `runner` (a task
per model, dbt in-process, `InvocationMode.DBT_RUNNER`: what `dag.test()` can drive, as the
test suite does; watcher mode is tested under `airflow standalone`), `subprocess` (a dbt
process per model).
"""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import dag, get_current_context, task
from chiso_common import POOL, START, default_args, openlineage, period_param, run_gate
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior

from warehouse.settings import load_settings

SETTINGS = load_settings()  # environment variables only: cheap, nothing connects
if not SETTINGS.verbose:  # cosmos' INFO lines (one per model and query) out of task logs
    logging.getLogger("cosmos").setLevel(logging.WARNING)
PROJECT = SETTINGS.dbt_project_dir
MANIFEST = SETTINGS.dbt_target_dir / "manifest.json"
if not MANIFEST.exists():  # shown as this file's import error in the Airflow UI
    raise FileNotFoundError(f"{MANIFEST} is missing: run `chiso dbt-manifest` first")
MODE = SETTINGS.cosmos_mode
if MODE == "watcher":  # only the producer's dbt build writes; the sensors only wait
    EXECUTION = ExecutionConfig(execution_mode=ExecutionMode.WATCHER)
    TESTS, MODEL_POOL = TestBehavior.AFTER_ALL, {}
else:
    EXECUTION = ExecutionConfig(
        execution_mode=ExecutionMode.LOCAL,
        invocation_mode=(
            InvocationMode.DBT_RUNNER if MODE == "runner" else InvocationMode.SUBPROCESS
        ),
    )
    TESTS, MODEL_POOL = TestBehavior.BUILD, {"pool": POOL}


@dag(
    dag_id="chiso_pipeline_models",
    schedule=None,  # on demand: chiso_pipeline is the scheduled one
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "warehouse", "cosmos"],
    default_args=default_args(),
    params=period_param("Month to compute"),
    doc_md="""
### chiso pipeline, model by model
`resolve_period → ingest → dbt (one task per model, its tests run with it) → candidate →
gate → publish`. A failed model or test fails its task and nothing downstream runs: the
published file stays as it was. Trigger with `{"period": "2025-06"}`.
""",
)
def chiso_pipeline_models():
    @task(pool=POOL)
    def resolve_period() -> str:
        from chiso import tasks

        return tasks.period_of_run(get_current_context())

    @task(pool=POOL, retries=2, retry_exponential_backoff=True)
    def ingest() -> str:
        from chiso import tasks

        # on demand: what is in the inbox too
        return tasks.ingest(take_inbox=True, lineage=openlineage)

    @task(pool=POOL)
    def candidate(period: str) -> dict:
        from chiso import tasks

        return tasks.candidate(period, lineage=openlineage)

    @task
    def gate(info: dict) -> dict:
        return run_gate(info)

    @task(pool=POOL)
    def publish(info: dict) -> str:
        from chiso import tasks

        return tasks.publish(info, lineage=openlineage)

    period = resolve_period()
    models = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            dbt_project_path=PROJECT,
            manifest_path=MANIFEST,
            # the PostgreSQL credentials stay in the workers' environment (never in a DAG)
            env_vars={
                "CHISO_WAREHOUSE_PATH": str(SETTINGS.warehouse_path),
                "CHISO_DBT_TARGET": SETTINGS.warehouse,
            },
        ),
        profile_config=ProfileConfig(
            profile_name="chiso",
            target_name=SETTINGS.warehouse,
            profiles_yml_filepath=PROJECT / "profiles.yml",
        ),
        execution_config=EXECUTION,
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TESTS,
            emit_datasets=False,
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={
            **MODEL_POOL,
            "vars": {"as_of_period": "{{ ti.xcom_pull(task_ids='resolve_period') }}"},
            # every month of the incremental models, as it is here to see and time each
            # model: which months changed is decided by `chiso run` and chiso_pipeline's
            # build task (warehouse/build.py), which also rebuild in full after an upgrade
            "full_refresh": True,
            # a model task whose end the supervisor fails to report to the API server (seen
            # on a loaded machine: "Failed to report terminal task state", apache/airflow
            # #73249) is tried again instead of failing the run: dbt is idempotent here
            "retries": 1,
            "retry_delay": pendulum.duration(seconds=15),
        },
    )
    if MODE == "watcher":
        for operator in models.children.values():
            if operator.task_id.endswith(".dbt_producer_watcher"):
                operator.pool = POOL
    made = candidate(period)
    period >> ingest() >> models >> made
    gate(made) >> publish(made)


chiso_pipeline_models()
