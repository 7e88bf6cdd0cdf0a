"""``chiso bi``: Apache Superset beside chiso, with chiso's dashboards (bi/superset/)."""

from __future__ import annotations

import argparse

from chiso.cli.common import EXIT_OK
from warehouse.settings import load_settings


def cmd_setup(args: argparse.Namespace) -> int:
    from chiso import bi

    settings = load_settings()
    imported = bi.setup(settings)
    print(imported)
    print("start it with: chiso bi serve")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from chiso import bi

    return bi.serve(load_settings())


def cmd_import(args: argparse.Namespace) -> int:
    from chiso import bi

    print(bi.import_dashboards(load_settings(), args.url))
    return EXIT_OK


def register(commands) -> None:
    bi = commands.add_parser(
        "bi", help="Apache Superset with chiso's dashboards (its own environment)"
    )
    actions = bi.add_subparsers(dest="bi_command", required=True)
    setup = actions.add_parser(
        "setup",
        help="install Superset into its own environment (CHISO_SUPERSET_VENV), prepare its "
        "metadata in <data>/superset and import the dashboards",
    )
    setup.set_defaults(func=cmd_setup)
    serve = actions.add_parser(
        "serve",
        help="start Superset on CHISO_SUPERSET_URL's port (8088) with the dashboards, "
        "imported again from bi/superset/assets",
    )
    serve.set_defaults(func=cmd_serve)
    send = actions.add_parser(
        "import",
        help="import the dashboards into a running Superset (CHISO_SUPERSET_URL, "
        "CHISO_SUPERSET_USER, CHISO_SUPERSET_PASSWORD): overwrites earlier versions",
    )
    send.add_argument("--url", help="the Superset to import into (default CHISO_SUPERSET_URL)")
    send.set_defaults(func=cmd_import)
