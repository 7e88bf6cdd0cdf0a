"""``chiso``: the command-line tool for data engineers (and the README's main job).

Commands, by group (a module each)::

    pipeline     chiso run --period 2025-06    ingest -> dbt build -> quality gate -> publish
                 chiso demo                    sample files into the inbox, then run their month
                 chiso status                  what is published, the gate, who has not reported
                 chiso rollback [--to RUN_ID]  put an earlier publication back
    files        chiso sample [--out DIR]      the deterministic sample report files
                 chiso validate-file FILE...   check report files the way ingestion will
                 chiso template --group G --period YYYY-MM --out FILE   blank report template
                 chiso serve [--port 8090]     the units' pages: check, send, follow reports
    units        chiso units import FILE --group G --province P   a list of schools, ...
                 chiso units list [--province P] [--group G] [--period YYYY-MM]
                 chiso units links --province P  each unit's personal link to its page
                 chiso units revoke LINK | --unit U
    calendar     chiso calendar show [--year Y]  periods owed, due and lock days
                 chiso calendar grant --unit U --period P --until D --by WHO --reason WHY
                 chiso calendar exceptions     every exception and the files it let in
                 chiso calendar remind [--on D]  reminders to the units that owe a report
    sources      chiso ingest portal|dti|provision   index 766, DTI and provision exports
    publication  chiso snapshot --period YYYY-MM | verify; chiso export; chiso report
    project      chiso catalog [--summary]; chiso dbt-manifest
    bi           chiso bi setup | serve | import   Apache Superset with chiso's dashboards

Every command works the same on either warehouse (``CHISO_WAREHOUSE=duckdb|postgres``).
Benchmarks are not part of the tool: ``python -m benchmarks --help`` from a checkout.
"""

from __future__ import annotations

import argparse
import sys

from chiso.cli import bi, calendar, files, pipeline, project, publication, sources, units
from chiso.cli.common import EXIT_BUG


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chiso", description="Digital-transformation (chuyển đổi số) indicator pipeline"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for group in (pipeline, files, units, calendar, sources, publication, project, bi):
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status. Callable in-process (tests do): it changes no
    process-wide state. The one place errors are printed: a :class:`ChisoError` as its
    message (no traceback) with its exit code; anything else, a bug, with its traceback
    and a request to report it."""
    import traceback

    from warehouse.errors import ChisoError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ChisoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        for note in getattr(exc, "__notes__", ()):  # what the command adds, e.g. nothing changed
            print(note, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(
            f"chiso {version()} stopped on an unexpected error: a bug in chiso, not a problem "
            "with your data or settings. Please report it to chiso's developers with the "
            "command you ran and the traceback above.",
            file=sys.stderr,
        )
        return EXIT_BUG


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("chiso")
    except PackageNotFoundError:
        return "(not installed)"


def run() -> None:
    """The ``chiso`` console script: ``main`` in a process of its own, where a closed pipe
    (``chiso ... | head``) ends the command quietly. Only here: in a caller's process (a
    pytest worker, an Airflow task) SIGPIPE's default would kill it the moment any socket's
    peer hangs up."""
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())


if __name__ == "__main__":
    run()
