"""The Great Expectations suites (expectations/suites/*.json) and what they are run with:
their versions, the raw rows the source suites read, the parameters they refer to, and the
queries of their batches."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from warehouse.backends.base import sql_string
from warehouse.periods import months

SUITES_DIR = Path(__file__).resolve().parent / "suites"


NEVER_EMPTY = ("indicator_observations", "target_progress")  # a publication has figures


def load_suites(suites_dir: Path = SUITES_DIR) -> list[dict]:
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted(suites_dir.glob("*.json"))
    ]


def suite_versions(suites_dir: Path = SUITES_DIR) -> dict[str, str]:
    """A short hash of each suite file: a publication records the suites that passed it."""
    import hashlib

    return {
        path.stem: hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted(suites_dir.glob("*.json"))
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


def split_batches(spec: dict) -> tuple[list[dict], list[dict]]:
    """A suite's expectations on its partition summary, and those on its rows."""
    expectations = spec["expectations"]
    whole = [e for e in expectations if e.get("meta", {}).get("batch") == "partitions"]
    return whole, [e for e in expectations if e not in whole]


def partition_summary(meta: dict) -> str:
    part = meta["partition_column"]
    return meta.get("partition_summary") or (
        f'select "{part}", count(*) as row_count from "{meta["table"]}" group by "{part}"'
    )


def quoted(column: str) -> str:
    return column if column.isdigit() else f'"{column}"'


def changed_partitions_query(
    row_hash: str, candidate: str, baseline: str, table: str, column: str
) -> str:
    """The ``column`` values (partitions) of ``table`` whose rows in the candidate differ
    from the baseline's, each with its row count in the candidate, in order: a partition
    whose row count and sum of ``row_hash`` (the engine's hash of a row ``t``: the
    backend's ``row_hash``) are the baseline's holds the rows the baseline's gate passed.
    ``candidate`` and ``baseline`` prefix the table's name (``baseline.main.``,
    ``"published".``)."""
    fingerprint = 'select {c} as part, count(*) as n, sum({h}) as h from {s}"{t}" as t group by 1'
    now = fingerprint.format(c=quoted(column), h=row_hash, s=candidate, t=table)
    before = fingerprint.format(c=quoted(column), h=row_hash, s=baseline, t=table)
    return (
        f"with now as ({now}), before as ({before}) select now.part, now.n from now "
        "left join before on now.part is not distinct from before.part "
        "where before.part is null or now.n <> before.n or now.h <> before.h order by 1"
    )


def partition_counts_query(prefix: str, table: str, column: str) -> str:
    """Every partition of ``table`` with its row count, in order."""
    return f'select {quoted(column)}, count(*) from {prefix}"{table}" group by 1 order by 1'


def partitions_to_check(
    meta: dict, fetch, columns_match, row_hash: str, candidate: str, baseline: str | None
) -> tuple[list[tuple], int, bool]:
    """Which partitions of a partitioned suite's table the gate checks row by row: every
    one, or given ``baseline`` (the last publication, which passed the same suites) only
    those whose rows changed since it, unless the table's columns or a table the rows'
    query joins (``meta.partition_depends_on``) changed. Returns (the partitions with their
    row counts, how many the table has, whether only the changed ones). ``fetch`` runs a
    query and returns its rows; ``columns_match(table)`` says whether the table has the
    same columns in the candidate and the baseline; ``row_hash``: see
    :func:`changed_partitions_query`."""
    part, table = meta["partition_column"], meta["table"]
    every = [tuple(row) for row in fetch(partition_counts_query(candidate, table, part))]
    if baseline is None or not columns_match(table):
        return every, len(every), False
    for joined in meta.get("partition_depends_on", []):
        if not columns_match(joined) or fetch(
            changed_partitions_query(row_hash, candidate, baseline, joined, "1")
        ):
            return every, len(every), False
    changed = fetch(changed_partitions_query(row_hash, candidate, baseline, table, part))
    return [tuple(row) for row in changed], len(every), True


def rows_note(part: str, checked: list, total: int, only_changed: bool, batches: int) -> str:
    """What a partitioned suite's row checks saw, for each check's detail."""
    values = [str(value) for value, _ in checked]
    shown = ", ".join(values) if len(values) <= 12 else f"{values[0]} to {values[-1]}"
    in_batches = f", in {batches} batches of whole {part} values" if batches > 1 else ""
    if not only_changed:
        return f" (every {part}{in_batches})" if in_batches else ""
    return (
        f" (rows of the {len(values)} of {total} {part} values changed since the last "
        f"publication, which passed these checks{': ' + shown if values else ''}{in_batches})"
    )


def in_partitions(query: str, part: str, values: list) -> str:
    """``query`` cut to the rows of the partitions ``values``."""
    listed = ", ".join(sql_string(str(value)) for value in values if value is not None)
    where = [f'"{part}" in ({listed})'] if listed else []
    where += [f'"{part}" is null'] if None in values else []
    return f"select * from ({query}) as checked where {' or '.join(where) or 'false'}"


def month_batches(counts: list[tuple], cap: int) -> list[list]:
    """Partitions (with their row counts, in order) grouped into batches of at most ``cap``
    rows, a partition never split (a month larger than ``cap`` is a batch of its own):
    memory bounded by the largest month. At least one batch, empty when no partition."""
    batches: list[list] = []
    current: list = []
    rows = 0
    for value, count in counts:
        if current and rows + count > cap:
            batches.append(current)
            current, rows = [], 0
        current.append(value)
        rows += count
    return [*batches, current] if current or not batches else batches


def table_query(table: str, expectations: list[dict], partition: str | None = None) -> str:
    """Only the columns the expectations read (the row count is the same): loading every
    column of a large mart into pandas is most of the gate's cost."""
    columns = {partition} if partition else set()
    for expectation in expectations:
        kwargs = expectation["kwargs"]
        columns.update(kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs)
        columns.update(kwargs.get("column_list", []))
    selected = ", ".join(f'"{column}"' for column in sorted(columns)) or "1 as row_marker"
    return f'select {selected} from main."{table}"'
