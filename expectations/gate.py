"""The quality gate: dbt test results plus Great Expectations suites on the candidate.

Every check lands in one of two tiers. Blocking checks (dbt tests with severity error,
expectations with severity "critical") stop publication; warnings (dbt severity warn,
expectation severity "warning" or "info") are recorded and shown. The tier is computed
here from each check's severity, because Great Expectations sets ``success=False`` for a
failed warning too.

Great Expectations reads the candidate DuckDB file through its pandas path (its SQL
engine fails on DuckDB). It is imported inside :func:`run_suites`: it takes seconds.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ingest.parsing import months
from warehouse.build import TestOutcome
from warehouse.raw import connect

SUITES_DIR = Path(__file__).resolve().parent / "suites"


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


def load_suites(suites_dir: Path = SUITES_DIR) -> list[dict]:
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(suites_dir.glob("*.json"))
    ]


def _detail(result: dict) -> str:
    if "observed_value" in result and "unexpected_count" not in result:
        return f"observed {result['observed_value']}"
    count = result.get("unexpected_count", 0)
    sample = result.get("partial_unexpected_list", [])[:5]
    return f"{count} unexpected row(s), e.g. {sample}" if count else "passed"


def suite_parameters(
    db_path: Path, as_of_period: str, previous_rows: dict[str, int] | None, band: float = 2.0
) -> dict:
    """Values the suites refer to as {"$PARAMETER": name}: the as-of month, every month the
    observations must cover, and row-count bands around the last publication."""
    conn = connect(db_path, read_only=True)
    try:
        first = conn.execute("select min(period) from main.fct_indicator_observations").fetchone()
    finally:
        conn.close()
    parameters: dict = {
        "as_of_period": [as_of_period],
        "expected_periods": months(first[0], as_of_period) if first and first[0] else [],
    }
    for table in ("fct_indicator_observations", "target_progress"):
        previous = (previous_rows or {}).get(table)
        parameters[f"{table}_min_rows"] = max(1, int(previous / band)) if previous else 1
        parameters[f"{table}_max_rows"] = int(previous * band) if previous else None
    return parameters


def run_suites(
    db_path: Path,
    suites: list[dict],
    parameters: dict | None = None,
    docs_dir: Path | None = None,
    run_name: str | None = None,
) -> list[CheckResult]:
    """Validate each suite in ``db_path`` with Great Expectations (pandas path).

    A suite checks a table (``meta.table``) or the result of a query over the candidate
    (``meta.query``, e.g. a reconciliation of two marts); ``parameters`` fill the
    ``{"$PARAMETER": ...}`` values of its expectations. With ``docs_dir``, each suite runs
    through a checkpoint that adds its results to the Great Expectations Data Docs site
    there (``<docs_dir>/index.html``), one validation page per suite and run.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    for name in list(logging.root.manager.loggerDict):  # GX sets INFO on some of its own
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    if docs_dir is not None:
        context.add_data_docs_site(
            site_name="chiso",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(docs_dir),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    source = context.data_sources.add_pandas("chiso_candidate")
    conn = connect(db_path, read_only=True)
    checks: list[CheckResult] = []
    try:
        for spec in suites:
            meta = spec["meta"]
            label = meta.get("table") or spec["name"]
            query = meta.get("query") or _table_query(meta["table"], spec["expectations"])
            frame = conn.sql(query).df()
            asset = source.add_dataframe_asset(spec["name"])
            batches = asset.add_batch_definition_whole_dataframe("all")
            suite = gx.ExpectationSuite(**spec)
            if docs_dir is None:
                result = batches.get_batch(batch_parameters={"dataframe": frame}).validate(
                    suite, expectation_parameters=parameters or {}
                )
            else:
                result = _validate_into_docs(
                    context, batches, suite, frame, parameters or {}, run_name
                )
            for outcome in result.results:
                config = outcome.expectation_config
                severity = str(getattr(config.severity, "value", config.severity)).lower()
                if outcome.exception_info.get("raised_exception"):
                    passed = False
                    detail = f"error: {outcome.exception_info.get('exception_message')}"
                else:
                    passed = bool(outcome.success)
                    detail = _detail(outcome.result)
                checks.append(
                    CheckResult(
                        check=config.meta.get("check", config.type),
                        source="great_expectations",
                        table=label,
                        tier="blocking" if severity == "critical" else "warning",
                        passed=passed,
                        detail=detail,
                    )
                )
    finally:
        conn.close()
    return checks


def _table_query(table: str, expectations: list[dict]) -> str:
    """Only the columns the expectations read (the row count is the same): loading every
    column of a large mart into pandas is most of the gate's cost."""
    columns = set()
    for expectation in expectations:
        kwargs = expectation["kwargs"]
        columns.update(kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs)
        columns.update(kwargs.get("column_list", []))
    selected = ", ".join(f'"{column}"' for column in sorted(columns)) or "1 as row_marker"
    return f'select {selected} from main."{table}"'


def _validate_into_docs(context, batches, suite, frame, parameters: dict, run_name):
    """Validate through a checkpoint whose action writes the result into the Data Docs."""
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batches, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{suite.name}_checkpoint",
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="data_docs", site_names=["chiso"])],
            result_format="SUMMARY",
        )
    )
    outcome = checkpoint.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        run_id=RunIdentifier(run_name=run_name) if run_name else None,
    )
    (result,) = outcome.run_results.values()
    return result


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
    ) -> list[CheckResult]:
        request = {
            "db_path": str(db_path),
            "suites": suites,
            "parameters": parameters,
            "docs_dir": str(docs_dir) if docs_dir else None,
            "run_name": run_name,
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
