"""``chiso snapshot``, ``export``, ``report``: what leaders and BI tools read, from what is
published (on either warehouse)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chiso.cli.common import EXIT_FAILED, EXIT_OK, period
from warehouse.errors import UsageError
from warehouse.settings import load_settings


def cmd_snapshot(args: argparse.Namespace) -> int:
    from chiso.snapshot import snapshot, verify
    from warehouse.lock import run_lock

    settings = load_settings()
    settings.ensure_dirs()
    if args.action == "diff":
        return _snapshot_diff(settings, args)
    if args.periods:
        raise UsageError("months after the action are for chiso snapshot diff OLDER NEWER")
    if args.action == "verify":
        problems = verify(settings)
        for problem in problems:
            print(f"TAMPERED {problem}", file=sys.stderr)
        if not problems:
            print(f"every snapshot in {settings.snapshot_dir} matches its manifest")
        return EXIT_FAILED if problems else EXIT_OK
    if not args.period:
        raise UsageError("chiso snapshot needs --period YYYY-MM (or: chiso snapshot verify)")
    with run_lock(settings.lock_path, f"chiso snapshot --period {args.period}"):
        snapshot(settings, args.period, force=args.force)
    return EXIT_OK


def _snapshot_diff(settings, args: argparse.Namespace) -> int:
    from chiso.snapshot_diff import diff
    from warehouse.periods import check_period

    if len(args.periods) != 2:
        raise UsageError("chiso snapshot diff needs two months: OLDER NEWER")
    older, newer = (check_period(text) for text in args.periods)
    result = diff(settings.snapshot_dir, older, newer)
    print(result.as_json() if args.json else "\n".join(result.lines(args.limit or None)))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from chiso.snapshot import export

    for path in export(load_settings(), Path(args.out), args.format):
        print(path)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from chiso.report import to_pdfs, to_png, write_report

    settings = load_settings()
    out = Path(args.out) if args.out else settings.data_dir / "reports"
    provinces = [args.province] if args.province else list(settings.provinces)
    paths = []
    for province in provinces:
        paths.append(write_report(settings, args.period, out, province))
        print(f"report written: {paths[-1]}")
    for pdf in to_pdfs(paths) if args.pdf else []:
        print(f"PDF written: {pdf}")
    for path in paths if args.png else []:
        print(f"screenshot written: {to_png(path)}")
    return EXIT_OK


def register(commands) -> None:
    snap = commands.add_parser(
        "snapshot",
        help="freeze the published month (or: verify; diff OLDER NEWER)",
        description="chiso snapshot --period YYYY-MM freezes the published month; "
        "chiso snapshot verify re-hashes every snapshot; chiso snapshot diff 2025-08 2025-09 "
        "lists what the newer snapshot changed: figures of earlier months revised, added "
        "or withdrawn, target statuses changed, units re-ranked.",
    )
    snap.add_argument(
        "action", nargs="?", choices=["verify", "diff"], help="re-hash every snapshot; compare two"
    )
    snap.add_argument("periods", nargs="*", help="diff: the older and the newer month")
    snap.add_argument("--limit", type=int, default=20, help="diff: rows shown per part (0: all)")
    snap.add_argument("--json", action="store_true", help="diff: as JSON, every row")
    snap.add_argument("--period", type=period, help="month, YYYY-MM")
    snap.add_argument("--force", action="store_true", help="keep the old snapshot beside a new")
    snap.set_defaults(func=cmd_snapshot)

    exp = commands.add_parser("export", help="published marts as CSV or Parquet files")
    exp.add_argument("--format", choices=["csv", "parquet"], default="csv")
    exp.add_argument("--out", required=True, help="folder")
    exp.set_defaults(func=cmd_export)

    report = commands.add_parser(
        "report", help="the monthly report (HTML with charts; --pdf with Chromium)"
    )
    report.add_argument("--period", required=True, type=period, help="month, YYYY-MM")
    report.add_argument(
        "--province", help="province code (default: each province of CHISO_PROVINCES)"
    )
    report.add_argument("--out", help="folder (default: <data>/reports)")
    report.add_argument("--pdf", action="store_true", help="also print it to PDF")
    report.add_argument("--png", action="store_true", help="also save a screenshot")
    report.set_defaults(func=cmd_report)
