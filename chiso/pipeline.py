"""The main job for one period: ingest -> dbt build -> quality gate -> publish.

One pipeline over a warehouse backend (:mod:`warehouse.backends`, ``CHISO_WAREHOUSE``):
the CLI and the Airflow DAGs call the stage functions below; ``run`` chains them with
progress output and a summary. Every stage is safe to re-run for the same period.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from warehouse.backends import Candidate, Warehouse, open_warehouse
from warehouse.budget import gate_budget
from warehouse.build import BuildResult, NodeDone, dbt_log_file
from warehouse.errors import ChisoError
from warehouse.faults import kill_point
from warehouse.periods import check_period
from warehouse.settings import Settings, environment_for

if TYPE_CHECKING:
    from ingest.inbox import IngestSummary

Log = Callable[[str], None]


@dataclass
class RunSummary:
    run_id: str
    period: str
    stage_seconds: dict[str, float] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    published: str | None = None
    published_rows: dict[str, int] = field(default_factory=dict)
    gate_passed: bool | None = None


class GateFailed(ChisoError):
    """The gate blocked publication; what is published was left untouched."""

    def __init__(self, message: str, summary: RunSummary | None = None):
        super().__init__(message)
        self.summary = summary


def new_run_id(period: str) -> str:
    """A unique id that sorts by start time: ``20261122T020000123456Z_2025-06``."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}_{period}"


class EmptyMonth(ChisoError):
    """No source has a figure for the month asked for: nothing to build or publish."""


def stage_ingest(
    settings: Settings, log: Log = print, take_inbox: bool = True, progress=None
) -> IngestSummary:
    """The inbox into landing and raw (``take_inbox=False``: only landed files not yet
    loaded), then the reference sources every build reads. ``progress`` hears of each file
    read (:class:`chiso.progress.Progress`)."""
    from ingest.inbox import IngestError, ingest_inbox
    from ingest.sources import admin_units, dti, portal_766, provision, snapshots
    from warehouse.calendar import load_deadlines

    summary = ingest_inbox(settings, log=log, take_inbox=take_inbox, progress=progress)
    if summary.integrity_errors:
        raise IngestError(
            "landed files failed their integrity check, not loaded: "
            + ", ".join(summary.integrity_errors)
        )
    with closing(open_warehouse(settings).raw()) as conn:
        for ddl in (portal_766.DDL, dti.DDL, provision.DDL):  # loaded by `chiso ingest`
            conn.execute(ddl)
        log(f"  {admin_units.load(conn)}")
        log(f"  {load_deadlines(conn, settings.provinces)}")
        log(f"  {snapshots.load(conn, settings.snapshot_dir)}")
    return summary


def stage_build(
    settings: Settings,
    period: str,
    run_id: str,
    full_refresh: bool = False,
    on_node: NodeDone | None = None,
) -> tuple[BuildResult, Candidate | None]:
    """Check the catalog, dbt build (the incremental models by month, or in full with
    ``full_refresh`` or a changed project); if its tests pass, set the marts aside as the
    candidate. ``on_node`` hears of each seed, model and test dbt finishes."""
    from chiso.catalog import check
    from expectations.suites import load_suites, source_queries

    backend = open_warehouse(settings)
    check(settings.dbt_project_dir / "seeds")  # names the file and line of a bad edit
    check_month_has_figures(settings, period)
    build = backend.build(period, full_refresh, on_node)
    kill_point("build_before_candidate")
    failed_tests = [t for t in build.tests if t.status in ("fail", "error")]
    if failed_tests or build.skipped:
        # some marts were not rebuilt: they must not reach a candidate
        return build, None
    return build, write_candidate(backend, run_id, period, source_queries(load_suites()))


def check_month_has_figures(settings: Settings, period: str) -> None:
    """Raise :class:`EmptyMonth`, naming the month, each source and the latest month with
    figures, when no monthly source has a figure for ``period``."""
    from warehouse.raw import figures_in_month, latest_month_with_figures

    with closing(open_warehouse(settings).raw()) as conn:
        counts = figures_in_month(conn, period)
        latest = latest_month_with_figures(conn)
    if any(counts.values()):
        return
    found = ", ".join(f"{source}: 0" for source in counts)
    hint = (
        f"the latest month with figures is {latest} (chiso run --period {latest})"
        if latest
        else "no month has figures yet"
    )
    raise EmptyMonth(
        f"no figures for {period} ({found}): nothing to build or publish for that month; "
        f"{hint}, or put the month's report files in the inbox ({settings.inbox_dir})"
    )


class NotDueYet(Exception):
    """A scheduled run came before any report for its month was due, and none came early:
    nothing to build yet (the run is skipped, not failed)."""


def check_disk_room(settings: Settings) -> None:
    """Refuse to start a run whose files, candidate and DuckDB spill the disk of the data
    directory has no room for, beside CHISO_DISK_RESERVE (warehouse/budget.py)."""
    from warehouse.budget import check_disk, folder_bytes

    needs = {
        "the inbox's files, landed": folder_bytes(settings.inbox_dir),
        "a candidate of the marts": open_warehouse(settings).candidate_bytes(),
    }
    check_disk(needs, settings.disk_reserve, settings.data_dir)


def check_due(settings: Settings, period: str, today: date) -> None:
    """For a scheduled run on ``today``: raise :class:`NotDueYet` when no unit's report for
    ``period`` is due yet (seeds/reporting_calendar.csv) and no source has a figure for it.
    A month that was due and got nothing is left to the build, which fails on it
    (:class:`EmptyMonth`) and alerts."""
    from warehouse.calendar import first_due_on
    from warehouse.raw import figures_in_month

    due = first_due_on(settings.provinces, period)
    if due is not None and today >= due:
        return
    with closing(open_warehouse(settings).raw()) as conn:
        counts = figures_in_month(conn, period)
    if not any(counts.values()):
        when = f"the first report is due on {due}" if due else "no unit owes a report for it"
        raise NotDueYet(f"nothing to build for {period} on {today}: {when}, and none came early")


def latest_period(settings: Settings) -> str | None:
    """The latest month any monthly source has figures for."""
    from warehouse.raw import latest_month_with_figures

    with closing(open_warehouse(settings).raw()) as conn:
        return latest_month_with_figures(conn)


def write_candidate(
    backend: Warehouse, run_id: str, period: str, queries: dict[str, str] | None = None
) -> Candidate:
    if queries is None:
        from expectations.suites import load_suites, source_queries

        queries = source_queries(load_suites())
    return backend.write_candidate(run_id, period, queries)


def stage_gate(
    settings: Settings,
    run_id: str,
    period: str,
    build: BuildResult,
    candidate: Candidate | None,
    log: Log = print,
    runner=None,
):
    """dbt's test results and the Great Expectations suites on the candidate, stored in
    ``<data>/gate/<run id>.json``; returns the GateResult."""
    from expectations.frames import run_suites
    from expectations.results import CheckResult, GateResult, dbt_checks
    from expectations.sql import run_suites_sql
    from expectations.suites import load_suites, suite_parameters, suite_versions

    backend = open_warehouse(settings)
    gate = GateResult(run_id=run_id, period=period, checks=dbt_checks(build.tests))
    gate.history = backend.publications(last=5)
    if build.skipped:
        gate.checks.append(
            CheckResult(
                check="every_model_built",
                source="dbt",
                table=None,
                tier="blocking",
                passed=False,
                detail="dbt skipped " + ", ".join(build.skipped),
            )
        )
    if candidate is not None:
        gate.row_counts = dict(candidate.row_counts)
        previous = backend.last_publication()
        first, tables = backend.candidate_facts(candidate)
        parameters = suite_parameters(
            first, tables, period, previous["row_counts"] if previous else None
        )
        baseline = backend.audited_baseline(suite_versions())
        if backend.validates_in_database:
            with environment_for(backend.gx_environment()), closing(backend.raw()) as conn:
                gate.checks += run_suites_sql(
                    backend.gx_connection_string(),
                    load_suites(),
                    parameters,
                    candidate.location,
                    baseline,
                    lambda sql: conn.execute(sql).fetchall(),
                    backend.row_hash,
                )
        else:
            from pathlib import Path

            docs = settings.gate_dir / "data_docs" if settings.data_docs else None
            # a child that imported Great Expectations during the build, or this process
            validate = runner.run if runner is not None else run_suites
            gate.checks += validate(
                Path(candidate.location),
                load_suites(),
                parameters,
                docs,
                run_id,
                Path(baseline) if baseline else None,
                gate_budget(settings),
            )
            if docs:
                log(f"  Great Expectations Data Docs: {docs / 'index.html'}")
    else:
        log("  Great Expectations suites not run: dbt failed before a candidate was built")
    kill_point("gate_before_verdict")
    path = gate.save(settings.gate_dir)
    for check in gate.blocking_failures:
        log(f"  BLOCKING {check}")
    for check in gate.warnings:
        log(f"  warning  {check}")
    log(f"  {gate.summary()} (report: {path})")
    return gate


def stage_publish(settings: Settings, candidate: Candidate) -> str:
    """Swap the audited candidate in; the publication records the suites that passed it
    and the gate's counts."""
    from expectations.results import gate_summary
    from expectations.suites import suite_versions

    backend = open_warehouse(settings)
    current = backend.last_publication()
    if current and current["run_id"] == candidate.run_id:
        # a retry of a publish whose worker was lost after the swap: published once
        return backend.published_location
    record = {
        "suites": suite_versions(),
        "gate": gate_summary(settings.gate_dir, candidate.run_id),
    }
    return backend.publish(candidate, record)


def run(
    period: str, settings: Settings, log: Log = print, full_refresh: bool = False
) -> RunSummary:
    """Run every stage for ``period`` (YYYY-MM). Raises on a failed stage or gate.
    ``full_refresh``: rebuild the incremental models from raw (a run does by itself when
    the project changed since the last build)."""
    from chiso.progress import Progress
    from expectations.runner import SuiteRunner
    from warehouse.lock import run_lock

    period = check_period(period)
    settings.ensure_dirs()
    summary = RunSummary(run_id=new_run_id(period), period=period)

    def timed(name: str, step: int, func):
        log(f"[{step}/4] {name} ...")
        started = time.monotonic()
        result = func()
        summary.stage_seconds[name] = time.monotonic() - started
        log(f"[{step}/4] {name} done in {summary.stage_seconds[name]:.1f}s")
        return result

    log(f"  warehouse: {settings.warehouse}")
    with run_lock(settings.lock_path, f"chiso run --period {period}"):
        check_disk_room(settings)  # nothing started when the disk has no room for the run
        with Progress("ingest", log) as bar:
            line = timed("ingest", 1, lambda: stage_ingest(settings, log, progress=bar).line())
        summary.lines.append(f"ingest:  {line}")
        log(f"  {line}")
        # imports Great Expectations on the other core during the build (pandas path)
        validates_frames = not open_warehouse(settings).validates_in_database
        runner = SuiteRunner() if validates_frames else None
        try:
            with Progress("dbt build", log) as bar:
                build, candidate = timed(
                    "build",
                    2,
                    lambda: stage_build(settings, period, summary.run_id, full_refresh, bar),
                )
            built = (
                f"{build.models_built} models "
                f"({'in full' if build.full_refresh else 'incremental models by month'}), "
                f"{build.tests_passed}/{len(build.tests)} dbt tests passed"
            )
            summary.lines.append(f"build:   {built}")
            log(f"  {built}; dbt's log: {dbt_log_file(settings)}")
            gate = timed(
                "gate",
                3,
                lambda: stage_gate(settings, summary.run_id, period, build, candidate, log, runner),
            )
        finally:
            if runner is not None:
                runner.close()
        summary.gate_passed = gate.passed
        summary.lines.append(f"gate:    {gate.summary()}")
        if not gate.passed:
            failures = "; ".join(str(check) for check in gate.blocking_failures)
            raise GateFailed(f"{gate.summary()}: {failures}", summary)
        summary.published = timed("publish", 4, lambda: stage_publish(settings, candidate))
        summary.published_rows = candidate.row_counts
        summary.lines.append(f"publish: {summary.published}")
    return summary
