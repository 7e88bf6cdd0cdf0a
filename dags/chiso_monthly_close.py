"""chiso: the monthly close: freeze last month's published marts as an immutable snapshot,
then write the month's report (HTML with charts, PDF when Chromium is installed)."""

from __future__ import annotations

from airflow.sdk import dag, get_current_context, task
from chiso_common import POOL, default_args, monthly, openlineage, period_param


@dag(
    dag_id="chiso_monthly_close",
    # the 15th, after the pipeline run of the 10th had time to settle
    schedule=monthly("0 7 15 * *"),
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "snapshot"],
    default_args=default_args(),
    params=period_param("Month to close"),
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
    @task(pool=POOL)
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

        return tasks.snapshot(period, lineage=openlineage)

    @task
    def report(period: str) -> list[str]:
        from chiso import tasks

        return tasks.report(period)  # one per province of CHISO_PROVINCES

    period = resolve_period()
    frozen = snapshot(period)
    verify_snapshots() >> frozen >> report(period)


chiso_monthly_close()
