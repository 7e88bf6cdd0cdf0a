"""Writing and reading the raw schema: typed copies of landed inputs, each row carrying its
lineage (the tables themselves: warehouse/raw_schema.py).

Raw tables are append-only per file: a file (identified by its sha256) is loaded once, in
one transaction, so a retried or re-run ingest never duplicates rows.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from warehouse import raw_schema

# which submission counts when a unit sends a month's report more than once: written once,
# as this dbt macro (staging renders it on its source); Python's readers render the same
# file with Jinja alone (submissions_query), so both read one rule
SUBMISSIONS_MACRO = Path("macros") / "unit_report_submissions.sql"


def insert_rows(conn, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Append ``rows`` (tuples in ``columns`` order) to ``table`` in the caller's
    transaction: a COPY on PostgreSQL, a scan of a data frame on DuckDB."""
    if not rows:
        return
    if hasattr(conn, "insert_rows"):  # PostgreSQL (warehouse.backends.postgres.PgConnection)
        conn.insert_rows(table, columns, rows)
        return
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns, dtype=object)  # noqa: F841 (read by SQL)
    names = ", ".join(f'"{column}"' for column in columns)
    conn.execute(f"insert into {table} ({names}) select {names} from frame")


def table_columns(conn, schema: str, table: str) -> list[str]:
    """A table's columns in order, on either engine."""
    return [
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]


def ensure_raw_schema(conn) -> None:
    conn.execute(raw_schema.UNIT_FILES)


QUARANTINE_COLUMNS = [
    "quarantine_path",
    "file_sha256",
    "source_file_name",
    "unit_code",
    "period",
    "received_at",
    "error_count",
    "first_error_vi",
    "first_error_en",
]


def load_rejections(conn, quarantine_root: Path) -> int:
    """Record every quarantine folder (its errors.json) in raw.unit_report_quarantine; the
    folders are the truth, so a crash between the two loses nothing."""
    import json

    known = {
        row[0]
        for row in conn.execute("select quarantine_path from raw.unit_report_quarantine").fetchall()
    }
    rows = []
    for report_path in sorted(quarantine_root.glob("*/errors.json")):
        # relative to the quarantine area, so a data directory moved or copied elsewhere
        # keeps its keys (and its rejections are not counted twice)
        folder = str(report_path.parent.relative_to(quarantine_root.parent))
        if folder in known:
            continue
        report = json.loads(report_path.read_text(encoding="utf-8"))
        first = (report["errors"] or [{}])[0]
        rows.append(
            (
                folder,
                report["sha256"],
                report["file"],
                report.get("unit_code"),
                report.get("period"),
                report.get("received_at"),
                len(report["errors"]),
                first.get("vi"),
                first.get("en"),
            )
        )
    # one insert of them all: a statement per row took 1.6 ms a rejection on DuckDB
    insert_rows(conn, "raw.unit_report_quarantine", QUARANTINE_COLUMNS, rows)
    return len(rows)


# the monthly figures a run can be about: what they are -> (raw table, which rows)
MONTHLY_SOURCES = {
    "unit report files": ("unit_report_files", "true"),
    "index-766 scores": ("portal_766_scores", "period_kind = 'month'"),
}


def figures_in_month(conn, period: str) -> dict[str, int]:
    """How many rows each monthly source holds for a month (0 where a table is missing)."""
    counts = {}
    for source, (table, rows) in MONTHLY_SOURCES.items():
        counts[source] = (
            conn.execute(
                f"select count(*) from raw.{table} where {rows} and period = ?", [period]
            ).fetchone()[0]
            if table_columns(conn, "raw", table)
            else 0
        )
    return counts


def latest_month_with_figures(conn) -> str | None:
    """The latest month any monthly source has figures for."""
    months = [
        conn.execute(f"select max(period) from raw.{table} where {rows}").fetchone()[0]
        for table, rows in MONTHLY_SOURCES.values()
        if table_columns(conn, "raw", table)
    ]
    return max((month for month in months if month), default=None)


@cache
def submissions_query(dbt_project_dir: Path, values: str = "raw.unit_report_values") -> str:
    """A query of every figure in ``values`` with its file's ``submission_count`` and
    ``submission_rank`` (1: the file that counts), from dbt's macro."""
    import jinja2

    text = (dbt_project_dir / SUBMISSIONS_MACRO).read_text(encoding="utf-8")
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text)
    return str(template.module.unit_report_submissions(values)).strip()
