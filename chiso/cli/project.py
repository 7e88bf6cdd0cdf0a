"""``chiso catalog``, ``dbt-manifest``: the project's own files (seeds, dbt)."""

from __future__ import annotations

import argparse
import sys

from chiso.cli.common import EXIT_FAILED, EXIT_OK
from warehouse.settings import load_settings


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


def cmd_dbt_manifest(args: argparse.Namespace) -> int:
    from chiso.tasks import dbt_manifest
    from warehouse.build import BuildError

    try:
        print(f"dbt manifest written: {dbt_manifest()}")
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


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
