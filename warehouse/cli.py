"""``chiso``: the command-line tool for data engineers (and the README's main job).

Commands::

    chiso run --period 2025-06        ingest -> dbt build -> quality gate -> publish
    chiso demo                        sample files into the inbox, then run their last month
    chiso sample [--out DIR]          write the deterministic sample report files
    chiso validate-file FILE...       check report files the way ingestion will
    chiso ingest portal --period 2025-10   index-766 scores from the public service portal
    chiso ingest dti --file bang_1.csv      DTI tables; provision --file F --period YYYY-MM
    chiso report --period YYYY-MM     the monthly report: HTML with charts (--pdf)
    chiso postgres --period YYYY-MM   the same dbt build on PostgreSQL (scale-out target)
    chiso snapshot --period YYYY-MM   freeze the published month; chiso snapshot verify
    chiso export --format csv --out DIR   the published marts as files
    chiso status                      what is published, the last gate, who has not reported
    chiso rollback [--to RUN_ID]      put an earlier published version back
    chiso catalog [--summary]         check the indicator catalog and targets; count them
    chiso template --group G --period YYYY-MM --out FILE   blank report template
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ingest.parsing import ParseError, check_period
from warehouse.settings import load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
SAMPLE_START, SAMPLE_END = (
    "2022-01",
    "2025-09",
)  # ingest.sample's defaults (not imported: light CLI)


def _period(text: str) -> str:
    try:
        return check_period(text)
    except ParseError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _print_summary(summary, settings) -> None:
    print("\nSummary")
    for line in summary.lines:
        print(f"  {line}")
    total = sum(summary.stage_seconds.values())
    stages = ", ".join(f"{k} {v:.1f}s" for k, v in summary.stage_seconds.items())
    print(f"  time:    {total:.1f}s ({stages})")
    if summary.published:
        path = summary.published
        tables = ", ".join(f"{name} ({rows})" for name, rows in summary.published_rows.items())
        print(f"\nMarts published to {path}\n  tables (rows): {tables}\nQuery them with:")
        print(
            f"  {sys.executable} -c \"import duckdb; print(duckdb.connect('{path}', "
            "read_only=True).sql('select status, count(*) as targets from target_progress "
            "group by status order by targets desc'))\""
        )


def cmd_run(args: argparse.Namespace) -> int:
    from ingest.inbox import IngestError
    from warehouse.build import BuildError
    from warehouse.catalog import CatalogError
    from warehouse.lock import LockedError
    from warehouse.pipeline import GateFailed, run
    from warehouse.publish import PublishError

    settings = load_settings()
    print(f"chiso run for {args.period} (data directory: {settings.data_dir})")
    try:
        summary = run(args.period, settings)
    except GateFailed as exc:
        _print_summary(exc.summary, settings)
        print(f"\nNOT PUBLISHED: {exc}", file=sys.stderr)
        print(f"The published file {settings.published_path} is unchanged.", file=sys.stderr)
        candidate = settings.candidate_path(exc.summary.run_id)
        if candidate.exists():
            print(f"The rejected candidate is kept at {candidate} for inspection.", file=sys.stderr)
        return EXIT_FAILED
    except (LockedError, IngestError, CatalogError, BuildError, PublishError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"The published file {settings.published_path} is unchanged.", file=sys.stderr)
        return EXIT_FAILED
    _print_summary(summary, settings)
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    from ingest.sample import generate

    out = Path(args.out) if args.out else load_settings().inbox_dir
    files = generate(out, start=args.start, end=args.end)
    print(f"wrote {len(files)} sample report files to {out}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from ingest.sample import DEFAULT_END, DEFAULT_START, generate
    from ingest.sample_portal import ingest_sample_sources

    settings = load_settings()
    settings.ensure_dirs()
    files = generate(settings.inbox_dir)
    print(f"wrote {len(files)} sample report files (Lạng Sơn units) to {settings.inbox_dir}")
    print(ingest_sample_sources(settings, DEFAULT_START, DEFAULT_END, log=print))
    args.period = DEFAULT_END
    return cmd_run(args)


def cmd_validate_file(args: argparse.Namespace) -> int:
    from ingest.sources.unit_files import read_report

    status = EXIT_OK
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"{name}: không tìm thấy tệp; file not found")
            status = EXIT_FAILED
            continue
        report = read_report(path)
        verdict = "hợp lệ / valid" if report.is_valid else "KHÔNG hợp lệ / NOT valid"
        print(f"{name}: {verdict} ({report.unit_code}, {report.period}, {len(report.rows)} rows)")
        for problem in report.problems:
            print(f"  [{problem.severity}] {problem.located(report.sheet)}")
        if not report.is_valid:
            status = EXIT_FAILED
    return status


def cmd_template(args: argparse.Namespace) -> int:
    from ingest.template import TemplateError, write_template

    try:
        path = write_template(args.group, args.period, Path(args.out), args.province)
    except TemplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote the {args.group} template for {args.period} to {path}")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    import json

    if args.which == "national":
        from warehouse.bench_national import bench_national

        result = bench_national(args.scale, args.months, keep=args.keep)
    elif args.which == "airflow":
        from warehouse.bench_airflow import bench_airflow

        result = bench_airflow(args.mode)
    else:
        from warehouse.bench import bench_ingest

        result = bench_ingest(args.files)
    print(json.dumps(result, indent=2))
    return EXIT_OK


def _with_warehouse(settings, holder: str, work):
    from warehouse.lock import run_lock
    from warehouse.raw import connect

    with run_lock(settings.lock_path, holder):
        conn = connect(settings.warehouse_path)
        try:
            return work(conn)
        finally:
            conn.close()


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.exports import ExportError
    from ingest.http import FetchError
    from ingest.sources import portal_766
    from warehouse.lock import LockedError

    settings = load_settings()
    settings.ensure_dirs()
    holder = f"chiso ingest {args.source}"
    try:
        if args.source == "portal":
            return _ingest_portal(args, settings, holder)
        from ingest import exports
        from ingest.sources import dti, provision

        export = {"dti": dti.EXPORT, "provision": provision.EXPORT}[args.source]
        if args.reparse:
            rows = _with_warehouse(
                settings, holder, lambda conn: exports.reload(conn, export, settings.landing_dir)
            )
            print(f"re-parsed the landing area: {rows} rows in raw.{export.source}")
            return EXIT_OK
        if not args.file:
            print("error: give --file (or --reparse)", file=sys.stderr)
            return EXIT_USAGE
        period = args.period or "undated"
        if args.source == "provision" and not args.period:
            print("error: give --period: the month the table was exported", file=sys.stderr)
            return EXIT_USAGE
        landed, rows = _with_warehouse(
            settings,
            holder,
            lambda conn: exports.ingest_export(conn, export, Path(args.file), period, settings),
        )
        print(f"landed {landed}\n{rows} rows loaded into raw.{export.source}")
    except (ExportError, FetchError, portal_766.PortalError, LockedError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _ingest_portal(args, settings, holder: str) -> int:
    from ingest.sources import portal_766

    if args.reparse:
        rows = _with_warehouse(settings, holder, lambda conn: portal_766.reload(conn, settings))
        print(f"re-parsed the landing area: {rows} score rows in raw.portal_766_scores")
        return EXIT_OK
    if not args.period:
        print("error: give --period YYYY-MM (or a year, YYYY)", file=sys.stderr)
        return EXIT_USAGE
    requests = portal_766.requests_for(settings, args.period)
    answers, rows = portal_766.ingest(settings, requests, holder, progress=True)
    print(f"landed {answers} answers; {rows} score rows loaded into raw.portal_766_scores")
    return EXIT_OK


def cmd_postgres(args: argparse.Namespace) -> int:
    from expectations.gate import GateResult, dbt_checks, load_suites, run_suites_sql
    from warehouse.build import BuildError
    from warehouse.lock import LockedError, run_lock
    from warehouse.pipeline import new_run_id
    from warehouse.postgres import (
        build,
        connect_pg,
        gx_connection_string,
        load_raw,
        publish,
        suite_parameters,
    )

    settings = load_settings()
    run_id = new_run_id(args.period)
    try:
        with run_lock(settings.lock_path, f"chiso postgres --period {args.period}"):
            pg = connect_pg()
            try:
                copied = load_raw(settings, pg)
                print(
                    f"raw copied to PostgreSQL: {sum(copied.values())} rows, {len(copied)} tables"
                )
                result = build(settings, args.period)
                failed = [t for t in result.tests if t.status in ("fail", "error")]
                print(
                    f"dbt build on PostgreSQL: {result.models_built} models, "
                    f"{result.tests_passed}/{len(result.tests)} tests passed"
                )
                for test in failed:
                    print(f"  FAILED {test.name}: {test.message}", file=sys.stderr)
                if failed or result.skipped:
                    print("NOT PUBLISHED: schema published is unchanged", file=sys.stderr)
                    return EXIT_FAILED
                gate = GateResult(run_id, args.period, checks=dbt_checks(result.tests))
                gate.checks += run_suites_sql(
                    gx_connection_string(), load_suites(), suite_parameters(pg, args.period)
                )
                report = gate.save(settings.gate_dir / "postgres")
                print(f"{gate.summary()} (Great Expectations, SQL path; report: {report})")
                for check in gate.blocking_failures:
                    print(f"  BLOCKING {check}", file=sys.stderr)
                if not gate.passed:
                    print("NOT PUBLISHED: schema published is unchanged", file=sys.stderr)
                    return EXIT_FAILED
                tables = publish(pg, run_id, args.period)
            finally:
                pg.close()
    except (BuildError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # psycopg2 errors: name the cause, never the password
        print(f"error: PostgreSQL: {type(exc).__name__}: {exc}".strip(), file=sys.stderr)
        return EXIT_FAILED
    print(f"published to schema published ({len(tables)} tables), readable by chiso_reader")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    import subprocess

    from warehouse.report import ReportError, to_pdf, to_png, write_report

    settings = load_settings()
    out = Path(args.out) if args.out else settings.data_dir / "reports"
    try:
        path = write_report(settings.published_path, args.period, out, args.province)
        print(f"report written: {path}")
        if args.pdf:
            print(f"PDF written: {to_pdf(path)}")
        if args.png:
            print(f"screenshot written: {to_png(path)}")
    except (ReportError, OSError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_dbt_manifest(args: argparse.Namespace) -> int:
    from warehouse.build import BuildError
    from warehouse.tasks import dbt_manifest

    try:
        print(f"dbt manifest written: {dbt_manifest()}")
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _portal_period(text: str) -> str:
    if len(text) == 4 and text.isdigit():
        return text
    return _period(text)


def cmd_snapshot(args: argparse.Namespace) -> int:
    from warehouse.lock import LockedError, run_lock
    from warehouse.snapshot import SnapshotError, snapshot, verify

    settings = load_settings()
    settings.ensure_dirs()
    if args.action == "verify":
        problems = verify(settings)
        for problem in problems:
            print(f"TAMPERED {problem}", file=sys.stderr)
        if not problems:
            print(f"every snapshot in {settings.snapshot_dir} matches its manifest")
        return EXIT_FAILED if problems else EXIT_OK
    if not args.period:
        print("error: chiso snapshot needs --period YYYY-MM (or: chiso snapshot verify)")
        return EXIT_USAGE
    try:
        with run_lock(settings.lock_path, f"chiso snapshot --period {args.period}"):
            snapshot(settings, args.period, force=args.force)
    except (SnapshotError, LockedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from warehouse.snapshot import export

    settings = load_settings()
    if not settings.published_path.exists():
        print("error: nothing is published yet", file=sys.stderr)
        return EXIT_FAILED
    for path in export(settings, Path(args.out), args.format):
        print(path)
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from warehouse.lock import LockedError, run_lock
    from warehouse.publish import PublishError, rollback

    settings = load_settings()
    try:
        with run_lock(settings.lock_path, "chiso rollback"):
            manifest = rollback(settings, args.to)
    except (LockedError, PublishError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"published {settings.published_path} is now run {manifest['run_id']} "
        f"(month {manifest['as_of_period']}), rolled back from {manifest['rollback_of']}"
    )
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from warehouse.publish import last_publication

    settings = load_settings()
    print(f"data directory: {settings.data_dir}")
    log = settings.published_path.with_name("publications.jsonl")
    history = (
        [json.loads(x) for x in log.read_text(encoding="utf-8").splitlines()]
        if log.exists()
        else []
    )
    current = last_publication(settings)
    if current is None:
        print("published: nothing yet (run: chiso run --period YYYY-MM)")
    else:
        print(
            f"published: run {current['run_id']}, month {current['as_of_period']}, "
            f"at {current['published_at']} -> {settings.published_path}"
        )
        print("row counts of the last publications (oldest first):")
        for entry in history[-5:]:
            counts = entry["row_counts"]
            print(
                f"  {entry['run_id']}  {entry['as_of_period']}  observations "
                f"{counts.get('fct_indicator_observations', '?'):>7}  progress "
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
        from warehouse.raw import connect

        conn = connect(settings.published_path, read_only=True)
        try:
            missing = conn.execute(
                "select unit_code, unit_name_vi from dim_unit where unit_code not in ("
                "select unit_code from fct_indicator_observations where period = ?) "
                "and (valid_from_on is null or strftime(valid_from_on, '%Y-%m') <= ?) "
                "and (valid_to_on is null or strftime(valid_to_on, '%Y-%m') >= ?) order by 1",
                [current["as_of_period"]] * 3,
            ).fetchall()
        finally:
            conn.close()
        print(f"units that have not reported for {current['as_of_period']}: {len(missing)}")
        for code, name in missing:
            print(f"  {code}  {name}")
    return EXIT_OK


def cmd_catalog(args: argparse.Namespace) -> int:
    from warehouse.catalog import summary, validate

    seeds = load_settings().dbt_project_dir / "seeds"
    problems = validate(seeds)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if args.summary:
        print(summary(seeds))
    elif not problems:
        print(f"the catalog in {seeds} is consistent")
    return EXIT_FAILED if problems else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chiso", description="Digital-transformation (chuyển đổi số) indicator pipeline"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="ingest -> dbt build -> quality gate -> publish")
    run.add_argument("--period", required=True, type=_period, help="month, YYYY-MM")
    run.set_defaults(func=cmd_run)

    demo = commands.add_parser("demo", help="write sample files into the inbox and run them")
    demo.set_defaults(func=cmd_demo)

    sample = commands.add_parser("sample", help="write the deterministic sample report files")
    sample.add_argument("--out", help="folder (default: the inbox)")
    sample.add_argument("--start", type=_period, default=SAMPLE_START)
    sample.add_argument("--end", type=_period, default=SAMPLE_END)
    sample.set_defaults(func=cmd_sample)

    template = commands.add_parser(
        "template", help="write the blank report template for a unit group (xlsx or csv)"
    )
    template.add_argument("--group", required=True, help="department, district, commune, ...")
    template.add_argument("--period", required=True, type=_period, help="month, YYYY-MM")
    template.add_argument("--out", required=True, help="FILE.xlsx or FILE.csv")
    template.add_argument("--province", default="20", help="province code (default 20)")
    template.set_defaults(func=cmd_template)

    snap = commands.add_parser("snapshot", help="freeze the published month (or: verify)")
    snap.add_argument("action", nargs="?", choices=["verify"], help="re-hash every snapshot")
    snap.add_argument("--period", type=_period, help="month, YYYY-MM")
    snap.add_argument("--force", action="store_true", help="keep the old snapshot beside a new")
    snap.set_defaults(func=cmd_snapshot)

    exp = commands.add_parser("export", help="published marts as CSV or Parquet files")
    exp.add_argument("--format", choices=["csv", "parquet"], default="csv")
    exp.add_argument("--out", required=True, help="folder")
    exp.set_defaults(func=cmd_export)

    ingest = commands.add_parser(
        "ingest", help="fetch or load a source: portal (index 766), dti, provision (CSV)"
    )
    ingest.add_argument("source", choices=["portal", "dti", "provision"])
    ingest.add_argument("--period", type=_portal_period, help="YYYY-MM (portal: or a year, YYYY)")
    ingest.add_argument("--file", help="dti, provision: the CSV export to load")
    ingest.add_argument(
        "--reparse", action="store_true", help="rebuild the raw tables from the landing area"
    )
    ingest.set_defaults(func=cmd_ingest)

    manifest = commands.add_parser(
        "dbt-manifest", help="parse the dbt project (for the cosmos DAG; no warehouse needed)"
    )
    manifest.set_defaults(func=cmd_dbt_manifest)

    report = commands.add_parser(
        "report", help="the monthly report (HTML with charts; --pdf with Chromium)"
    )
    report.add_argument("--period", required=True, type=_period, help="month, YYYY-MM")
    report.add_argument("--province", default="20", help="province code (default 20)")
    report.add_argument("--out", help="folder (default: <data>/reports)")
    report.add_argument("--pdf", action="store_true", help="also print it to PDF")
    report.add_argument("--png", action="store_true", help="also save a screenshot")
    report.set_defaults(func=cmd_report)

    pg = commands.add_parser(
        "postgres", help="copy raw to PostgreSQL and dbt build there (CHISO_PG_* settings)"
    )
    pg.add_argument("--period", required=True, type=_period, help="month, YYYY-MM")
    pg.set_defaults(func=cmd_postgres)

    status = commands.add_parser(
        "status", help="what is published, the last gate, who has not reported"
    )
    status.set_defaults(func=cmd_status)

    rollback = commands.add_parser("rollback", help="put an earlier published version back")
    rollback.add_argument("--to", help="run id of a kept version (default: the previous one)")
    rollback.set_defaults(func=cmd_rollback)

    bench = commands.add_parser("bench", help="benchmarks (results go to docs/BENCHMARKS.md)")
    bench.add_argument(
        "which",
        choices=["ingest", "national", "airflow"],
        help="ingest: a national month of files; national: build, gate, floor and a monthly "
        "run at scale; airflow: the model-by-model DAG under a real scheduler",
    )
    bench.add_argument("--files", type=int, default=5000, help="ingest: how many files")
    bench.add_argument("--scale", type=float, default=1.0, help="national: 0.1, 1 or 4")
    bench.add_argument("--months", type=int, default=60, help="national: months of figures")
    bench.add_argument(
        "--keep", type=Path, help="national: make the data in this new directory and keep it"
    )
    bench.add_argument(
        "--mode",
        choices=["runner", "subprocess", "watcher"],
        default="runner",
        help="airflow: how cosmos runs dbt (CHISO_COSMOS_MODE)",
    )
    bench.set_defaults(func=cmd_bench)

    catalog = commands.add_parser(
        "catalog", help="check the indicator catalog and targets (seeds); --summary counts them"
    )
    catalog.add_argument("--summary", action="store_true", help="print counts per document")
    catalog.set_defaults(func=cmd_catalog)

    validate = commands.add_parser("validate-file", help="check report files before sending")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_validate_file)
    return parser


def main(argv: list[str] | None = None) -> int:
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `chiso ... | head` ends quietly
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
