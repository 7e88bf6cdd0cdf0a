"""chiso: the monthly close: freeze last month's published marts as an immutable snapshot,
then write the month's report (HTML with charts, PDF when Chromium is installed)."""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

TZ = "Asia/Ho_Chi_Minh"
POOL = "chiso_warehouse"  # one slot: every task that writes the DuckDB warehouse


def _on_failure(context) -> None:
    from chiso.tasks import on_failure

    on_failure(context)


@dag(
    dag_id="chiso_monthly_close",
    schedule="0 7 15 * *",  # the 15th, after the pipeline run of the 10th had time to settle
    start_date=pendulum.datetime(2026, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "snapshot"],
    default_args={"owner": "chiso", "retries": 0, "on_failure_callback": _on_failure},
    params={
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}$",
            description="Month to close (YYYY-MM); empty = the month before the run date.",
        )
    },
    doc_md="""
### chiso monthly close
Verifies the existing snapshots (any changed file fails the run, by name), then freezes the
published marts of the month as Parquet files with a hashed manifest under
`<data>/snapshots/<YYYY-MM>/`. Same functions as `chiso snapshot verify` and
`chiso snapshot --period YYYY-MM`; re-running a month is a no-op, a changed publication
for a closed month is refused (use the CLI's `--force`, which keeps the old snapshot).
Then the monthly report of each province the instance serves (`CHISO_PROVINCES`), as
`chiso report --period YYYY-MM --pdf`, in `<data>/reports/`.
""",
)
def chiso_monthly_close():
    @task
    def resolve_period() -> str:
        from chiso import tasks

        return tasks.period_of_run(get_current_context())

    @task
    def verify_snapshots() -> int:
        from chiso import tasks

        return tasks.verify_snapshots()

    @task(pool=POOL)
    def snapshot(period: str) -> str:
        from chiso import tasks

        return tasks.snapshot(period)

    @task
    def report(period: str) -> list[str]:
        from chiso import tasks

        return tasks.report(period)  # one per province of CHISO_PROVINCES

    period = resolve_period()
    frozen = snapshot(period)
    verify_snapshots() >> frozen >> report(period)


chiso_monthly_close()
