"""``chiso sample``, ``validate-file``, ``template``, ``serve``: report files, for units and
engineers, and the pages units send them through."""

from __future__ import annotations

import argparse
from pathlib import Path

from chiso.cli.common import EXIT_FAILED, EXIT_OK, period
from warehouse.errors import UsageError
from warehouse.settings import load_settings

# chiso.samples.report_files' defaults (not imported here: the CLI stays light)
SAMPLE_START, SAMPLE_END = "2022-01", "2025-09"


def cmd_sample(args: argparse.Namespace) -> int:
    from chiso.samples.report_files import generate

    out = Path(args.out) if args.out else load_settings().inbox_dir
    files = generate(out, start=args.start, end=args.end)
    print(f"wrote {len(files)} sample report files to {out}")
    return EXIT_OK


def cmd_validate_file(args: argparse.Namespace) -> int:
    from ingest.landing import received_at
    from ingest.readers import local_day
    from ingest.registry import for_settings
    from ingest.sources.unit_files import read_received
    from warehouse.calendar import exceptions_for_settings

    settings = load_settings()
    registry = for_settings(settings)
    granted = exceptions_for_settings(settings)
    status = EXIT_OK
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"{name}: không tìm thấy tệp; file not found")
            status = EXIT_FAILED
            continue
        # the inbox's own reading: the same reader, with the file's time as its receipt
        received_on = local_day(received_at(path), settings.timezone)
        report, _ = read_received(path, path.name, registry, received_on, granted)
        verdict = "hợp lệ / valid" if report.is_valid else "KHÔNG hợp lệ / NOT valid"
        print(f"{name}: {verdict} ({report.unit_code}, {report.period}, {len(report.rows)} rows)")
        for problem in report.problems:
            print(f"  [{problem.severity}] {problem.located(report.sheet)}")
        if not report.is_valid:
            status = EXIT_FAILED
    return status


def cmd_template(args: argparse.Namespace) -> int:
    from ingest.registry import for_settings
    from ingest.template import write_template

    settings = load_settings()
    province = args.province or (settings.provinces[0] if len(settings.provinces) == 1 else None)
    if province is None:
        raise UsageError(
            f"this instance serves provinces {', '.join(settings.provinces)}: "
            "say which with --province"
        )
    path = write_template(args.group, args.period, Path(args.out), province, for_settings(settings))
    print(f"wrote the {args.group} template for {args.period} to {path}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from chiso.web.app import create_app

    settings = load_settings()
    print(
        f"chiso's pages on http://{args.host}:{args.port} (links: chiso units links "
        f"--province P, made for CHISO_WEB_BASE_URL={settings.web_base_url}); Ctrl-C stops",
        flush=True,
    )
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")
    return EXIT_OK


def register(commands) -> None:
    sample = commands.add_parser("sample", help="write the deterministic sample report files")
    sample.add_argument("--out", help="folder (default: the inbox)")
    sample.add_argument("--start", type=period, default=SAMPLE_START)
    sample.add_argument("--end", type=period, default=SAMPLE_END)
    sample.set_defaults(func=cmd_sample)

    template = commands.add_parser(
        "template", help="write the blank report template for a unit group (xlsx or csv)"
    )
    template.add_argument("--group", required=True, help="department, district, commune, ...")
    template.add_argument("--period", required=True, type=period, help="month, YYYY-MM")
    template.add_argument("--out", required=True, help="FILE.xlsx or FILE.csv")
    template.add_argument(
        "--province", help="province code (needed when CHISO_PROVINCES names several)"
    )
    template.set_defaults(func=cmd_template)

    validate = commands.add_parser("validate-file", help="check report files before sending")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_validate_file)

    serve = commands.add_parser(
        "serve", help="the units' pages: check, send and follow their reports (web)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.set_defaults(func=cmd_serve)
