"""Child process of :class:`expectations.runner.SuiteRunner`: import Great Expectations and
warm it up now, then read one request (JSON on stdin), run the suites, print the checks
(JSON on stdout)."""

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from warehouse.budget import GateBudget
from warehouse.settings import quiet_great_expectations

quiet_great_expectations()
import great_expectations  # noqa: E402, F401  (the point: pay the import while dbt builds)

from expectations.frames import run_suites, warm_up  # noqa: E402


def main() -> None:
    warm_up()
    request = json.loads(sys.stdin.readline())
    docs_dir, baseline = request.get("docs_dir"), request.get("baseline")
    checks = run_suites(
        Path(request["db_path"]),
        request["suites"],
        request["parameters"],
        Path(docs_dir) if docs_dir else None,
        request.get("run_name"),
        Path(baseline) if baseline else None,
        GateBudget.from_json(request["budget"]) if request.get("budget") else None,
    )
    print(json.dumps([asdict(check) for check in checks]), flush=True)
    sys.stderr.flush()
    os._exit(0)  # the parent waits for the exit: skip a second of interpreter teardown


if __name__ == "__main__":
    main()
