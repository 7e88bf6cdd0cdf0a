"""Reference data that people edit by hand, kept as dbt seeds and read here too.

The seeds in ``dbt_project/seeds/`` are the single source: dbt loads them into the
warehouse, and ingestion reads the same files to know which indicators and targets exist
(the reporting units are :mod:`ingest.registry`'s, built from the seeds and the library).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from warehouse.settings import dbt_project_dir


@dataclass(frozen=True)
class Indicator:
    code: str
    name_vi: str
    name_en: str
    kind: str
    measured_by: str
    unit: str  # percent, count, times, rank, yes_no: how a reported value is read
    min_value: float | None
    max_value: float | None


def read_seed(seed_dir: Path, name: str) -> list[dict[str, str]]:
    """The rows of ``seeds/<name>.csv`` as dictionaries (row 0 is the file's line 2)."""
    with open(seed_dir / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@cache
def _labels(seed_dir: Path) -> dict[str, dict[str, tuple[str, str]]]:
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for row in read_seed(seed_dir, "labels"):
        out.setdefault(row["kind"], {})[row["code"]] = (row["label_vi"], row["label_en"])
    return out


def labels(kind: str) -> dict[str, str]:
    """Vietnamese labels of the codes of one kind (status, pillar, unit_group,
    reporting_status), in the seed's order: ``seeds/labels.csv``, the one place they are
    written."""
    return {code: vi for code, (vi, _) in bilingual_labels(kind).items()}


def bilingual_labels(kind: str) -> dict[str, tuple[str, str]]:
    """:func:`labels` with the English beside each: code -> (Vietnamese, English)."""
    return dict(_labels(dbt_project_dir() / "seeds").get(kind, {}))


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def _indicators(seed_dir: Path) -> dict[str, Indicator]:
    return {
        row["indicator_code"]: Indicator(
            code=row["indicator_code"],
            name_vi=row["name_vi"],
            name_en=row["name_en"],
            kind=row["kind"],
            measured_by=row["measured_by"],
            unit=row["unit"],
            min_value=_float(row["min_value"]),
            max_value=_float(row["max_value"]),
        )
        for row in read_seed(seed_dir, "indicators")
    }


@cache
def _targets(seed_dir: Path) -> tuple[dict[str, str], ...]:
    return tuple(read_seed(seed_dir, "targets"))


def targets() -> tuple[dict[str, str], ...]:
    return _targets(_seed_dir())


def _seed_dir() -> Path:
    return dbt_project_dir() / "seeds"


def indicators() -> dict[str, Indicator]:
    return _indicators(_seed_dir())


def indicators_for_group(group: str, province_code: str) -> list[Indicator]:
    """Indicators units of a group report: those a target sets for the group in the
    province, measured from unit reports; sorted by code."""
    return list(_indicators_for_group(_seed_dir(), group, province_code))


@cache  # asked for every report file read: the targets are scanned once per group
def _indicators_for_group(seed_dir: Path, group: str, province_code: str) -> tuple:
    catalog = _indicators(seed_dir)
    codes = {
        target["indicator_code"]
        for target in _targets(seed_dir)
        if (target["unit_group"], target["province_code"]) == (group, province_code)
    }
    return tuple(
        catalog[code]
        for code in sorted(codes)
        if catalog[code].measured_by in ("unit_report", "both")
    )


def groups_with_targets(province_code: str) -> set[str]:
    return {t["unit_group"] for t in targets() if t["province_code"] == province_code}


def indicator_row(code: str) -> dict[str, str]:
    """The catalog's full row for an indicator (definitions in words)."""
    return _indicator_rows(_seed_dir())[code]


@cache
def _indicator_rows(seed_dir: Path) -> dict[str, dict[str, str]]:
    return {row["indicator_code"]: row for row in read_seed(seed_dir, "indicators")}
