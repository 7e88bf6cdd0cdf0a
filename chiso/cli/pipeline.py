"""``chiso run``, ``demo``, ``status``, ``rollback``: the pipeline and what it published."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from chiso.cli.common import EXIT_FAILED, EXIT_OK, period
from warehouse.settings import Settings, load_settings


def _print_summary(summary, settings: Settings) -> None:
    print("\nSummary")
    for line in summary.lines:
        print(f"  {line}")
    total = sum(summary.stage_seconds.values())
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in summary.stage_seconds.items())
    print(f"  time:    {total:.1f}s ({stages})")
    if not summary.published:
        return
    tables = ", ".join(f"{name} ({rows})" for name, rows in summary.published_rows.items())
    print(f"\nMarts published to {summary.published}\n  tables (rows): {tables}\nQuery them with:")
    query = (
        "select status, count(*) as targets from target_progress "
        "group by status order by targets desc"
    )
    from warehouse.backends import open_warehouse

    for line in open_warehouse(settings).query_hint(query):
        print(f"  {line}")


def cmd_run(args: argparse.Namespace) -> int:
    from chiso.pipeline import GateFailed, run
    from warehouse.backends import open_warehouse
    from warehouse.errors import ChisoError

    settings = _settings(args)
    backend = open_warehouse(settings)
    where = backend.published_location
    print(f"chiso run for {args.period} (data directory: {settings.data_dir})")
    try:
        summary = run(args.period, settings, full_refresh=args.full_refresh)
    except GateFailed as exc:
        _print_summary(exc.summary, settings)
        print(f"\nNOT PUBLISHED: {exc}", file=sys.stderr)
        print(f"What is published ({where}) is unchanged.", file=sys.stderr)
        candidate = backend.kept_candidate(exc.summary.run_id)
        if candidate:
            print(f"The rejected candidate is kept at {candidate} for inspection.", file=sys.stderr)
        return EXIT_FAILED
    except ChisoError as exc:
        exc.add_note(f"What is published ({where}) is unchanged.")
        raise  # printed, with the note, by the CLI's one handler
    _print_summary(summary, settings)
    return EXIT_OK


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, with ``--verbose`` (dbt's log streamed) for this run."""
    settings = load_settings()
    return replace(settings, verbose=True) if args.verbose else settings


def cmd_demo(args: argparse.Namespace) -> int:
    from chiso.cli.units import import_lists
    from chiso.samples.portal_replay import ingest_sample_sources
    from chiso.samples.report_files import DEFAULT_END, DEFAULT_START, generate
    from chiso.samples.unit_lists import write_lists

    settings = _settings(args)
    settings.ensure_dirs()
    lists = write_lists(settings.data_dir / "sample_lists", settings.provinces)
    if import_lists(settings, lists):
        return EXIT_FAILED
    files = generate(settings.inbox_dir, lists=True)
    print(
        f"wrote {len(files)} sample report files (provinces {', '.join(settings.provinces)}) "
        f"to {settings.inbox_dir}"
    )
    print(ingest_sample_sources(settings, DEFAULT_START, DEFAULT_END, log=print))
    args.period, args.full_refresh = DEFAULT_END, False
    return cmd_run(args)


def cmd_rollback(args: argparse.Namespace) -> int:
    from warehouse.backends import open_warehouse
    from warehouse.lock import run_lock

    settings = load_settings()
    backend = open_warehouse(settings)
    with run_lock(settings.lock_path, "chiso rollback"):
        record = backend.rollback(args.to)
    print(
        f"published {backend.published_location} is now run {record['run_id']} "
        f"(month {record['as_of_period']}), rolled back from {record['rollback_of']}"
    )
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from warehouse.backends import open_warehouse

    settings = load_settings()
    backend = open_warehouse(settings)
    print(f"data directory: {settings.data_dir}; warehouse: {settings.warehouse}")
    history = backend.publications(last=5)
    current = history[-1] if history else None
    if current is None:
        print("published: nothing yet (run: chiso run --period YYYY-MM)")
    else:
        print(
            f"published: run {current['run_id']}, month {current['as_of_period']}, "
            f"at {current['published_at']} -> {backend.published_location}"
        )
        print("row counts of the last publications (oldest first):")
        for entry in history:
            counts = entry["row_counts"]
            print(
                f"  {entry['run_id']}  {entry['as_of_period']}  observations "
                f"{counts.get('indicator_observations', '?'):>7}  progress "
                f"{counts.get('target_progress', '?'):>5}"
                + ("  (rollback)" if entry.get("rollback_of") else "")
            )
    latest = settings.gate_dir / "latest.json"
    if latest.exists():
        gate = json.loads(latest.read_text(encoding="utf-8"))
        failed = [c for c in gate["checks"] if not c["passed"]]
        verdict = "passed" if gate["passed"] else "FAILED"
        report = settings.gate_dir / f"{gate['run_id']}.md"
        print(f"last gate: run {gate['run_id']} {verdict}; report: {report}")
        docs = settings.gate_dir / "data_docs" / "index.html"
        if docs.exists():
            print(f"  Great Expectations Data Docs: {docs}")
        for check in failed:
            print(
                f"  {check['tier']:<8} {check['check']} ({check['table']}): {check['detail'][:100]}"
            )
    quarantined = sorted((settings.quarantine_dir / "unit_files").glob("*/errors.txt"))
    print(f"quarantined files: {len(quarantined)} (in {settings.quarantine_dir / 'unit_files'})")
    if current is not None:
        provinces = [args.province] if args.province else list(settings.provinces)
        for province in provinces:
            _province_status(backend, current["as_of_period"], province)
    return EXIT_OK


def _province_status(backend, month: str, province: str) -> None:
    """A province's targets by status, and who owes the month and has not reported it
    (the target_progress and reporting_completeness marts)."""
    with backend.published() as reader:
        statuses = reader.execute(
            "select status, count(distinct target_id), count(*) from target_progress "
            "where province_code = ? group by status order by count(*) desc",
            [province],
        ).fetchall()
        missing = reader.execute(
            "select unit_code, unit_name_vi, reporting_status, due_on from reporting_completeness "
            "where province_code = ? and period = ? "
            "and reporting_status in ('missing', 'rejected_only', 'not_yet_due') "
            "order by unit_code",
            [province, month],
        ).fetchall()
        # a publication made before a mart existed simply has none to show
        outliers = (
            reader.execute(
                "select unit_code, unit_name_vi, indicator_code, follow_up_vi "
                "from figure_outliers where province_code = ? and is_outlier "
                "order by unit_code, indicator_code",
                [province],
            ).fetchall()
            if "figure_outliers" in reader.tables
            else []
        )
        overridden = (
            reader.execute(
                "select count(*) from target_progress "
                "where province_code = ? and is_status_overridden",
                [province],
            ).fetchone()[0]
            if "figure_outliers" in reader.tables  # the same release added both
            else 0
        )
    print(f"province {province}: targets by status (targets, unit × target)")
    for status, targets, pairs in statuses:
        print(f"  {status:<20} {targets:>4} {pairs:>7}")
    if overridden:
        print(f"  ({overridden} of them decided by seed status_overrides, not computed)")
    print(f"units of province {province} that have not reported for {month}: {len(missing)}")
    notes = {"rejected_only": "only rejected files", "missing": "late", "not_yet_due": "not due"}
    for code, name, status, due_on in missing:
        print(f"  {code}  {name}  ({notes[status]}, due {due_on})")
    print(f"figures of province {province} to check with their units (outliers): {len(outliers)}")
    for code, name, indicator, follow_up in outliers:
        print(f"  {code}  {name}  {indicator}: {follow_up}")


def register(commands) -> None:
    run = commands.add_parser("run", help="ingest -> dbt build -> quality gate -> publish")
    run.add_argument("--period", required=True, type=period, help="month, YYYY-MM")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from raw instead of the changed months only "
        "(a run does it by itself after an upgrade or a seed edit)",
    )
    run.set_defaults(func=cmd_run)

    demo = commands.add_parser("demo", help="write sample files into the inbox and run them")
    demo.set_defaults(func=cmd_demo)
    for command in (run, demo):
        command.add_argument(
            "--verbose",
            action="store_true",
            help="stream dbt's log (every model and test) instead of one progress line; "
            "it is always written to <data>/dbt/logs/dbt.log",
        )

    status = commands.add_parser(
        "status", help="what is published, the last gate, who has not reported"
    )
    status.add_argument("--province", help="one province (default: every one served)")
    status.set_defaults(func=cmd_status)

    rollback = commands.add_parser("rollback", help="put an earlier published version back")
    rollback.add_argument("--to", help="run id of a kept version (default: the previous one)")
    rollback.set_defaults(func=cmd_rollback)
