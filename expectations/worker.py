"""Child process of :class:`expectations.gate.SuiteRunner`: import Great Expectations now,
then read one request (JSON on stdin), run the suites, print the checks (JSON on stdout)."""

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
import great_expectations  # noqa: E402, F401  (the point: pay the import while dbt builds)

from expectations.gate import run_suites  # noqa: E402


def main() -> None:
    request = json.loads(sys.stdin.readline())
    docs_dir = request.get("docs_dir")
    checks = run_suites(
        Path(request["db_path"]),
        request["suites"],
        request["parameters"],
        Path(docs_dir) if docs_dir else None,
        request.get("run_name"),
    )
    print(json.dumps([asdict(check) for check in checks]))


if __name__ == "__main__":
    main()
