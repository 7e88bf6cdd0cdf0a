"""chiso: pick up report files from the inbox every 30 minutes (wiring only)."""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task

TZ = "Asia/Ho_Chi_Minh"
UNIT_REPORTS = Asset("chiso_raw_unit_reports")  # a new file loaded into raw
POOL = "chiso_warehouse"  # one slot: every task that writes the DuckDB warehouse


def _on_failure(context) -> None:
    from chiso.tasks import on_failure

    on_failure(context)


@dag(
    dag_id="chiso_ingest_unit_files",
    schedule="*/30 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "ingest"],
    default_args={"owner": "chiso", "on_failure_callback": _on_failure},
    doc_md="""
### chiso unit-file ingestion
Every 30 minutes: the files in the inbox are validated, landed (read-only, content-addressed)
or quarantined with a bilingual error report, and loaded into `raw`. When something new was
loaded the task emits the `chiso_raw_unit_reports` Asset, which schedules `chiso_pipeline`;
when nothing was, it is skipped and emits nothing. Same code as the ingest stage of
`chiso run`.
""",
)
def chiso_ingest_unit_files():
    @task(
        outlets=[UNIT_REPORTS],
        pool=POOL,
        retries=2,
        retry_delay=pendulum.duration(minutes=1),
        retry_exponential_backoff=True,
    )
    def ingest() -> str:
        from airflow.sdk.exceptions import AirflowSkipException

        from chiso import tasks

        try:
            return tasks.ingest_unit_files()
        except tasks.NothingNew as nothing:
            raise AirflowSkipException(f"nothing new loaded: {nothing}") from None

    ingest()


chiso_ingest_unit_files()
