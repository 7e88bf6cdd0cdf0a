"""chiso: fetch index 766 from the National Public Service Portal daily (wiring only)."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, get_current_context, task
from chiso_common import POOL, PORTAL_766, START, TZ, default_args


@dag(
    dag_id="chiso_ingest_portal",
    schedule="0 5 * * *",  # 05:00 daily: the portal updates its monthly figures as they come
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "ingest", "portal"],
    default_args=default_args(),
    doc_md=f"""
### chiso portal ingestion
Daily: index 766 for the current and the previous month, from both portal APIs
(`CHISO_PORTAL_APIS`), with the departments and communes of `CHISO_PORTAL_SUB_UNITS`.
Every answer is landed unchanged before it is parsed; a bad answer is quarantined with the
reason and fails the task. Emits the `{PORTAL_766.name}` Asset when new scores were
loaded. Same code as `chiso ingest portal --period YYYY-MM`.
""",
)
def chiso_ingest_portal():
    @task(
        outlets=[PORTAL_766],
        pool=POOL,
        retries=3,
        retry_delay=pendulum.duration(minutes=5),
        retry_exponential_backoff=True,
    )
    def fetch_and_load() -> str:
        from airflow.sdk.exceptions import AirflowSkipException

        from chiso import tasks

        context = get_current_context()
        run_on = (context.get("logical_date") or context["dag_run"].run_after).in_timezone(TZ)
        current = f"{run_on.year:04d}-{run_on.month:02d}"
        try:
            return tasks.ingest_portal([tasks.previous_month(current), current])
        except tasks.NothingNew as nothing:
            raise AirflowSkipException(f"nothing new loaded: {nothing}") from None

    fetch_and_load()


chiso_ingest_portal()
