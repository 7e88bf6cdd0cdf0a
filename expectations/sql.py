"""The suites in the warehouse itself, through Great Expectations' SQL path: every metric
is a query in the database, nothing is loaded into Python."""

from __future__ import annotations

from expectations.context import RESULT_FORMAT, check_of, gx_context, sum_over_no_rows_is_zero
from expectations.results import CheckResult
from expectations.suites import (
    in_partitions,
    partition_summary,
    partitions_to_check,
    rows_note,
    split_batches,
)
from warehouse.backends.base import SOURCE_PREFIX, sql_string


def run_suites_sql(
    connection_string: str,
    suites: list[dict],
    parameters: dict,
    schema: str = "marts",
    baseline: str | None = None,
    fetch=None,
    row_hash: str = "",
) -> list[CheckResult]:
    """The suites on PostgreSQL through Great Expectations' SQL path: every metric is a query
    in the database, nothing is loaded into Python. Marts are read in ``schema`` (the
    candidate, not yet published), raw sources in its ``_source__<suite>`` tables (the rows
    loaded since the last publication, cut when the candidate was written). Given
    ``baseline`` (the published schema, which passed the same suites), ``fetch`` (runs a
    query, returns its rows) and the backend's ``row_hash``, a partitioned suite's row
    checks read only the months whose rows changed since it, as on the pandas path
    (expectations/frames.py).
    ``connection_string`` may hold ``${VARIABLE}`` references, which Great
    Expectations fills from the environment: the password never sits in its configuration.
    """
    if baseline and not (fetch and row_hash):
        raise ValueError("comparing with a baseline needs fetch and the backend's row_hash")
    gx, context = gx_context()
    source = context.data_sources.add_postgres(
        "chiso_warehouse",
        connection_string=f"{connection_string}?options=-csearch_path%3D{schema}",
        create_temp_table=False,
    )
    checks: list[CheckResult] = []

    def query_asset(name: str, query: str):  # GX takes a query only if it starts with select
        return source.add_query_asset(name, query=f"select * from ({query}) as checked")

    def validate(name: str, asset, expectations: list[dict], label: str, note: str = "") -> None:
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        batch = asset.add_batch_definition_whole_table("all").get_batch()
        result = batch.validate(
            suite, result_format=RESULT_FORMAT, expectation_parameters=parameters
        )
        checks.extend(
            sum_over_no_rows_is_zero(check_of(outcome, label, note), outcome, parameters)
            for outcome in result.results
        )

    for spec in suites:
        meta, name = spec["meta"], spec["name"]
        whole, rows = split_batches(spec)
        if meta.get("source"):
            query = f'select * from "{schema}"."{SOURCE_PREFIX}{name}"'
            validate(name, query_asset(name, query), rows, f"raw.{meta['source']}")
            continue
        label = meta.get("table") or name
        if whole:
            summary = query_asset(f"{name}.partitions", partition_summary(meta))
            validate(f"{name}.partitions", summary, whole, label)
        if rows and meta.get("partition_column") and baseline:
            part = meta["partition_column"]
            checked, total, only_changed = partitions_to_check(
                meta,
                fetch,
                lambda table: _same_columns(fetch, schema, baseline, table),
                row_hash,
                f'"{schema}".',
                f'"{baseline}".',
            )
            query = in_partitions(
                meta.get("query") or f'select * from "{meta["table"]}"',
                part,
                [value for value, _ in checked],
            )
            note = rows_note(part, checked, total, only_changed, 1)
            validate(name, query_asset(name, query), rows, label, note)
        elif rows and "query" in meta:
            validate(name, query_asset(name, meta["query"]), rows, label)
        elif rows:
            table = source.add_table_asset(name, table_name=meta["table"], schema_name=schema)
            validate(name, table, rows, label)
    return checks


def _same_columns(fetch, schema: str, baseline: str, table: str) -> bool:
    """Whether ``table`` has the same columns in the candidate's schema and the baseline's
    (not when it is new there)."""
    columns = (
        "select column_name, data_type from information_schema.columns where "
        "table_schema = {} and table_name = {} order by ordinal_position"
    )
    theirs = fetch(columns.format(sql_string(baseline), sql_string(table)))
    return bool(theirs) and fetch(columns.format(sql_string(schema), sql_string(table))) == theirs
