"""The pipeline's stages as JSON-in, JSON-out functions, for orchestrators.

Airflow tasks pass small JSON values (paths, ids, counts) between them, never data frames.
These wrappers turn the stage functions of :mod:`chiso.pipeline` into that shape and
take the warehouse lock around each stage that writes, so a CLI run and a DAG run never
write the warehouse at the same time. What a stage read and wrote goes to ``lineage``
(the DAGs pass OpenLineage's; :mod:`chiso.lineage`). On the PostgreSQL warehouse, the
credentials are Airflow's connection ``chiso_warehouse``, set up before each task by the
DAGs' ``pre_execute``: they never travel in a task's arguments or return value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from chiso import pipeline
from chiso.lineage import (
    Sink,
    candidate_datasets,
    dbt_datasets,
    file_dataset,
    ignore,
    marts_datasets,
    published_datasets,
    reference_datasets,
    report_file_datasets,
)
from warehouse.backends import Candidate, open_warehouse
from warehouse.build import BuildResult, TestOutcome
from warehouse.lock import run_lock
from warehouse.periods import check_period, previous_month
from warehouse.settings import load_settings


@dataclass(frozen=True)
class BuildInfo:
    """What the build (or candidate) task hands the gate and publish tasks, as JSON."""

    run_id: str
    period: str
    tests: list[TestOutcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    candidate: Candidate | None = None

    def to_json(self) -> dict:
        return {
            "run_id": self.run_id,
            "period": self.period,
            "tests": [test.to_json() for test in self.tests],
            "skipped": list(self.skipped),
            "candidate": self.candidate.to_json() if self.candidate else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> BuildInfo:
        return cls(
            run_id=data["run_id"],
            period=data["period"],
            tests=[TestOutcome.from_json(test) for test in data["tests"]],
            skipped=list(data["skipped"]),
            candidate=Candidate.from_json(data["candidate"]) if data["candidate"] else None,
        )


@dataclass(frozen=True)
class GateInfo:
    """What the gate task returns: its verdict line and the warnings, as JSON."""

    summary: str
    warnings: list[str]

    def to_json(self) -> dict:
        return {"summary": self.summary, "warnings": list(self.warnings)}


def resolve_period(requested: str | None, run_on: datetime) -> str:
    """The month a run computes: the one asked for, else the month before the run date
    (in chiso's time zone: a run at 01:00 on 1 July in Hà Nội computes June)."""
    if requested:
        return check_period(requested)
    local = run_on.astimezone(ZoneInfo(load_settings().timezone))
    return previous_month(f"{local.year:04d}-{local.month:02d}")


def ingest(take_inbox: bool = False, lineage: Sink = ignore) -> str:
    """The scheduled pipeline's ingest: landed files not yet loaded, and the reference
    sources. The inbox belongs to ``chiso_ingest_unit_files``, whose Asset triggers the
    pipeline; a DAG run on demand may take it (``take_inbox``), as ``chiso run`` does."""
    settings = load_settings()
    with run_lock(settings.lock_path, "airflow task ingest"):
        pipeline.check_disk_room(settings)  # the DAG run's first task: refuse it early
        summary = pipeline.stage_ingest(settings, take_inbox=take_inbox)
    warehouse = open_warehouse(settings)
    files, raw = report_file_datasets(settings, warehouse, summary.loaded, take_inbox)
    lineage(files, raw + reference_datasets(warehouse))
    return summary.line()


def ingest_of_run(context, lineage: Sink = ignore) -> str:
    """The ingest of an Airflow run of the pipeline: a run triggered by hand takes the inbox
    too, as ``chiso run`` does (an operator who triggers a month expects the files waiting
    in it to count); a scheduled or Asset-triggered run leaves it to
    ``chiso_ingest_unit_files``."""
    return ingest(take_inbox=_run_type(context) == "manual", lineage=lineage)


def _run_type(context) -> str:
    """``manual``, ``scheduled``, ``asset_triggered`` or ``backfill`` (DagRunType's values)."""
    run_type = getattr(context["dag_run"], "run_type", "")
    return str(getattr(run_type, "value", run_type)).lower()


def build(period: str, lineage: Sink = ignore) -> dict:
    settings = load_settings()
    period = check_period(period)
    run_id = pipeline.new_run_id(period)
    with run_lock(settings.lock_path, f"airflow task build {period}"):
        result, candidate = pipeline.stage_build(settings, period, run_id)
    if candidate:
        warehouse = open_warehouse(settings)
        sources, built = dbt_datasets(settings, warehouse)
        lineage(sources, built + candidate_datasets(warehouse, candidate))
    return BuildInfo(run_id, period, result.tests, result.skipped, candidate).to_json()


def gate(payload: dict, lineage: Sink = ignore) -> dict:
    settings = load_settings()
    info = BuildInfo.from_json(payload)
    built = BuildResult(skipped=info.skipped, tests=info.tests)
    result = pipeline.stage_gate(settings, info.run_id, info.period, built, info.candidate)
    if info.candidate:
        lineage(
            candidate_datasets(open_warehouse(settings), info.candidate),
            [file_dataset(settings.gate_dir / f"{info.run_id}.json")],
        )
    if not result.passed:
        failures = "; ".join(str(check) for check in result.blocking_failures)
        raise pipeline.GateFailed(f"{result.summary()}: {failures}")
    return GateInfo(result.summary(), [str(c) for c in result.warnings]).to_json()


def publish(payload: dict, lineage: Sink = ignore) -> str:
    settings = load_settings()
    info = BuildInfo.from_json(payload)
    with run_lock(settings.lock_path, f"airflow task publish {info.period}"):
        published = pipeline.stage_publish(settings, info.candidate)
    warehouse = open_warehouse(settings)
    lineage(
        candidate_datasets(warehouse, info.candidate),
        published_datasets(warehouse, info.candidate.row_counts),
    )
    return published


def snapshot(period: str, lineage: Sink = ignore) -> str:
    from chiso.snapshot import snapshot as make_snapshot

    settings = load_settings()
    settings.ensure_dirs()
    with run_lock(settings.lock_path, f"airflow task snapshot {period}"):
        folder = make_snapshot(settings, check_period(period))
    files = sorted(folder.glob("*.parquet"))
    lineage(
        published_datasets(open_warehouse(settings), [path.stem for path in files]),
        [file_dataset(path) for path in files],
    )
    return str(folder)


def verify_snapshots() -> int:
    from chiso.snapshot import verify

    problems = verify(load_settings())
    if problems:
        raise RuntimeError("snapshots changed after they were made: " + "; ".join(problems))
    return 0


def report(period: str) -> list[str]:
    """The monthly report for ``period``, one per province the instance serves, in
    <data>/reports (and its PDF when Chromium is installed); reads what is published."""
    from chiso.report import chromium, to_pdfs, write_report

    settings = load_settings()
    out = settings.data_dir / "reports"
    paths = [write_report(settings, check_period(period), out, p) for p in settings.provinces]
    if chromium():
        to_pdfs(paths)
    return [str(path) for path in paths]


def ingest_unit_files(lineage: Sink = ignore) -> str:
    """The inbox -> landing / quarantine -> raw; returns the summary line. Raises
    NothingNew when no new file was loaded (the DAG skips: no Asset event)."""
    from ingest.inbox import ingest_inbox

    settings = load_settings()
    with run_lock(settings.lock_path, "airflow task ingest_unit_files"):
        summary = ingest_inbox(settings)
    files, raw = report_file_datasets(
        settings, open_warehouse(settings), summary.loaded, took_inbox=True
    )
    lineage(files, raw)
    if not summary.loaded_files:
        raise NothingNew(summary.line())
    return summary.line()


def ingest_portal(periods: list[str]) -> str:
    """Fetch and load the configured portal requests for each period (fetch outside the
    lock, load inside); raises NothingNew when every answer was already loaded."""
    from ingest.sources import portal_766

    settings = load_settings()
    settings.ensure_dirs()
    requests = [
        request
        for period in periods
        for request in portal_766.requests_for(settings, check_period(period))
    ]
    answers, rows = portal_766.ingest(settings, requests, "airflow task ingest_portal")
    line = f"{answers} answers landed, {rows} score rows loaded for {', '.join(periods)}"
    if not rows:
        raise NothingNew(line)
    return line


NotDueYet = pipeline.NotDueYet


class NothingNew(Exception):
    """Nothing new was loaded: the task is skipped, so no Asset event starts a build."""


def on_failure(context) -> None:
    """Failure callback of every chiso task: one clear log line, and a JSON POST to
    CHISO_ALERT_WEBHOOK when it is set (chat bots, incident tools). Never raises."""
    import json
    import logging
    import urllib.request

    task = context.get("task_instance") or context.get("ti")
    summary = {
        "dag_id": getattr(task, "dag_id", None),
        "task_id": getattr(task, "task_id", None),
        "run_id": getattr(task, "run_id", None),
        "try_number": getattr(task, "try_number", None),
        "error": str(context.get("exception") or "")[:2000],
    }
    logging.getLogger("chiso").error("chiso task failed: %s", json.dumps(summary))
    url = load_settings().alert_webhook
    if not url:
        return
    request = urllib.request.Request(
        url,
        data=json.dumps(summary, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except OSError as error:  # an alert that cannot be sent must not hide the failure
        logging.getLogger("chiso").error("alert webhook failed: %s", error)


def send_reminders(on: str | None, run_on: datetime) -> dict:
    """The reminders due on a day (``on``, YYYY-MM-DD; else the run's day where chiso is):
    written to a file, POSTed to the alert webhook, each unit and period once."""
    from datetime import date

    from chiso.reminders import send_reminders as send

    settings = load_settings()
    day = date.fromisoformat(on) if on else run_on.astimezone(ZoneInfo(settings.timezone)).date()
    with run_lock(settings.lock_path, f"airflow task reminders {day}"):
        result = send(settings, day)
    return {"on": day.isoformat(), "sent": len(result.sent), "file": result.path}


def candidate(period: str, lineage: Sink = ignore) -> dict:
    """After dbt ran model by model (cosmos, tests included: a failed test fails its task,
    so this only runs when all passed): set the marts aside as a candidate for the gate."""
    settings = load_settings()
    period = check_period(period)
    run_id = pipeline.new_run_id(period)
    warehouse = open_warehouse(settings)
    with run_lock(settings.lock_path, f"airflow task candidate {period}"):
        made = pipeline.write_candidate(warehouse, run_id, period)
    lineage(marts_datasets(warehouse, made), candidate_datasets(warehouse, made))
    return BuildInfo(run_id, period, candidate=made).to_json()


def dbt_manifest() -> Path:
    """Parse the dbt project (no warehouse needed) so DAGs can render its models from the
    manifest without running dbt at parse time; returns the manifest's path."""
    from warehouse.build import run_dbt

    settings = load_settings()
    run_dbt(settings, "parse")
    return settings.dbt_target_dir / "manifest.json"


def period_of_run(context) -> str:
    """The month an Airflow run computes: its ``period`` param; for a run an Asset
    triggered (new reports or scores loaded), the latest month with figures; else the
    month before the run's logical date."""
    requested = context["params"].get("period")
    if requested:
        return check_period(requested)
    if _asset_triggered(context):
        settings = load_settings()
        with run_lock(settings.lock_path, "airflow task resolve_period"):
            latest = pipeline.latest_period(settings)
        if latest:
            return latest
    return resolve_period(None, _run_on(context))


def period_to_build(context) -> str:
    """:func:`period_of_run`, and for a scheduled run (no ``period`` asked for, no Asset):
    :class:`NotDueYet` when its month is not due yet and nothing came for it early."""
    period = period_of_run(context)
    if context["params"].get("period") or _asset_triggered(context):
        return period
    settings = load_settings()
    today = _run_on(context).astimezone(ZoneInfo(settings.timezone)).date()
    with run_lock(settings.lock_path, "airflow task resolve_period"):
        pipeline.check_due(settings, period, today)
    return period


def _asset_triggered(context) -> bool:
    return "asset" in _run_type(context)


def _run_on(context) -> datetime:
    return context.get("logical_date") or context["dag_run"].run_after
