"""``chiso units import|list``: the registry of reporting units and the lists provinces keep."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from chiso.cli.common import EXIT_FAILED, EXIT_OK, day
from warehouse.errors import UsageError
from warehouse.settings import load_settings


def import_lists(settings, lists, effective_on: date | None = None, log=print) -> int:
    """Import (path, group, province) lists in order; the number of problems found."""
    from ingest.unit_lists import UnitListError, import_list
    from warehouse.backends import raw_connection
    from warehouse.lock import run_lock

    failures = 0
    with run_lock(settings.lock_path, "chiso units import"):
        conn = raw_connection(settings)
        try:
            for path, group, province in lists:
                try:
                    result = import_list(
                        conn,
                        Path(path),
                        group,
                        province,
                        settings.provinces,
                        settings.landing_dir,
                        effective_on,
                    )
                except UnitListError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    failures += 1
                    continue
                log(f"{Path(path).name} ({group}, province {province}): {result.line()}")
        finally:
            conn.close()
    return failures


def cmd_import(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.ensure_dirs()
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: file not found", f"{path}: không tìm thấy tệp")
    failed = import_lists(settings, [(path, args.group, args.province)], args.effective_on)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    from ingest.registry import for_settings

    settings = load_settings()
    registry = for_settings(settings)
    units = sorted(
        (
            unit
            for unit in registry.units.values()
            if (args.province is None or unit.served_province_code == args.province)
            and (args.group is None or unit.group == args.group)
            and (args.period is None or unit.exists_in(args.period))
        ),
        key=lambda unit: unit.code,
    )
    for unit in units:
        valid = f"{unit.valid_from or '…'}..{unit.valid_to or '…'}"
        successor = f" -> {unit.successor_code}" if unit.successor_code else ""
        print(f"{unit.code:<22} {unit.group:<16} {valid:<24} {unit.name_vi}{successor}")
    print(f"{len(units)} units", file=sys.stderr)
    return EXIT_OK


def register(commands) -> None:
    from chiso.cli.common import period

    units = commands.add_parser("units", help="the registry of reporting units")
    actions = units.add_subparsers(dest="action", required=True)
    imports = actions.add_parser(
        "import",
        help="import a province's list of schools, health facilities, ... (xlsx or csv)",
        description="Check every row of the list; import it only if all are valid. The list "
        "replaces the group's previous one in the province: new codes are added, changed "
        "names renamed, codes no longer listed closed. Importing the same list again "
        "changes nothing.",
    )
    imports.add_argument("file", help="FILE.xlsx or FILE.csv")
    imports.add_argument("--group", required=True, help="school, health_facility, enterprise")
    imports.add_argument("--province", required=True, help="post-2025 province code, e.g. 20")
    imports.add_argument(
        "--effective-on", type=day, help="YYYY-MM-DD the list takes effect (default: today)"
    )
    imports.set_defaults(func=cmd_import)
    listing = actions.add_parser("list", help="print the registry's units")
    listing.add_argument("--province")
    listing.add_argument("--group")
    listing.add_argument("--period", type=period, help="only the units that existed that month")
    listing.set_defaults(func=cmd_list)
