"""What every chiso DAG file shares: the time zone (from the settings), the default
arguments (the warehouse's connection set up before each task), the pool, the Assets,
each declared once and imported by producer and consumer, and what ties chiso's task
functions to Airflow: lineage sent through OpenLineage, a gate's verdict failed without
retry. Not a DAG file (listed in .airflowignore); the DAG processor puts this folder on
``sys.path``, so the DAG files import it by name."""

from __future__ import annotations

from contextlib import suppress

import pendulum
from airflow.sdk import Asset, CronTriggerTimetable, Param

from warehouse.settings import (
    WAREHOUSE_CONNECTION_ID,
    export_warehouse_environment,
    load_settings,
    timezone,
    use_warehouse_connection,
    warehouse_connection_given,
)

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


def connect_warehouse(context) -> None:
    """Before every chiso task (``pre_execute``), on the PostgreSQL warehouse: unless the
    environment carries AIRFLOW_CONN_CHISO_WAREHOUSE, ask Airflow for the connection
    ``chiso_warehouse`` (its metadata database or a secrets backend, through the Task SDK,
    which masks its password in every log line) and make it this task's warehouse; then
    hand it to dbt's profile, which cosmos' dbt reads too. Without such a connection the
    settings are the environment's (CHISO_PG_*)."""
    if not load_settings().warehouse_is_server:
        return
    if not warehouse_connection_given():
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException

        with suppress(AirflowNotFoundException):  # then CHISO_PG_*
            use_warehouse_connection(Connection.get(WAREHOUSE_CONNECTION_ID).get_uri())
    export_warehouse_environment(load_settings())


def default_args(retries: int = 0) -> dict:
    """Every chiso task: owned by chiso, its warehouse connected, a failure logged and
    POSTed to the alert webhook."""
    return {
        "owner": "chiso",
        "retries": retries,
        "pre_execute": connect_warehouse,
        "on_failure_callback": _on_failure,
    }


LINEAGE_BATCH = 500  # datasets per OpenLineage event


def openlineage(inputs: list, outputs: list) -> None:
    """The lineage sink of chiso's tasks (:mod:`chiso.lineage`): the datasets, attributed
    to the running task in OpenLineage events of at most LINEAGE_BATCH datasets each, so
    no event grows with the number of report files. Nothing when OpenLineage is off; never
    raises (the provider logs what it could not send)."""
    from airflow.providers.openlineage.api import emit_dataset_lineage, is_openlineage_active

    if not is_openlineage_active():
        return
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    # the outputs first: a consumer that sees one event sees where the task wrote
    every = [OutputDataset(namespace=d.namespace, name=d.name) for d in dict.fromkeys(outputs)]
    every += [InputDataset(namespace=d.namespace, name=d.name) for d in dict.fromkeys(inputs)]
    for start in range(0, len(every), LINEAGE_BATCH):
        part = every[start : start + LINEAGE_BATCH]
        emit_dataset_lineage(
            inputs=[d for d in part if isinstance(d, InputDataset)],
            outputs=[d for d in part if isinstance(d, OutputDataset)],
        )


def run_gate(info: dict) -> dict:
    """The gate task of the pipeline DAGs: a candidate the checks reject fails without the
    retry a lost worker gets (the same checks on the same candidate would fail again)."""
    from airflow.sdk.exceptions import AirflowFailException

    from chiso import tasks
    from chiso.pipeline import GateFailed

    try:
        return tasks.gate(info, lineage=openlineage)
    except GateFailed as verdict:
        raise AirflowFailException(str(verdict)) from verdict


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
