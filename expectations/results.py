"""The gate's verdict: every check (a dbt test or an expectation) in one of two tiers.

Blocking checks (dbt tests with severity error, expectations with severity "critical") stop
publication; warnings (dbt severity warn, expectation severity "warning" or "info") are
recorded and shown. The tier is computed from each check's severity (here for dbt, in
:mod:`expectations.context` for Great Expectations), because Great Expectations sets
``success=False`` for a failed warning too. A run's result is stored as JSON and a one-page
Markdown report in the gate folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warehouse.build import TestOutcome


@dataclass(frozen=True)
class CheckResult:
    check: str
    source: str  # "dbt" or "great_expectations"
    table: str | None
    tier: str  # "blocking" or "warning"
    passed: bool
    detail: str

    def __str__(self) -> str:
        where = f" on {self.table}" if self.table else ""
        return f"[{self.source}] {self.check}{where}: {self.detail}"


@dataclass
class GateResult:
    run_id: str
    period: str
    checks: list[CheckResult] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)  # this run's candidate
    history: list[dict] = field(default_factory=list)  # recent publication manifests

    @property
    def blocking_failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed and c.tier == "blocking"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed and c.tier == "warning"]

    @property
    def passed(self) -> bool:
        return not self.blocking_failures

    def summary(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        return (
            f"gate {verdict}: {len(self.checks)} checks, {len(self.blocking_failures)} "
            f"blocking failure(s), {len(self.warnings)} warning(s)"
        )

    def save(self, gate_dir: Path) -> Path:
        gate_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "run_id": self.run_id,
            "period": self.period,
            "passed": self.passed,
            "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "checks": [asdict(check) for check in self.checks],
        }
        text = json.dumps(payload, ensure_ascii=False, indent=2) + "\n"
        path = gate_dir / f"{self.run_id}.json"
        path.write_text(text, encoding="utf-8")
        latest = gate_dir / "latest.json"
        tmp = gate_dir / ".latest.json.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, latest)
        (gate_dir / f"{self.run_id}.md").write_text(self.report(), encoding="utf-8")
        return path

    def report(self) -> str:
        """The one-page quality report of the run, in Markdown (a data engineer opens it)."""
        lines = [
            f"# Quality gate — run {self.run_id}, month {self.period}",
            "",
            f"**{self.summary()}**",
            "",
            "| | tier | source | check | table | detail |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        order = sorted(self.checks, key=lambda c: (c.passed, c.tier != "blocking", c.check))
        for check in order:
            mark = "ok" if check.passed else ("FAIL" if check.tier == "blocking" else "warn")
            detail = check.detail.replace("|", "\\|").replace("\n", " ")[:200]
            lines.append(
                f"| {mark} | {check.tier} | {check.source} | {check.check} | "
                f"{check.table or ''} | {detail} |"
            )
        return "\n".join(lines + self._row_count_trend()) + "\n"

    def _row_count_trend(self) -> list[str]:
        """Rows per published table over the recent publications and this run."""
        if not self.row_counts:
            return []
        runs = self.history[-5:]
        lines = [
            "",
            "## Row counts: recent publications and this run",
            "",
            "| table | "
            + " | ".join(f"{r.get('as_of_period')} ({r.get('run_id', '')[:15]})" for r in runs)
            + " | this run | change |",
            "| --- | " + "--- | " * len(runs) + "--- | --- |",
        ]
        for table, rows in sorted(self.row_counts.items()):
            before = [r.get("row_counts", {}).get(table) for r in runs]
            last = before[-1] if before else None
            if last is None:
                change = "new"
            elif last == 0:
                change = "same" if rows == 0 else "from 0"
            else:
                change = f"{100 * (rows - last) / last:+.1f} %"
            cells = " | ".join("" if count is None else f"{count:,}" for count in before)
            lines.append(f"| {table} | {cells}{' | ' if runs else ''}{rows:,} | {change} |")
        return lines


def dbt_checks(tests: Iterable[TestOutcome]) -> list[CheckResult]:
    checks = []
    for test in tests:
        if test.status == "pass":
            detail = "passed"
        elif test.status == "skipped":
            detail = "skipped: an upstream model or test failed"
        else:
            detail = f"{test.status}: {test.failures} failing row(s) {test.message}".strip()
        checks.append(
            CheckResult(
                check=test.name,
                source="dbt",
                table=test.model,
                tier="warning" if "warn" in (test.severity, test.status) else "blocking",
                passed=test.status in ("pass", "skipped"),
                detail=detail,
            )
        )
    return checks


def gate_summary(gate_dir: Path, run_id: str) -> dict | None:
    """The counts of a stored gate result, for the publication's record."""
    path = gate_dir / f"{run_id}.json"
    if not path.exists():
        return None
    checks = json.loads(path.read_text(encoding="utf-8"))["checks"]
    return {
        "checks": len(checks),
        "blocking_failures": sum(not c["passed"] and c["tier"] == "blocking" for c in checks),
        "warnings": sum(not c["passed"] and c["tier"] == "warning" for c in checks),
    }
