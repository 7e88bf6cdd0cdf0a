"""The suites on a candidate file, through Great Expectations' pandas path (its SQL engine
cannot read every engine's files): each batch read into a frame, only the columns its
expectations read, and given the last publication (which passed the same suites) only the
partitions whose content changed since it. Results go into the Data Docs when asked."""

from __future__ import annotations

import tempfile
from contextlib import closing
from pathlib import Path

from expectations.context import RESULT_FORMAT, check_of, gx_context, prune_docs, validate_into_docs
from expectations.results import CheckResult
from expectations.suites import load_suites, partition_summary, quoted, split_batches, table_query
from warehouse.backends import file_engine, read_candidate


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
    suites read the table of their name in the run's sources file (written with the
    candidate). ``parameters`` fill the ``{"$PARAMETER": ...}`` values.

    Partitioned suites (``meta.partition_column``) validate in two batches: expectations
    marked ``"meta": {"batch": "partitions"}`` see one row per partition with its
    ``row_count`` (row-count bands, period coverage: the whole table, aggregated in
    DuckDB); the others see the rows, but given ``baseline`` (the published file, audited by
    the same suites) only those of partitions whose content changed since it.

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
    with read_candidate(db_path, baseline) as (conn, against_baseline, sources):
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
            if rows:
                frame, note = _rows(conn, spec, rows, against_baseline)
                checks += validate(spec["name"], frame, rows, label, note)
    if docs_dir is not None:  # once for every result: each build compiles GX's templates
        context.build_data_docs(site_names=["chiso"])
        prune_docs(docs_dir)
    return checks


def _rows(conn, spec: dict, expectations: list[dict], against_baseline: bool):
    """The rows a suite's row-level ``expectations`` check, as a pandas frame, and a note
    saying which partitions they are when not all."""
    meta = spec["meta"]
    part = meta.get("partition_column")
    if meta.get("source"):
        query = f'select * from sources.main."{spec["name"]}"'
    else:
        query = meta.get("query") or table_query(meta["table"], expectations, part)
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
        f"with now as ({fingerprint.format(c=quoted(column), db='', t=table)}), "
        f"before as ({fingerprint.format(c=quoted(column), db='baseline.', t=table)}) "
        "select list(now.part order by now.part), (select count(*) from now) from now "
        "left join before on now.part is not distinct from before.part "
        "where before.part is null or now.n <> before.n or now.h <> before.h"
    ).fetchall()[0]
    return (changed[0] or [], changed[1])


def _table_changed(conn, table: str) -> bool:
    return _changed_partitions(conn, table, "1") != ([], 1)  # "1": one partition, the table


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
