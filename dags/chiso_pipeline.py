"""chiso: the monthly pipeline through Airflow (wiring only; logic lives in the packages)."""

from __future__ import annotations

from airflow.sdk import AssetAny, AssetOrTimeSchedule, dag, get_current_context, task
from chiso_common import (
    POOL,
    PORTAL_766,
    RETRY_WITH_BACKOFF,
    UNIT_REPORTS,
    default_args,
    monthly,
    openlineage,
    period_param,
    run_gate,
)


@dag(
    dag_id="chiso_pipeline",
    # when new reports or portal scores were loaded, and at 06:00 on the 10th in any case
    schedule=AssetOrTimeSchedule(
        timetable=monthly("0 6 10 * *"), assets=AssetAny(UNIT_REPORTS, PORTAL_766)
    ),
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "warehouse"],
    # a task lost with its worker (or its warehouse connection) runs once more, after
    # [core] default_task_retry_delay; a gate that rejects the candidate is not retried
    default_args=default_args(retries=1),
    params=period_param("Month to compute"),
    doc_md=f"""
### chiso pipeline
Unit report files in the inbox are landed and loaded (`ingest`), dbt builds staging ->
marts with its tests (`build`), the quality gate runs dbt test results and the Great
Expectations suites on the candidate file (`gate`), and only if every blocking check
passed is the candidate swapped in atomically (`publish`). Same functions as
`chiso run --period YYYY-MM`. Trigger with `{{"period": "2025-06"}}` to compute a month.
Runs when `{UNIT_REPORTS.name}` or `{PORTAL_766.name}` is updated, and at 06:00 on the
10th. A run on the 10th for a month whose reports are not due yet is skipped, with the due
day; a month that was due and has no figure at all fails (and alerts). Unpaused between two
10ths, the DAG waits for the next one. The tasks that read or write the warehouse share the
one-slot pool `{POOL}`. A task lost with its
worker runs once more on another (ingestion up to twice, with backoff); a gate that
rejects the candidate fails at once, and a publish retried after its swap publishes
nothing twice.
""",
)
def chiso_pipeline():
    @task(pool=POOL)
    def resolve_period() -> str:
        from airflow.sdk.exceptions import AirflowSkipException

        from chiso import tasks

        try:
            return tasks.period_to_build(get_current_context())
        except tasks.NotDueYet as not_due:
            raise AirflowSkipException(str(not_due)) from None

    @task(pool=POOL, **RETRY_WITH_BACKOFF)
    def ingest() -> str:
        from chiso import tasks

        return tasks.ingest_of_run(get_current_context(), lineage=openlineage)

    @task(pool=POOL)
    def build(period: str) -> dict:
        from chiso import tasks

        return tasks.build(period, lineage=openlineage)

    @task
    def gate(info: dict) -> dict:
        return run_gate(info)

    @task(pool=POOL)
    def publish(info: dict) -> str:
        from chiso import tasks

        return tasks.publish(info, lineage=openlineage)

    # the month is resolved from what ingest loaded, after it (both in the pool)
    period = resolve_period()
    ingest() >> period
    built = build(period)
    gate(built) >> publish(built)


chiso_pipeline()
