"""The pandas-path suites in a child process started before the build
(expectations/worker.py), so importing Great Expectations overlaps dbt."""

from __future__ import annotations

import json
from pathlib import Path

from expectations.results import CheckResult
from warehouse.budget import GateBudget


class SuiteRunner:
    """Runs the suites in a child process started before the build.

    Importing Great Expectations costs about 2 s of one core. Started early, the child pays
    it on the other core while dbt builds, so the gate costs little more than the checks.
    Used by ``chiso run``; an Airflow gate task runs the suites in-process.
    """

    def __init__(self) -> None:
        import subprocess
        import sys

        self._process = subprocess.Popen(
            [sys.executable, "-m", "expectations.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(
        self,
        db_path: Path,
        suites: list[dict],
        parameters: dict,
        docs_dir: Path | None = None,
        run_name: str | None = None,
        baseline: Path | None = None,
        budget: GateBudget | None = None,
    ) -> list[CheckResult]:
        request = {
            "budget": budget.to_json() if budget else None,
            "db_path": str(db_path),
            "suites": suites,
            "parameters": parameters,
            "docs_dir": str(docs_dir) if docs_dir else None,
            "run_name": run_name,
            "baseline": str(baseline) if baseline else None,
        }
        try:
            answer, errors = self._process.communicate(json.dumps(request) + "\n", timeout=600)
        except Exception:
            self.close()
            raise
        if self._process.returncode != 0 or not answer.strip():
            raise RuntimeError(f"the Great Expectations worker failed: {errors[-2000:]}")
        return [CheckResult(**check) for check in json.loads(answer.strip().splitlines()[-1])]

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
