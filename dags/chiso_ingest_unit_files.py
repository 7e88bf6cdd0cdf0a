"""chiso: pick up report files from the inbox every 30 minutes (wiring only)."""

from __future__ import annotations

from airflow.sdk import dag, task
from chiso_common import (
    POOL,
    RETRY_WITH_BACKOFF,
    START,
    UNIT_REPORTS,
    default_args,
    openlineage,
)


@dag(
    dag_id="chiso_ingest_unit_files",
    schedule="*/30 * * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "ingest"],
    default_args=default_args(),
    doc_md=f"""
### chiso unit-file ingestion
Every 30 minutes: the files in the inbox are validated, landed (read-only, content-addressed)
or quarantined with a bilingual error report, and loaded into `raw`. When something new was
loaded the task emits the `{UNIT_REPORTS.name}` Asset, which schedules `chiso_pipeline`;
when nothing was, it is skipped and emits nothing. Same code as the ingest stage of
`chiso run`.
""",
)
def chiso_ingest_unit_files():
    @task(outlets=[UNIT_REPORTS], pool=POOL, **RETRY_WITH_BACKOFF)
    def ingest() -> str:
        from airflow.sdk.exceptions import AirflowSkipException

        from chiso import tasks

        try:
            return tasks.ingest_unit_files(lineage=openlineage)
        except tasks.NothingNew as nothing:
            raise AirflowSkipException(f"nothing new loaded: {nothing}") from None

    ingest()


chiso_ingest_unit_files()
