"""``chiso ingest portal|dti|provision``: fetch or load a source into raw."""

from __future__ import annotations

import argparse
from contextlib import closing
from pathlib import Path

from chiso.cli.common import EXIT_OK, portal_period
from warehouse.errors import UsageError
from warehouse.settings import load_settings


def _with_warehouse(settings, holder: str, work):
    from warehouse.backends import raw_connection
    from warehouse.lock import run_lock

    with run_lock(settings.lock_path, holder), closing(raw_connection(settings)) as conn:
        return work(conn)


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest import exports
    from ingest.sources import dti, provision

    settings = load_settings()
    settings.ensure_dirs()
    holder = f"chiso ingest {args.source}"
    if args.source == "portal":
        return _ingest_portal(args, settings, holder)
    export = {"dti": dti.EXPORT, "provision": provision.EXPORT}[args.source]
    if args.reparse:
        rows = _with_warehouse(
            settings, holder, lambda conn: exports.reload(conn, export, settings.landing_dir)
        )
        print(f"re-parsed the landing area: {rows} rows in raw.{export.source}")
        return EXIT_OK
    if not args.file:
        raise UsageError("give --file (or --reparse)")
    if not Path(args.file).is_file():
        raise UsageError(f"{args.file}: no such file")
    period = args.period or "undated"
    if args.source == "provision" and not args.period:
        raise UsageError("give --period: the month the table was exported")
    landed, rows = _with_warehouse(
        settings,
        holder,
        lambda conn: exports.ingest_export(conn, export, Path(args.file), period, settings),
    )
    print(f"landed {landed}\n{rows} rows loaded into raw.{export.source}")
    return EXIT_OK


def _ingest_portal(args, settings, holder: str) -> int:
    from ingest.sources import portal_766

    if args.reparse:
        rows = _with_warehouse(settings, holder, lambda conn: portal_766.reload(conn, settings))
        print(f"re-parsed the landing area: {rows} score rows in raw.portal_766_scores")
        return EXIT_OK
    if not args.period:
        raise UsageError("give --period YYYY-MM (or a year, YYYY)")
    requests = portal_766.requests_for(settings, args.period)
    answers, rows = portal_766.ingest(settings, requests, holder, progress=True)
    print(f"landed {answers} answers; {rows} score rows loaded into raw.portal_766_scores")
    return EXIT_OK


def register(commands) -> None:
    ingest = commands.add_parser(
        "ingest", help="fetch or load a source: portal (index 766), dti, provision (CSV)"
    )
    ingest.add_argument("source", choices=["portal", "dti", "provision"])
    ingest.add_argument("--period", type=portal_period, help="YYYY-MM (portal: or a year, YYYY)")
    ingest.add_argument("--file", help="dti, provision: the CSV export to load")
    ingest.add_argument(
        "--reparse", action="store_true", help="rebuild the raw tables from the landing area"
    )
    ingest.set_defaults(func=cmd_ingest)
