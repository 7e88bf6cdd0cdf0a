"""The indicator catalog and the targets, as people edit them: checked row by row.

The catalog lives in three dbt seeds (``dbt_project/seeds``): ``indicators.csv`` (one row
per indicator concept), ``documents.csv`` (the plans and directives) and ``targets.csv``
(one row per target, with the sentence it comes from). dbt tests check them too, but a
person who mistyped a code needs the file and line: :func:`validate` says exactly that,
and the build stage runs it before dbt.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from warehouse.errors import ChisoError
from warehouse.reference import read_seed

PILLARS = {"chinh_quyen_so", "kinh_te_so", "xa_hoi_so", "cua_khau_so"}
KINDS = {"ratio", "count", "multiple", "growth_rate", "rank", "yes_no"}
DIRECTIONS = {"increase", "decrease"}
MEASURED_BY = {"unit_report", "portal", "both", "statistics", "dti"}
LEVELS = {
    "province",
    "department",
    "district",
    "commune",
    "school",
    "health_facility",
    "household",
    "population",
    "enterprise",
}
UNIT_GROUPS = {
    "province",
    "department",
    "district",
    "commune",
    "school",
    "health_facility",
    "enterprise",
}
# what a target can measure that is no reporting unit: a province indicator, reported by
# the department the target names
POPULATIONS = {"household", "population", "enterprise"}
COMPARATORS = {">=", ">", "=", "<=", "<", "between"}
TEXT_STATUSES = {"clean", "ocr", "damaged", "ambiguous"}
DOCUMENT_KINDS = {"chi_thi", "ke_hoach", "cong_van", "nghi_quyet", "phat_dong_thi_dua"}
TEXT_QUALITIES = {"clean", "ocr", "damaged"}


class CatalogError(ChisoError, ValueError):
    """The catalog has rows that must be fixed; the message lists each one by line."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line} ({self.key}): {self.message}"


def _number(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


def _check_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
        return True
    except ValueError:
        return False


def validate(seed_dir: Path) -> list[Problem]:
    """Every problem in the catalog seeds; an empty list means they are consistent."""
    problems: list[Problem] = []
    tables = {
        "indicators": ("indicator_code", read_seed(seed_dir, "indicators")),
        "documents": ("document_id", read_seed(seed_dir, "documents")),
        "targets": ("target_id", read_seed(seed_dir, "targets")),
    }

    def add(table: str, index: int, row: dict, message: str) -> None:
        key_column = tables[table][0]
        problems.append(Problem(f"{table}.csv", index + 2, row.get(key_column) or "?", message))

    for table, (key_column, rows) in tables.items():
        counts = Counter(row[key_column] for row in rows)
        for index, row in enumerate(rows):
            if not re.fullmatch(r"[a-z0-9_]+", row[key_column] or ""):
                add(table, index, row, f"{key_column} must be snake_case, got {row[key_column]!r}")
            if counts[row[key_column]] > 1:
                add(table, index, row, f"duplicate {key_column} {row[key_column]!r}")

    allowed = {
        "indicators": {
            "pillar": PILLARS,
            "kind": KINDS,
            "direction": DIRECTIONS,
            "measured_by": MEASURED_BY,
            "measured_at": LEVELS,
        },
        "documents": {"document_kind": DOCUMENT_KINDS, "text_quality": TEXT_QUALITIES},
        "targets": {
            "unit_group": UNIT_GROUPS,
            "comparator": COMPARATORS,
            "text_status": TEXT_STATUSES,
        },
    }
    for table, columns in allowed.items():
        for index, row in enumerate(tables[table][1]):
            for column, values in columns.items():
                if row[column] not in values:
                    add(
                        table,
                        index,
                        row,
                        f"{column} {row[column]!r} is not one of {', '.join(sorted(values))}",
                    )

    indicators = {row["indicator_code"]: row for row in tables["indicators"][1]}
    documents = {row["document_id"]: row for row in tables["documents"][1]}
    for index, row in enumerate(tables["indicators"][1]):
        if row["method_break_on"] and not _check_date(row["method_break_on"]):
            add(
                "indicators",
                index,
                row,
                f"method_break_on {row['method_break_on']!r} is not YYYY-MM-DD",
            )
        low, high = _number(row["min_value"]), _number(row["max_value"])
        if low is not None and high is not None and low >= high:
            add("indicators", index, row, f"min_value {low:g} is not below max_value {high:g}")
    for index, row in enumerate(tables["documents"][1]):
        if row["issued_on"] and not _check_date(row["issued_on"]):
            add("documents", index, row, f"issued_on {row['issued_on']!r} is not YYYY-MM-DD")
    departments_of: dict[str, set[str]] = {}
    for department in read_seed(seed_dir, "departments"):
        departments_of.setdefault(department["province_code"], set()).add(
            department["department_code"]
        )
    for index, row in enumerate(tables["targets"][1]):
        indicator = indicators.get(row["indicator_code"])
        document = documents.get(row["document_id"])
        if indicator is None:
            add(
                "targets",
                index,
                row,
                f"indicator {row['indicator_code']!r} is not in indicators.csv",
            )
        if document is None:
            add("targets", index, row, f"document {row['document_id']!r} is not in documents.csv")
        elif row["province_code"] != document["province_code"]:
            add(
                "targets",
                index,
                row,
                f"province_code {row['province_code']!r} differs from its document's "
                f"{document['province_code']!r}",
            )
        if not _check_date(row["deadline_on"]):
            add("targets", index, row, f"deadline_on {row['deadline_on']!r} is not YYYY-MM-DD")
        if not row["quote_vi"].strip():
            add("targets", index, row, "quote_vi is empty: every target needs its sentence")
        departments = departments_of.get(row["province_code"], set())
        on_population = indicator is not None and indicator["measured_at"] in POPULATIONS
        if row["responsible_unit"] and row["responsible_unit"] not in departments:
            add(
                "targets",
                index,
                row,
                f"responsible_unit {row['responsible_unit']!r} is not a department of province "
                f"{row['province_code']} in departments.csv",
            )
        elif row["unit_group"] == "province" and on_population and not row["responsible_unit"]:
            add(
                "targets",
                index,
                row,
                "a province target on a population needs its responsible_unit (the department "
                "that reports it)",
            )
        value, value_max = _number(row["target_value"]), _number(row["target_value_max"])
        if value is None:
            add("targets", index, row, f"target_value {row['target_value']!r} is not a number")
            continue
        if row["comparator"] == "between":
            if value_max is None or value >= value_max:
                add(
                    "targets",
                    index,
                    row,
                    "a 'between' target needs target_value < target_value_max",
                )
        elif row["target_value_max"].strip():
            add("targets", index, row, "target_value_max is only for comparator 'between'")
        if indicator is not None:
            low, high = _number(indicator["min_value"]), _number(indicator["max_value"])
            for number in (value, value_max):
                if number is not None and (
                    (low is not None and number < low) or (high is not None and number > high)
                ):
                    add(
                        "targets",
                        index,
                        row,
                        f"{number:g} is outside the indicator's limits "
                        f"[{indicator['min_value']}, {indicator['max_value']}]",
                    )
    return problems


def check(seed_dir: Path) -> None:
    """Raise :class:`CatalogError` listing every problem, if there is any."""
    problems = validate(seed_dir)
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        raise CatalogError(f"the catalog in {seed_dir} has {len(problems)} problem(s):\n{lines}")


def summary(seed_dir: Path) -> str:
    """Counts of indicators and targets, per document and per unit group."""
    indicators = read_seed(seed_dir, "indicators")
    documents = {row["document_id"]: row for row in read_seed(seed_dir, "documents")}
    targets = read_seed(seed_dir, "targets")
    lines = [f"{len(indicators)} indicators, {len(targets)} targets, {len(documents)} documents"]
    lines.append("\nIndicators per pillar:")
    for pillar, count in sorted(Counter(row["pillar"] for row in indicators).items()):
        lines.append(f"  {pillar:<22} {count:>4}")
    lines.append("\nTargets per document:")
    per_document = Counter(row["document_id"] for row in targets)
    for document_id, document in documents.items():
        label = document["document_no"] or "(no number)"
        lines.append(
            f"  {document_id:<24} {label:<12} {document['issued_on'] or '(no date)':<10} "
            f"{per_document.get(document_id, 0):>4}"
        )
    for title, column in (
        ("unit group", "unit_group"),
        ("deadline", "deadline_on"),
        ("text status", "text_status"),
    ):
        lines.append(f"\nTargets per {title}:")
        for value, count in sorted(Counter(row[column] for row in targets).items()):
            lines.append(f"  {value:<22} {count:>4}")
    return "\n".join(lines)
