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
import tempfile
from collections.abc import Iterable
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from warehouse.backends.base import SOURCE_PREFIX
from warehouse.backends.duckdb import sources_path
from warehouse.build import TestOutcome
from warehouse.periods import months
from warehouse.raw import connect
from warehouse.settings import quiet_great_expectations, verbose

SUITES_DIR = Path(__file__).resolve().parent / "suites"
# counts and a sample of unexpected values, no value counts (SUMMARY hashes every column
# it checks, a third of the checks' time on a million rows)
RESULT_FORMAT = "BASIC"
DOCS_KEEP_RUNS = 10  # runs whose validation pages the Data Docs keep
NEVER_EMPTY = ("fct_indicator_observations", "target_progress")  # a publication has figures


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


def suite_versions(suites_dir: Path = SUITES_DIR) -> dict[str, str]:
    """A short hash of each suite file: a publication records the suites that passed it."""
    import hashlib

    return {
        path.stem: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted(suites_dir.glob("*.json"))
    }


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


def source_queries(suites: list[dict]) -> dict[str, str]:
    """The raw rows each source suite checks (``meta.source_query``, with ``{since}``):
    the backend writes them beside the candidate."""
    return {
        suite["name"]: suite["meta"]["source_query"]
        for suite in suites
        if suite["meta"].get("source_query")
    }


def suite_parameters(
    first_period: str | None,
    tables: Iterable[str],
    as_of_period: str,
    previous_rows: dict[str, int] | None,
    band: float = 2.0,
) -> dict:
    """Values the suites refer to as {"$PARAMETER": name}: the as-of month, every month the
    observations must cover (from the candidate's first), and row-count bands around the
    last publication, for each of the candidate's ``tables``."""
    parameters: dict = {
        "as_of_period": [as_of_period],
        "expected_periods": months(first_period, as_of_period) if first_period else [],
    }
    for table in tables:
        previous = (previous_rows or {}).get(table)
        least = 1 if table in NEVER_EMPTY else 0  # other marts may be empty (no source yet)
        parameters[f"{table}_min_rows"] = max(least, int(previous / band)) if previous else least
        parameters[f"{table}_max_rows"] = int(previous * band) if previous else None
    return parameters


def _gx_context(docs_dir: Path | None = None):
    """Great Expectations (imported here: it takes seconds) and an ephemeral context, with
    the chiso Data Docs site in ``docs_dir`` if given."""
    quiet_great_expectations()
    import great_expectations as gx

    if not verbose():
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
    return gx, context


def _batches(spec: dict) -> tuple[list[dict], list[dict]]:
    """A suite's expectations on its partition summary, and those on its rows."""
    expectations = spec["expectations"]
    whole = [e for e in expectations if e.get("meta", {}).get("batch") == "partitions"]
    return whole, [e for e in expectations if e not in whole]


def _partition_summary(meta: dict) -> str:
    part = meta["partition_column"]
    return meta.get("partition_summary") or (
        f'select "{part}", count(*) as row_count from "{meta["table"]}" group by "{part}"'
    )


def run_suites_sql(
    connection_string: str, suites: list[dict], parameters: dict, schema: str = "marts"
) -> list[CheckResult]:
    """The suites on PostgreSQL through Great Expectations' SQL path: every metric is a query
    in the database, nothing is loaded into Python. Marts are read in ``schema`` (the
    candidate, not yet published), raw sources in its ``_source__<suite>`` tables (the rows
    loaded since the last publication, cut when the candidate was written).
    ``connection_string`` may hold ``${VARIABLE}`` references, which Great
    Expectations fills from the environment: the password never sits in its configuration.
    """
    gx, context = _gx_context()
    source = context.data_sources.add_postgres(
        "chiso_postgres",
        connection_string=f"{connection_string}?options=-csearch_path%3D{schema}",
        create_temp_table=False,
    )
    checks: list[CheckResult] = []

    def query_asset(name: str, query: str):  # GX takes a query only if it starts with select
        return source.add_query_asset(name, query=f"select * from ({query}) as checked")

    def validate(name: str, asset, expectations: list[dict], label: str) -> None:
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        result = batch.validate(
            suite, result_format=RESULT_FORMAT, expectation_parameters=parameters
        )
        checks.extend(
            _sum_over_no_rows_is_zero(_check(outcome, label, ""), outcome, parameters)
            for outcome in result.results
        )

    for spec in suites:
        meta, name = spec["meta"], spec["name"]
        whole, rows = _batches(spec)
        if meta.get("source"):
            query = f'select * from "{schema}"."{SOURCE_PREFIX}{name}"'
            validate(name, query_asset(name, query), rows, f"raw.{meta['source']}")
            continue
        label = meta.get("table") or name
        if whole:
            summary = query_asset(f"{name}.partitions", _partition_summary(meta))
            validate(f"{name}.partitions", summary, whole, label)
        if rows and "query" in meta:
            validate(name, query_asset(name, meta["query"]), rows, label)
        elif rows:
            table = source.add_table_asset(name, table_name=meta["table"], schema_name=schema)
            validate(name, table, rows, label)
    return checks


def run_suites(
    db_path: Path,
    suites: list[dict],
    parameters: dict | None = None,
    docs_dir: Path | None = None,
    run_name: str | None = None,
    baseline: Path | None = None,
) -> list[CheckResult]:
    """Validate each suite on the candidate ``db_path`` with Great Expectations (pandas path).

    A suite checks a mart (``meta.table``), the result of a query over the candidate
    (``meta.query``, e.g. a reconciliation of two marts), or a raw source: ``meta.source``
    suites read the table of their name in the run's sources file (:func:`sources_path`,
    written with the candidate). ``parameters`` fill the ``{"$PARAMETER": ...}`` values.

    Partitioned suites (``meta.partition_column``) validate in two batches: expectations
    marked ``"meta": {"batch": "partitions"}`` see one row per partition with its
    ``row_count`` (row-count bands, period coverage: the whole table, aggregated in
    DuckDB); the others see the rows, but given ``baseline`` (the published file, audited by
    the same suites) only those of partitions whose content changed since it.

    With ``docs_dir``, each batch runs through a checkpoint and, at the end, every result is
    rendered into the Great Expectations Data Docs site there (``<docs_dir>/index.html``).
    """
    gx, context = _gx_context(docs_dir)
    # one asset for every frame: each asset added re-serialises the context's configuration
    source = context.data_sources.add_pandas("chiso_candidate")
    batches = source.add_dataframe_asset("frames").add_batch_definition_whole_dataframe("all")

    def validate(name: str, frame, expectations: list[dict], label: str, note: str):
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        if docs_dir is None:
            result = batches.get_batch(batch_parameters={"dataframe": frame}).validate(
                suite, result_format=RESULT_FORMAT, expectation_parameters=parameters or {}
            )
        else:
            result = _validate_into_docs(context, batches, suite, frame, parameters or {}, run_name)
        return [_check(outcome, label, note) for outcome in result.results]

    conn = connect(db_path, read_only=True)
    checks: list[CheckResult] = []
    try:
        if baseline is not None and baseline.exists():
            conn.execute(f"attach '{baseline}' as baseline (read_only)")
        else:
            baseline = None
        sources = sources_path(db_path)
        if sources.exists():
            conn.execute(f"attach '{sources}' as sources (read_only)")
        for spec in suites:
            meta = spec["meta"]
            if meta.get("source") and not sources.exists():
                checks.append(_missing_sources(spec, sources))
                continue
            whole, rows = _batches(spec)
            label = (
                f"raw.{meta['source']}" if meta.get("source") else meta.get("table", spec["name"])
            )
            if whole:
                summary = conn.sql(_partition_summary(meta)).df()
                checks += validate(f"{spec['name']}.partitions", summary, whole, label, "")
            if rows:
                frame, note = _rows(conn, spec, rows, baseline is not None)
                checks += validate(spec["name"], frame, rows, label, note)
    finally:
        conn.close()
    if docs_dir is not None:  # once for every result: each build compiles GX's templates
        context.build_data_docs(site_names=["chiso"])
        _prune_docs(docs_dir)
    return checks


def _prune_docs(docs_dir: Path, keep: int = DOCS_KEEP_RUNS) -> None:
    """Keep the validation pages of the last ``keep`` runs (run ids sort by time): the index
    links the latest run's; the pipeline may run many times a month."""
    import re
    import shutil

    run_dirs = [
        path
        for path in (docs_dir / "validations").rglob("*")
        if path.is_dir() and re.fullmatch(r"\d{8}T\d{6}\d*Z_.+", path.name)
    ]
    kept = sorted({path.name for path in run_dirs})[-keep:]
    for path in run_dirs:
        if path.name not in kept:
            shutil.rmtree(path, ignore_errors=True)


def _rows(conn, spec: dict, expectations: list[dict], against_baseline: bool):
    """The rows a suite's row-level ``expectations`` check, as a pandas frame, and a note
    saying which partitions they are when not all."""
    meta = spec["meta"]
    part = meta.get("partition_column")
    if meta.get("source"):
        query = f'select * from sources.main."{spec["name"]}"'
    else:
        query = meta.get("query") or _table_query(meta["table"], expectations, part)
    depends = meta.get("partition_depends_on", [])  # tables the rows query joins
    if not (part and against_baseline) or any(_table_changed(conn, t) for t in depends):
        return conn.sql(query).df(), ""
    changed = _changed_partitions(conn, meta["table"], part)
    if changed is None:
        return conn.sql(query).df(), ""
    frame = conn.execute(
        f'select * from ({query}) as checked where "{part}" in (select unnest(?))', [changed[0]]
    ).df()
    note = (
        f" (rows of the {len(changed[0])} of {changed[1]} {part} values changed since the "
        "last publication, which passed these checks)"
    )
    return frame, note


def _sum_over_no_rows_is_zero(check: CheckResult, outcome, parameters: dict) -> CheckResult:
    """SQL's sum over no rows is NULL where pandas' is 0: a row-count band summed over the
    partitions of an empty table (no source loaded yet) sees 0 rows, on either path."""
    config = outcome.expectation_config
    if (
        check.passed
        or config.type != "expect_column_sum_to_be_between"
        or outcome.exception_info.get("raised_exception")
        or outcome.result.get("observed_value") is not None
    ):
        return check

    def bound(name: str):
        value = config.kwargs.get(name)
        return parameters.get(value["$PARAMETER"]) if isinstance(value, dict) else value

    low, high = bound("min_value"), bound("max_value")
    passed = (low is None or low <= 0) and (high is None or high >= 0)
    return replace(check, passed=passed, detail="observed 0 (no rows)")


def _check(outcome, label: str, note: str) -> CheckResult:
    config = outcome.expectation_config
    severity = str(getattr(config.severity, "value", config.severity)).lower()
    if outcome.exception_info.get("raised_exception"):
        passed = False
        detail = f"error: {outcome.exception_info.get('exception_message')}"
    else:
        passed = bool(outcome.success)
        detail = _detail(outcome.result) + note
    return CheckResult(
        check=config.meta.get("check", config.type),
        source="great_expectations",
        table=label,
        tier="blocking" if severity == "critical" else "warning",
        passed=passed,
        detail=detail,
    )


def warm_up() -> None:
    """Validate a three-row frame with every expectation type the suites use: the first
    validation in a process pays Great Expectations' lazy set-up (about half a second),
    which a SuiteRunner child pays here, during the build."""
    import pandas as pd

    types = {e["type"]: e for suite in load_suites() for e in suite["expectations"]}
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 2.0], "p": ["x", "y", "z"]})
    columns = {"column": "a", "column_A": "a", "column_B": "b"}
    warm = []
    for kind, example in types.items():
        kwargs = {k: columns.get(k, v) for k, v in example["kwargs"].items()}
        kwargs = {k: None if isinstance(v, dict) else v for k, v in kwargs.items()}
        if "value_set" in kwargs:
            kwargs["value_set"] = [1.0]
        if kind.endswith("match_regex"):
            kwargs["column"] = "p"
        warm.append({"type": kind, "kwargs": kwargs, "meta": {"check": "warm_up"}})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "warm.duckdb"
        with closing(connect(path)) as conn:
            conn.register("frame", frame)
            conn.execute("create table main.warm as select * from frame")
        run_suites(path, [{"name": "warm_up", "meta": {"table": "warm"}, "expectations": warm}])


def _missing_sources(spec: dict, sources: Path) -> CheckResult:
    return CheckResult(
        check=f"{spec['name']}_rows_available",
        source="great_expectations",
        table=f"raw.{spec['meta']['source']}",
        tier="blocking",
        passed=False,
        detail=f"no sources file {sources}: the raw rows were not written with the candidate",
    )


def _changed_partitions(conn, table: str, column: str) -> tuple[list, int] | None:
    """The ``column`` values of ``table`` whose rows differ between the candidate and the
    attached baseline (count and a sum of row hashes per value), and how many values the
    candidate has; None when the table is new or its columns changed (check every row)."""
    columns = (
        "select column_name, data_type from information_schema.columns where "
        "table_catalog = ? and table_schema = 'main' and table_name = ? order by ordinal_position"
    )
    database = conn.execute("select current_database()").fetchall()[0][0]
    mine = conn.execute(columns, [database, table]).fetchall()
    theirs = conn.execute(columns, ["baseline", table]).fetchall()
    if not theirs or mine != theirs:
        return None
    fingerprint = (
        'select {c} as part, count(*) as n, sum(hash(t)) as h from {db}main."{t}" as t group by 1'
    )
    changed = conn.execute(
        f"with now as ({fingerprint.format(c=_quoted(column), db='', t=table)}), "
        f"before as ({fingerprint.format(c=_quoted(column), db='baseline.', t=table)}) "
        "select list(now.part order by now.part), (select count(*) from now) from now "
        "left join before on now.part is not distinct from before.part "
        "where before.part is null or now.n <> before.n or now.h <> before.h"
    ).fetchall()[0]
    return (changed[0] or [], changed[1])


def _table_changed(conn, table: str) -> bool:
    return _changed_partitions(conn, table, "1") != ([], 1)  # "1": one partition, the table


def _quoted(column: str) -> str:
    return column if column.isdigit() else f'"{column}"'


def _table_query(table: str, expectations: list[dict], partition: str | None = None) -> str:
    """Only the columns the expectations read (the row count is the same): loading every
    column of a large mart into pandas is most of the gate's cost."""
    columns = {partition} if partition else set()
    for expectation in expectations:
        kwargs = expectation["kwargs"]
        columns.update(kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs)
        columns.update(kwargs.get("column_list", []))
    selected = ", ".join(f'"{column}"' for column in sorted(columns)) or "1 as row_marker"
    return f'select {selected} from main."{table}"'


def _validate_into_docs(context, batches, suite, frame, parameters: dict, run_name):
    """Validate through a validation definition: its result stays in the context's store,
    which :func:`run_suites` renders into the Data Docs once every suite has run (no
    checkpoint: it only adds bookkeeping to every suite)."""
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batches, suite=suite)
    )
    return definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format=RESULT_FORMAT,
        run_id=RunIdentifier(run_name=run_name) if run_name else None,
    )


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
    ) -> list[CheckResult]:
        request = {
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
