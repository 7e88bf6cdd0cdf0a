"""``chiso units import|list|links|revoke``: the registry of reporting units, the lists
provinces keep, and the personal links units open their page with."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
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
    with (
        run_lock(settings.lock_path, "chiso units import"),
        closing(raw_connection(settings)) as conn,
    ):
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


def cmd_links(args: argparse.Namespace) -> int:
    """Issue a link per unit of a province that exists this month (or ``--unit``), and the
    province's own page of who has not reported: a CSV on stdout (unit, name, link)."""
    import csv

    from chiso.web.links import PROVINCE, UNIT, Links
    from ingest.registry import for_settings

    settings = load_settings()
    if args.province not in settings.provinces:
        raise UsageError(
            f"province {args.province} is not served here ({', '.join(settings.provinces)})"
        )
    registry = for_settings(settings)
    month = date.today().strftime("%Y-%m")
    units = [
        unit
        for unit in registry.in_province(args.province)
        if unit.served_province_code == args.province
        and unit.exists_in(month)
        and (args.unit is None or unit.code == args.unit)
        and (args.group is None or unit.group == args.group)
    ]
    if args.unit and not units:
        raise UsageError(f"unit {args.unit} is not a current unit of province {args.province}")
    links = Links(settings)
    out = csv.writer(sys.stdout)
    out.writerow(["unit_code", "unit_name", "group", "link"])
    for unit in sorted(units, key=lambda unit: unit.code):
        token = links.issue(UNIT, unit.code, args.province)
        out.writerow([unit.code, unit.name_vi, unit.group, links.url(UNIT, token)])
    if args.unit is None:
        token = links.issue(PROVINCE, args.province, args.province)
        out.writerow(["", f"tỉnh {args.province}: chưa báo cáo", "", links.url(PROVINCE, token)])
    print(
        f"{len(units)} unit links, valid {settings.web_link_days} days "
        f"(CHISO_WEB_LINK_DAYS); send each unit its own",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    from chiso.web.links import UNIT, Links, link_id

    if not (args.link or args.unit):
        raise UsageError("say which: a LINK (or its id), or --unit CODE for all its links")
    links = Links(load_settings())
    identifier = None
    if args.link:
        identifier = link_id(args.link.rstrip("/").rsplit("/", 1)[-1]) or args.link
    links.revoke(link_id=identifier, role=UNIT, subject=args.unit)
    said = f"link {identifier}" if identifier else f"every link of unit {args.unit} issued so far"
    print(f"revoked {said}")
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
    links = actions.add_parser(
        "links",
        help="issue each unit's personal link to its page (CSV), and the province's page",
        description="Each link is signed, valid CHISO_WEB_LINK_DAYS days and revocable "
        "(chiso units revoke); it opens under CHISO_WEB_BASE_URL.",
    )
    links.add_argument("--province", required=True, help="post-2025 province code, e.g. 20")
    links.add_argument("--group", help="only this group's units")
    links.add_argument("--unit", help="only this unit")
    links.set_defaults(func=cmd_links)
    revoke = actions.add_parser("revoke", help="revoke a link, or every link of a unit")
    revoke.add_argument("link", nargs="?", help="the link (or its id) to revoke")
    revoke.add_argument("--unit", help="revoke every link of this unit issued until now")
    revoke.set_defaults(func=cmd_revoke)
