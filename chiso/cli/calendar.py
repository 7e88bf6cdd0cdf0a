"""``chiso calendar show|grant|exceptions``: the reporting calendar, its locks and exceptions."""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from datetime import date

from chiso.cli.common import EXIT_OK, day, period
from warehouse.errors import UsageError
from warehouse.settings import load_settings


def cmd_show(args: argparse.Namespace) -> int:
    """Every period a group owes in a year, when it is due and until when it is accepted."""
    from warehouse.calendar import deadlines

    settings = load_settings()
    provinces = (args.province,) if args.province else settings.provinces
    rows = deadlines(provinces, f"{args.year}-01", f"{args.year}-12")
    for province, group, owed, due_on, accepted_until in rows:
        if args.group is None or group == args.group:
            print(
                f"{province:<4} {group:<16} {owed}  due {due_on}  accepted until {accepted_until}"
            )
    return EXIT_OK


def cmd_grant(args: argparse.Namespace) -> int:
    from ingest.registry import for_settings
    from warehouse.backends import raw_connection
    from warehouse.calendar import grant

    settings = load_settings()
    settings.ensure_dirs()
    if args.unit not in for_settings(settings).units:
        raise UsageError(f"unit {args.unit} is not in the registry (chiso units list)")
    with closing(raw_connection(settings)) as conn:
        granted = grant(conn, args.unit, args.period, args.until, args.by, args.reason)
    print(
        f"granted {granted.exception_id}: {granted.unit_code} may send {granted.period} "
        f"until {granted.valid_until} ({granted.granted_by}: {granted.reason})"
    )
    return EXIT_OK


def cmd_exceptions(args: argparse.Namespace) -> int:
    """Every exception and the files it let in (from the warehouse's raw tables)."""
    from warehouse.backends import raw_connection
    from warehouse.calendar import exceptions

    settings = load_settings()
    settings.ensure_dirs()
    with closing(raw_connection(settings)) as conn:
        granted = exceptions(conn)  # creates the calendar's raw tables where missing
        uses = dict(
            conn.execute(
                "select exception_id, count(*) from raw.reporting_exception_uses group by 1"
            ).fetchall()
        )
    for item in granted:
        print(
            f"{item.exception_id:<14} {item.unit_code:<18} {item.period} until "
            f"{item.valid_until} [{item.source}] {uses.get(item.exception_id, 0)} file(s) — "
            f"{item.granted_by}: {item.reason}"
        )
    print(f"{len(granted)} exception(s)", file=sys.stderr)
    return EXIT_OK


def cmd_remind(args: argparse.Namespace) -> int:
    """The reminders due today (or --on): written, posted to the webhook, once each."""
    from chiso.reminders import send_reminders
    from warehouse.lock import run_lock

    settings = load_settings()
    settings.ensure_dirs()
    with run_lock(settings.lock_path, "chiso calendar remind"):
        result = send_reminders(settings, args.on or date.today(), log=lambda _: None)
    for reminder in result.sent:
        print(
            f"{reminder.unit_code:<18} {reminder.period} {reminder.stage:<10} {reminder.message_vi}"
        )
    print(result.line(), file=sys.stderr)
    return EXIT_OK


def register(commands) -> None:
    calendar = commands.add_parser(
        "calendar", help="the reporting calendar: due days, period locks and exceptions"
    )
    actions = calendar.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="the periods owed in a year, due and lock days")
    show.add_argument("--year", type=int, default=date.today().year)
    show.add_argument("--province")
    show.add_argument("--group")
    show.set_defaults(func=cmd_show)
    granting = actions.add_parser(
        "grant",
        help="let one unit send one locked period's file until a day",
        description="Record an exception to a period's lock (who granted it and why are "
        "required). Every file loaded through it is recorded; mart reporting_exceptions "
        "lists them.",
    )
    granting.add_argument("--unit", required=True, help="unit code, e.g. 20.178")
    granting.add_argument("--period", required=True, type=period, help="the locked month")
    granting.add_argument(
        "--until", required=True, type=day, help="YYYY-MM-DD, the last day accepted"
    )
    granting.add_argument("--by", required=True, help="who grants it (name, office)")
    granting.add_argument("--reason", required=True, help="why")
    granting.set_defaults(func=cmd_grant)
    listing = actions.add_parser("exceptions", help="every exception and the files it let in")
    listing.set_defaults(func=cmd_exceptions)
    remind = actions.add_parser(
        "remind",
        help="remind the units that owe a report (a few days before it is due, then overdue)",
        description="Write the reminders due on a day to <data>/reminders/ and POST each to "
        "CHISO_ALERT_WEBHOOK when it is set; a reminder already sent is never sent again "
        "(the chiso_reminders DAG runs this every morning).",
    )
    remind.add_argument("--on", type=day, help="YYYY-MM-DD (default: today)")
    remind.set_defaults(func=cmd_remind)
