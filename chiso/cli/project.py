"""``chiso catalog``, ``dbt-manifest``, ``dbt-unit-tests``: the project's own files (seeds,
dbt)."""

from __future__ import annotations

import argparse
import sys

from chiso.cli.common import EXIT_FAILED, EXIT_OK
from warehouse.settings import load_settings


def cmd_catalog(args: argparse.Namespace) -> int:
    from chiso.catalog import summary, validate

    settings = load_settings()
    seeds = settings.dbt_project_dir / "seeds"
    problems = validate(seeds)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if args.summary:
        print(summary(seeds))
        print(unit_summary(settings))
    elif not problems:
        print(f"the catalog in {seeds} is consistent")
    return EXIT_FAILED if problems else EXIT_OK


def unit_summary(settings) -> str:
    """Units per province and group in the registry (imported lists included), every
    scheme and date together, and how many exist in the latest month."""
    from datetime import UTC, datetime

    from ingest.registry import for_settings

    registry = for_settings(settings)
    today = datetime.now(UTC).strftime("%Y-%m")
    lines = [f"\nReporting units per province and group (registry; existing in {today}):"]
    for province in settings.provinces:
        units = registry.in_province(province)
        groups = sorted({u.group for u in units})
        for group in groups:
            members = [u for u in units if u.group == group]
            now = sum(1 for u in members if u.exists_in(today))
            lines.append(f"  {province}  {group:<16} {len(members):>6}  {now:>6}")
    return "\n".join(lines)


def cmd_dbt_manifest(args: argparse.Namespace) -> int:
    from chiso.tasks import dbt_manifest

    print(f"dbt manifest written: {dbt_manifest()}")
    return EXIT_OK


def cmd_dbt_unit_tests(args: argparse.Namespace) -> int:
    from warehouse.build import dbt_unit_tests

    result = dbt_unit_tests(load_settings())
    failed = [test for test in result.tests if test.status != "pass"]
    for test in failed:
        print(f"{test.status.upper()}: {test.name} ({test.model}): {test.message}", file=sys.stderr)
    print(f"dbt unit tests: {result.tests_passed} passed, {len(failed)} failed")
    return EXIT_FAILED if failed or not result.tests else EXIT_OK


def register(commands) -> None:
    catalog = commands.add_parser(
        "catalog", help="check the indicator catalog and targets (seeds); --summary counts them"
    )
    catalog.add_argument("--summary", action="store_true", help="print counts per document")
    catalog.set_defaults(func=cmd_catalog)

    manifest = commands.add_parser(
        "dbt-manifest", help="parse the dbt project (for the cosmos DAG; no warehouse needed)"
    )
    manifest.set_defaults(func=cmd_dbt_manifest)

    unit_tests = commands.add_parser(
        "dbt-unit-tests",
        help="run the dbt unit tests on the built work warehouse (runs leave them out: they "
        "test the models' code, not the month's data)",
    )
    unit_tests.set_defaults(func=cmd_dbt_unit_tests)
