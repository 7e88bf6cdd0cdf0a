"""The suites on a candidate file, through Great Expectations' pandas path (its SQL engine
cannot read every engine's files): each batch read into a frame, only the columns its
expectations read, whole months at a time within the gate's budget, and given the last
publication (which passed the same suites) only the months whose rows changed since it.
Results go into the Data Docs when asked."""

from __future__ import annotations

import tempfile
from contextlib import closing
from dataclasses import replace
from pathlib import Path

from expectations.context import RESULT_FORMAT, check_of, gx_context, prune_docs, validate_into_docs
from expectations.results import CheckResult
from expectations.suites import (
    in_partitions,
    load_suites,
    month_batches,
    partition_counts_query,
    partition_summary,
    partitions_to_check,
    rows_note,
    split_batches,
    table_query,
)
from warehouse.backends import FILE_ROW_HASH, file_engine, read_candidate
from warehouse.budget import GateBudget


def run_suites(
    db_path: Path,
    suites: list[dict],
    parameters: dict | None = None,
    docs_dir: Path | None = None,
    run_name: str | None = None,
    baseline: Path | None = None,
    budget: GateBudget | None = None,
) -> list[CheckResult]:
    """Validate each suite on the candidate ``db_path`` with Great Expectations (pandas path).

    A suite checks a mart (``meta.table``), the result of a query over the candidate
    (``meta.query``, e.g. a reconciliation of two marts), or a raw source: ``meta.source``
    suites read the table of their name in the run's sources file (written with the
    candidate). ``parameters`` fill the ``{"$PARAMETER": ...}`` values.

    Partitioned suites (``meta.partition_column``, the month) validate in two kinds of
    batches: expectations marked ``"meta": {"batch": "partitions"}`` see one row per
    partition with its ``row_count`` (row-count bands, period coverage: the whole table,
    aggregated in DuckDB); the others see the rows, month by month, in batches of whole
    months that fit the gate's ``budget`` (every month in one batch without it), and given
    ``baseline`` (the published file, audited by the same suites) only the months whose
    rows changed since it: the as-of month and those a late correction touched. A
    partitioned source suite checks every month of what was loaded since the last
    publication (a first publication: the whole history), a batch of months at a time. DuckDB's
    reads stay within the budget's share too.

    With ``docs_dir``, each batch runs through a checkpoint and, at the end, every result is
    rendered into the Great Expectations Data Docs site there (``<docs_dir>/index.html``).
    """
    gx, context = gx_context(docs_dir)
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
            result = validate_into_docs(context, batches, suite, frame, parameters or {}, run_name)
        return [check_of(outcome, label, note) for outcome in result.results]

    checks: list[CheckResult] = []
    config = budget.duckdb_config() if budget else None
    with read_candidate(db_path, baseline, config) as (conn, against_baseline, sources):
        for spec in suites:
            meta = spec["meta"]
            if meta.get("source") and not sources.exists():
                checks.append(_missing_sources(spec, sources))
                continue
            whole, rows = split_batches(spec)
            label = (
                f"raw.{meta['source']}" if meta.get("source") else meta.get("table", spec["name"])
            )
            if whole:
                summary = conn.sql(partition_summary(meta)).df()
                checks += validate(f"{spec['name']}.partitions", summary, whole, label, "")
            if not rows:
                continue
            query = _rows_query(spec, rows)
            if not meta.get("partition_column"):
                checks += validate(spec["name"], conn.sql(query).df(), rows, label, "")
                continue
            part = meta["partition_column"]
            if meta.get("source"):  # the rows loaded since the last publication: every one
                counts = partition_counts_query("sources.main.", spec["name"], part)
                checked = [tuple(row) for row in conn.execute(counts).fetchall()]
                total, only_changed = len(checked), False
            else:
                checked, total, only_changed = partitions_to_check(
                    meta,
                    lambda sql: conn.execute(sql).fetchall(),
                    lambda table: _same_columns(conn, table),
                    FILE_ROW_HASH,
                    "main.",
                    "baseline.main." if against_baseline else None,
                )
            columns = len(conn.sql(query).limit(0).columns)
            cap = budget.batch_rows(columns) if budget else max(sum(n for _, n in checked), 1)
            groups = month_batches(checked, cap)
            results = []
            for values in groups:
                name = spec["name"] + (f".{_span(values)}" if len(groups) > 1 else "")
                frame = conn.sql(in_partitions(query, part, values)).df()
                results.append((values, validate(name, frame, rows, label, "")))
                del frame  # before the next batch is read
            note = rows_note(part, checked, total, only_changed, len(groups))
            checks += merged(results, part, note)
    if docs_dir is not None:  # once for every result: each build compiles GX's templates
        context.build_data_docs(site_names=["chiso"])
        prune_docs(docs_dir)
    return checks


SHOWN_BATCHES = 3  # a check that failed in more batches names the first three


def merged(batches: list[tuple[list, list[CheckResult]]], part: str, note: str):
    """One check per expectation from its result on each batch (the batch's partitions, its
    checks): passed when it passed on every batch, its detail that of each batch it failed
    on, with the batch's partitions when there were several."""
    out = []
    for outcomes in zip(*(checks for _, checks in batches), strict=True):
        failed = [
            outcome.detail + (f" in {part} {_span(values)}" if len(batches) > 1 else "")
            for (values, _), outcome in zip(batches, outcomes, strict=True)
            if not outcome.passed
        ]
        detail = "; ".join(failed[:SHOWN_BATCHES]) if failed else outcomes[0].detail
        if len(failed) > SHOWN_BATCHES:
            detail += f"; and in {len(failed) - SHOWN_BATCHES} more batches"
        out.append(replace(outcomes[0], passed=not failed, detail=detail + note))
    return out


def _span(values: list) -> str:
    return f"{values[0]}" if len(values) == 1 else f"{values[0]} to {values[-1]}" if values else ""


def _rows_query(spec: dict, expectations: list[dict]) -> str:
    """The rows a suite's row-level ``expectations`` check."""
    meta = spec["meta"]
    if meta.get("source"):
        return f'select * from sources.main."{spec["name"]}"'
    return meta.get("query") or table_query(
        meta["table"], expectations, meta.get("partition_column")
    )


def _missing_sources(spec: dict, sources: Path) -> CheckResult:
    return CheckResult(
        check=f"{spec['name']}_rows_available",
        source="great_expectations",
        table=f"raw.{spec['meta']['source']}",
        tier="blocking",
        passed=False,
        detail=f"no sources file {sources}: the raw rows were not written with the candidate",
    )


def _same_columns(conn, table: str) -> bool:
    """Whether ``table`` has the same columns in the candidate and the attached baseline
    (not when it is new there)."""
    columns = (
        "select column_name, data_type from information_schema.columns where "
        "table_catalog = ? and table_schema = 'main' and table_name = ? order by ordinal_position"
    )
    database = conn.execute("select current_database()").fetchall()[0][0]
    theirs = conn.execute(columns, ["baseline", table]).fetchall()
    return bool(theirs) and conn.execute(columns, [database, table]).fetchall() == theirs


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
        path = Path(folder) / "warm.db"
        with closing(file_engine()) as conn:
            conn.register("frame", frame)
            conn.execute(f"attach '{path}' as warm")
            conn.execute("create table warm.main.warm as select * from frame")
        run_suites(path, [{"name": "warm_up", "meta": {"table": "warm"}, "expectations": warm}])
