"""chiso: the monthly pipeline through Airflow (wiring only; logic lives in the packages)."""

from __future__ import annotations

import pendulum
from airflow.sdk import (
    Asset,
    AssetAny,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    dag,
    get_current_context,
    task,
)

TZ = "Asia/Ho_Chi_Minh"
# emitted by chiso_ingest_unit_files and chiso_ingest_portal when they load something new
UNIT_REPORTS = Asset("chiso_raw_unit_reports")
PORTAL_766 = Asset("chiso_raw_portal_766")
POOL = "chiso_warehouse"  # one slot: every task that writes the DuckDB warehouse


def _on_failure(context) -> None:
    from chiso.tasks import on_failure

    on_failure(context)


@dag(
    dag_id="chiso_pipeline",
    # when new reports or portal scores were loaded, and at 06:00 on the 10th in any case
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 10 * *", timezone=TZ),
        assets=AssetAny(UNIT_REPORTS, PORTAL_766),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "warehouse"],
    default_args={"owner": "chiso", "retries": 0, "on_failure_callback": _on_failure},
    params={
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}$",
            description="Month to compute (YYYY-MM); empty = the month before the run date.",
        )
    },
    doc_md="""
### chiso pipeline
Unit report files in the inbox are landed and loaded (`ingest`), dbt builds staging ->
marts with its tests (`build`), the quality gate runs dbt test results and the Great
Expectations suites on the candidate file (`gate`), and only if every blocking check
passed is the candidate swapped in atomically (`publish`). Same functions as
`chiso run --period YYYY-MM`. Trigger with `{"period": "2025-06"}` to compute a month.
Runs when `chiso_raw_unit_reports` or `chiso_raw_portal_766` is updated, and on the 10th.
The tasks that write the warehouse share the one-slot pool `chiso_warehouse`; ingestion
retries with backoff, the checks do not.
""",
)
def chiso_pipeline():
    @task
    def resolve_period() -> str:
        from chiso import tasks

        return tasks.period_of_run(get_current_context())

    @task(
        pool=POOL,
        retries=2,
        retry_delay=pendulum.duration(minutes=1),
        retry_exponential_backoff=True,
    )
    def ingest() -> str:
        from chiso import tasks

        return tasks.ingest()

    @task(pool=POOL)
    def build(period: str) -> dict:
        from chiso import tasks

        return tasks.build(period)

    @task
    def gate(info: dict) -> dict:
        from chiso import tasks

        return tasks.gate(info)

    @task(pool=POOL)
    def publish(info: dict) -> str:
        from chiso import tasks

        return tasks.publish(info)

    period = resolve_period()
    built = build(period)
    ingest() >> built
    gate(built) >> publish(built)


chiso_pipeline()
