"""chiso: reminders to report, every morning: the units that owe a report due in a few days
or already overdue, each with a Vietnamese message, POSTed to the alert webhook and
written to a file; nothing is sent twice for the same unit, period and stage."""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task
from chiso_common import POOL, START, default_args


@dag(
    dag_id="chiso_reminders",
    schedule="0 8 * * *",  # 08:00 every day: the calendar decides who is reminded when
    start_date=START,
    catchup=False,
    max_active_runs=1,
    tags=["chiso", "reminders"],
    default_args=default_args(retries=1),
    params={
        "on": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}-\d{2}$",
            description="The day to remind for (YYYY-MM-DD); empty = the run's day in Hà Nội.",
        )
    },
    doc_md="""
### chiso reminders
Every morning, the reporting calendar (`seeds/reporting_calendar.csv`) decides who is
reminded: a unit that owes a report and has not sent it gets one message a few days before
the due day and one once it is overdue (a rejected file is said as such). Each reminder is
POSTed as JSON to `CHISO_ALERT_WEBHOOK` (when set) and the run's reminders are written to
`<data>/reminders/`; `raw.reminders_sent` keeps what was sent, so nothing is sent twice.
Same function as `chiso calendar remind [--on YYYY-MM-DD]`. A failed POST fails the task (it is
retried; the reminders already sent are not sent again).
""",
)
def chiso_reminders():
    @task(pool=POOL)
    def send_reminders() -> dict:
        from chiso import tasks

        context = get_current_context()
        run_on = context.get("logical_date") or context["dag_run"].run_after
        return tasks.send_reminders(context["params"].get("on"), run_on)

    send_reminders()


chiso_reminders()
