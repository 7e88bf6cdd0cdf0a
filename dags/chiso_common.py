"""What every chiso DAG file shares: the time zone (from the settings), the default
arguments, the pool, and the Assets, each declared once and imported by producer and
consumer. Not a DAG file (listed in .airflowignore); the DAG processor puts this folder on
``sys.path``, so the DAG files import it by name."""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, Param

from warehouse.settings import timezone

TZ = timezone()  # CHISO_TIMEZONE
START = pendulum.datetime(2026, 1, 1, tz=TZ)
POOL = "chiso_warehouse"  # one slot: every task that reads or writes the warehouse

# emitted by chiso_ingest_unit_files / chiso_ingest_portal when they load something new;
# chiso_pipeline runs when either is updated
UNIT_REPORTS = Asset("chiso_raw_unit_reports")
PORTAL_766 = Asset("chiso_raw_portal_766")

# the ingestion tasks retry with backoff (a busy warehouse, a portal that hiccups)
RETRY_WITH_BACKOFF = {
    "retries": 2,
    "retry_delay": pendulum.duration(minutes=1),
    "retry_exponential_backoff": True,
}


def _on_failure(context) -> None:
    from chiso.tasks import on_failure

    on_failure(context)


def default_args(retries: int = 0) -> dict:
    """Every chiso task: owned by chiso, a failure logged and POSTed to the alert webhook."""
    return {"owner": "chiso", "retries": retries, "on_failure_callback": _on_failure}


def monthly(cron: str) -> CronTriggerTimetable:
    """A monthly slot in chiso's time zone. A DAG unpaused between two slots waits for the
    next one (``run_immediately=False``, and the DAG gives no ``start_date``): a slot that
    passed before anyone turned the DAG on is not run; trigger a past month by hand."""
    return CronTriggerTimetable(cron, timezone=TZ, run_immediately=False)


def period_param(what: str) -> dict[str, Param]:
    return {
        "period": Param(
            None,
            type=["null", "string"],
            pattern=r"^\d{4}-\d{2}$",
            description=f"{what} (YYYY-MM); empty = the month before the run date.",
        )
    }
