"""The Great Expectations suites (expectations/suites/*.json) and what they are run with:
their versions, the raw rows the source suites read, the parameters they refer to, and the
queries of their batches."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

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
